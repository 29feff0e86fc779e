//! Seed 001 on a lab of five nodes with Docker, as `tests/it/seed_nuvla.rs` applies it
//! and `benches/seed_nuvla.rs` times it: the shipped config repo with the lab's `staging`,
//! stand-in images and stand-ins for the programs the lab does not run (`exportfs`,
//! `systemctl`, as in seed_hosts.rs).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::lab::Lab;
use super::{run_successfully, write_file};
use crate::test_repo::project_root;

/// The programs the lab stands in for seed 001 (see `Lab::install_stand_in_programs`).
pub const STAND_IN_PROGRAMS: &[&str] = &["exportfs", "systemctl"];

/// The `offline` environment's stand-in images, which the lab's staging uses.
pub const STAND_INS: &[&str] = &[
    "shoal-standin/traefik:v3.3",
    "shoal-standin/prometheus:v2.53.4",
    "shoal-standin/grafana:11.5.2",
    "shoal-standin/node-exporter:v0.16.0",
    "shoal-standin/cadvisor:v0.49.1",
    "shoal-standin/minio:RELEASE.2025-04-22T22-12-26Z",
];

/// Writes the shipped config repo into `to`, its `staging` environment replaced by the
/// lab's: managers nodes 1 to 3, workers 4 and 5, node 4 the NFS server, whose share is
/// `share`.
pub fn write_config_repo(lab: &Lab, share: &Path, to: &Path) {
    let root = project_root();
    let listed = run_successfully(
        Command::new("git")
            .args([
                "ls-files",
                "shoal.yml",
                "workflows",
                "stacks",
                "hosts",
                "pki",
            ])
            .current_dir(&root),
        Duration::from_secs(30),
    );
    for path in listed.lines() {
        let text = std::fs::read_to_string(root.join(path)).expect("a shipped file");
        write_file(to, path, &text);
    }
    let shipped = std::fs::read_to_string(root.join("shoal.yml")).expect("shoal.yml");
    let start = shipped
        .find("\n  staging:\n")
        .expect("shoal.yml has a staging environment");
    let end = shipped
        .find("\n  prod:\n")
        .expect("and a prod one after it");
    // The comment before `prod` goes with it.
    let end = shipped[..end].rfind("\n\n").map_or(end, |blank| blank + 1);
    let shoal_yml = format!(
        "{}\n{}{}",
        &shipped[..start],
        lab_staging(lab, share),
        &shipped[end..]
    );
    write_file(to, "shoal.yml", &shoal_yml);
    // The lab's staging signs with the throwaway CA of `local` (its key is in
    // `local`'s secrets, which the lab's staging uses).
    let local_ca = std::fs::read_to_string(root.join("pki/local/ca.pem")).expect("local's CA");
    write_file(to, "pki/staging/ca.pem", &local_ca);
}

fn lab_staging(lab: &Lab, share: &Path) -> String {
    let folder = lab.folder().display();
    format!(
        "  staging:
    docker:
      host: \"{docker}\"
      node_host: \"unix://{folder}/{{{{ host.name }}}}/docker.sock\"
    ssh:
      user: root
      identity: \"{key}\"
      known_hosts: \"{known_hosts}\"
      connect_timeout: 3s
    hosts:
      managers: [{managers}]
      workers: [{workers}]
      nfs: [{nfs}]
    vars:
      domain: staging.example.org
      tls_mode: self-signed
      traefik_dashboard: true
      firewall:
        management: [{lab_host}]
        nuvla: [192.0.2.200]
        users: [any]
      placement:
        minio: [\"node.labels.nfs-server == true\"]
      nfs_share: {share}
      minio_data_path: {share}
      healthchecks: false
      resources: *local_resources
      docker_socket: {folder}/node1/docker.sock
      docker_data_root: {folder}
      images:
        traefik: \"{traefik}\"
        prometheus: \"{prometheus}\"
        grafana: \"{grafana}\"
        node_exporter: \"{node_exporter}\"
        cadvisor: \"{cadvisor}\"
        minio: \"{minio}\"
    secrets: *local_secrets
",
        docker = lab.docker_socket(1),
        key = lab.key.display(),
        known_hosts = lab.known_hosts.display(),
        managers = lab.hosts(1..=3),
        workers = lab.hosts(4..=5),
        nfs = lab.hosts([4]),
        lab_host = lab.host_address(),
        share = share.display(),
        traefik = STAND_INS[0],
        prometheus = STAND_INS[1],
        grafana = STAND_INS[2],
        node_exporter = STAND_INS[3],
        cadvisor = STAND_INS[4],
        minio = STAND_INS[5],
    )
}
