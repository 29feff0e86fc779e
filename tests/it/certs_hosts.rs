//! A `certs` step's `to_hosts` against the lab's real nodes over SSH, with openssl as the
//! oracle: `apply` writes `ca.pem`, `cert.pem` and `key.pem` on each node with their mode
//! and owner, the certificate verifies against the CA and names the node's address, the
//! `on_change` command runs once, and a second apply changes nothing. The nodes share
//! this machine's filesystem, so each writes under a folder of its own in the test's.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::lab::Lab;
use crate::support::{PrivateSwarm, run_successfully};
use crate::test_repo::{Run, TestRepo, shoal};

const OPENSSL_TIMEOUT: Duration = Duration::from_secs(30);

const WORKFLOW: &str = "
    steps:
      - id: tls
        certs:
          ca: { cert: pki/ca.pem, key_secret: ca_key }
          certificates:
            - name: dockerd
              usage: server
              sans: [manager.example.org]
              to_hosts:
                hosts: [nodes]
                dir: \"{{ vars.dir }}/{{ host.address }}\"
                owner: root
                mode: \"0640\"
                on_change: [\"echo restarted >> {{ vars.dir }}/{{ host.address }}/restarted\"]
    ";

/// A CA made by `shoal ca create` under `folder`: (certificate, key).
fn shoal_ca(folder: &Path) -> (String, String) {
    let out = folder.join("ca");
    let made = Run::from(
        shoal()
            .args(["ca", "create", "--common-name", "lab CA", "--out"])
            .arg(&out)
            .output()
            .expect("shoal runs"),
    );
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    (
        std::fs::read_to_string(out.join("ca.pem")).expect("ca.pem"),
        std::fs::read_to_string(out.join("ca-key.pem")).expect("ca-key.pem"),
    )
}

/// A repo whose `lab` environment logs in to the lab's nodes as root, with `dir` as
/// `vars.dir`.
fn lab_repo(lab: &Lab, dir: &Path, ca: &(String, String)) -> TestRepo {
    let nodes: Vec<String> = lab.nodes.iter().map(|node| format!("\"{node}\"")).collect();
    TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "
                environments:
                  lab:
                    docker: {{ host: \"{docker}\" }}
                    ssh:
                      user: root
                      identity: \"{key}\"
                      known_hosts: \"{known_hosts}\"
                      connect_timeout: 15s
                    hosts:
                      nodes: [{nodes}]
                    vars: {{ dir: \"{dir}\" }}
                    secrets: {{ ca_key: {{ env: TEST_CERTS_HOSTS_CA_KEY }} }}
                ",
                docker = PrivateSwarm::shared().docker_host(),
                key = lab.key.display(),
                known_hosts = lab.known_hosts.display(),
                nodes = nodes.join(", "),
                dir = dir.display(),
            ),
        )
        .file("pki/ca.pem", &ca.0)
        .file("workflows/tls.yml", WORKFLOW)
        .env("TEST_CERTS_HOSTS_CA_KEY", &ca.1)
}

fn openssl(folder: &Path, args: &[&str]) -> String {
    run_successfully(
        Command::new("openssl").args(args).current_dir(folder),
        OPENSSL_TIMEOUT,
    )
}

#[test]
fn to_hosts_writes_a_certificate_per_node_that_openssl_verifies_and_a_second_apply_changes_nothing()
{
    let lab = Lab::start(2);
    let dir = tempfile::tempdir().expect("a folder");
    for node in &lab.nodes {
        std::fs::create_dir(dir.path().join(node)).expect("a host's folder");
    }
    let ca = shoal_ca(dir.path());
    let repo = lab_repo(&lab, dir.path(), &ca);

    let plan = repo.run(&["plan", "--env", "lab"]);
    assert_eq!(
        plan.code, 2,
        "changes planned: {}{}",
        plan.stdout, plan.stderr
    );
    for node in &lab.nodes {
        assert!(
            plan.stdout
                .contains(&format!("+ certificate dockerd@{node}: missing")),
            "{}",
            plan.stdout
        );
    }
    assert!(
        plan.stdout.contains("content: (sensitive)"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("PRIVATE KEY"), "{}", plan.stdout);

    let apply = repo.run(&["apply", "--env", "lab"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        !apply.stdout.contains("PRIVATE KEY") && !apply.stderr.contains("PRIVATE KEY"),
        "{}{}",
        apply.stdout,
        apply.stderr
    );
    for node in &lab.nodes {
        let folder = dir.path().join(node);
        for file in ["ca.pem", "cert.pem", "key.pem"] {
            let metadata = std::fs::metadata(folder.join(file)).expect("written");
            assert_eq!(metadata.permissions().mode() & 0o7777, 0o640, "{file}");
            assert_eq!(metadata.uid(), 0, "{file}");
        }
        assert_eq!(
            std::fs::read_to_string(folder.join("ca.pem")).expect("ca.pem"),
            ca.0
        );
        let verified = openssl(&folder, &["verify", "-CAfile", "ca.pem", "cert.pem"]);
        assert_eq!(verified.trim(), "cert.pem: OK");
        let sans = openssl(
            &folder,
            &[
                "x509",
                "-in",
                "cert.pem",
                "-noout",
                "-ext",
                "subjectAltName",
            ],
        );
        assert!(sans.contains(&format!("IP Address:{node}")), "{sans}");
        assert!(sans.contains("DNS:manager.example.org"), "{sans}");
        let from_key = openssl(&folder, &["pkey", "-in", "key.pem", "-pubout"]);
        let from_cert = openssl(&folder, &["x509", "-in", "cert.pem", "-noout", "-pubkey"]);
        assert_eq!(from_key, from_cert, "key.pem is cert.pem's key");
        assert_eq!(
            std::fs::read_to_string(folder.join("restarted")).expect("on_change ran"),
            "restarted\n"
        );
    }
    let written: Vec<Vec<u8>> = lab
        .nodes
        .iter()
        .map(|node| std::fs::read(dir.path().join(node).join("cert.pem")).expect("cert.pem"))
        .collect();

    let again = repo.run(&["plan", "--env", "lab"]);
    assert_eq!(
        again.code, 0,
        "no changes: {}{}",
        again.stdout, again.stderr
    );
    for node in &lab.nodes {
        assert!(
            again
                .stdout
                .contains(&format!("= certificate dockerd@{node} valid until ")),
            "{}",
            again.stdout
        );
    }
    let second = repo.run(&["apply", "--env", "lab"]);
    assert_eq!(second.code, 0, "{}{}", second.stdout, second.stderr);
    for (node, before) in lab.nodes.iter().zip(&written) {
        let folder = dir.path().join(node);
        assert_eq!(
            &std::fs::read(folder.join("cert.pem")).expect("cert.pem"),
            before
        );
        assert_eq!(
            std::fs::read_to_string(folder.join("restarted")).expect("on_change ran"),
            "restarted\n",
            "on_change ran once"
        );
    }
}
