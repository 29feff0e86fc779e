//! Certificates that go to hosts, against hosts in memory: issued once, kept while
//! valid, renewed within `renew_before` or when another CA signed them; the key never
//! shown.

use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;

use super::*;
use crate::apply::{ApplyObserver, CancelSignal, CollectedEvents};
use crate::hosts::{FakeHosts, HostTarget};
use crate::steps::ssh::{HostPlan, HostsOutcome, RenderedHost, apply_hosts};

const DAY: Duration = Duration::from_secs(24 * 3600);
const HOSTS: [&str; 2] = ["10.0.0.1", "10.0.0.2"];
const DIR: &str = "/etc/docker/tls";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("a valid time")
}

fn new_ca() -> NewCertificateAuthority {
    CertificateAuthority::create("test CA", 3650 * DAY, now()).expect("a CA")
}

/// `dockerd`, a server certificate for each of [`HOSTS`] in [`DIR`].
fn desired(ca: &NewCertificateAuthority) -> DesiredCerts {
    let target = HostsTarget {
        hosts: vec!["managers".to_owned()],
        dir: DIR.to_owned(),
        owner: Some("root".to_owned()),
        mode: 0o600,
        on_change: vec!["systemctl restart docker".to_owned()],
    };
    let request = CertificateRequest {
        name: "dockerd".to_owned(),
        common_name: "dockerd".to_owned(),
        sans: vec!["manager.example.org".to_owned()],
        usage: CertificateUsage {
            server: true,
            client: false,
        },
        validity: 365 * DAY,
    };
    let hosts = HOSTS
        .iter()
        .enumerate()
        .map(|(index, address)| {
            let mut host_target =
                HostTarget::parse(&format!("root@{address}"), "", 22).expect("an address");
            host_target.name = format!("node{}", index + 1);
            let host = RenderedHost {
                target: host_target,
                group: "managers".to_owned(),
                index,
                files: Vec::new(),
                commands: Vec::new(),
                on_change: target.on_change.clone(),
            };
            HostCertificate::new(host, request.clone(), DIR.to_owned(), &target)
        })
        .collect();
    DesiredCerts {
        ca_cert_path: "pki/ca.pem".to_owned(),
        ca_cert_pem: ca.certificate_pem.clone(),
        key_secret: "ca_key".to_owned(),
        ca_key: ca.key_pem.clone(),
        force: false,
        certificates: vec![DesiredCertificate {
            request,
            renew_before: 30 * DAY,
            secrets: Vec::new(),
            hosts,
        }],
        labels: Default::default(),
        problems: Vec::new(),
        outcomes: Vec::new(),
        host_files: None,
        host_expiries: Vec::new(),
    }
}

/// Settles against `fake` at `at`: the certs with their files, and what the plan says.
async fn settle_at(
    certs: &DesiredCerts,
    fake: &FakeHosts,
    at: OffsetDateTime,
) -> (DesiredCerts, SettledHosts) {
    let mut certs = certs.clone();
    let settled = settle_hosts(&mut certs, fake, at, &Default::default()).await;
    assert_eq!(settled.problems, Vec::<String>::new());
    (certs, settled)
}

fn plan_text(plans: &[HostPlan]) -> String {
    let mut out = String::new();
    for plan in plans {
        plan.write_text(&mut out);
    }
    out
}

async fn apply(fake: &FakeHosts, certs: &DesiredCerts) -> HostsOutcome {
    let mut events = CollectedEvents::default();
    let observer: &mut dyn ApplyObserver = &mut events;
    let observer = Mutex::new(observer);
    let hosts = certs
        .host_files
        .as_ref()
        .expect("settled against the hosts");
    apply_hosts(fake, hosts, &observer, &CancelSignal::never())
        .await
        .expect("applied")
}

fn file(fake: &FakeHosts, address: &str, name: &str) -> String {
    fake.host(address, |host| host.text(&format!("{DIR}/{name}")))
        .unwrap_or_else(|| panic!("{address} has {name}"))
}

fn sans_of(pem: &str) -> String {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("PEM");
    let certificate = block.parse_x509().expect("a certificate");
    let extension = certificate
        .subject_alternative_name()
        .expect("valid SANs")
        .expect("SANs");
    extension
        .value
        .general_names
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn a_certificate_per_host_is_issued_once_and_then_kept() {
    let ca = new_ca();
    let certs = desired(&ca);
    let fake = FakeHosts::with(&HOSTS);

    let (issued, settled) = settle_at(&certs, &fake, now()).await;
    assert_eq!(
        settled.notes,
        [
            "+ certificate dockerd@10.0.0.1: missing",
            "+ certificate dockerd@10.0.0.2: missing"
        ]
    );
    let text = plan_text(&settled.plans);
    assert_eq!(
        text.lines().take(7).collect::<Vec<_>>(),
        [
            "    ~ host node1",
            "      + create file /etc/docker/tls/ca.pem",
            "          mode 0600",
            "          owner root",
            "          content: (sensitive)",
            "      + create file /etc/docker/tls/cert.pem",
            "          mode 0600",
        ]
    );
    assert!(text.contains("      > on change: systemctl restart docker"));
    assert!(!text.contains("PRIVATE KEY"), "{text}");

    let outcome = apply(&fake, &issued).await;
    assert_eq!(outcome.writes, 8, "3 files and on_change on each host");
    // x509-parser shows an IP address SAN in hex.
    let address_sans = ["0a:00:00:01", "0a:00:00:02"];
    for (index, address) in HOSTS.iter().enumerate() {
        assert_eq!(file(&fake, address, "ca.pem"), ca.certificate_pem);
        assert!(file(&fake, address, "key.pem").contains("PRIVATE KEY"));
        assert_eq!(
            sans_of(&file(&fake, address, "cert.pem")),
            format!(
                "DNSName(manager.example.org) IPAddress({}) DNSName(node{})",
                address_sans[index],
                index + 1
            )
        );
        fake.host(address, |host| {
            let (_, mode, owner, _) = &host.files[&format!("{DIR}/key.pem")];
            assert_eq!((*mode, owner.as_str()), (0o600, "root"));
        });
    }

    let before = fake.host("10.0.0.1", |host| host.writes_and_runs());
    let (kept, settled) = settle_at(&certs, &fake, now() + 100 * DAY).await;
    assert_eq!(
        settled.notes,
        [
            "= certificate dockerd@10.0.0.1 valid until 2028-01-15",
            "= certificate dockerd@10.0.0.2 valid until 2028-01-15"
        ]
    );
    assert_eq!(
        plan_text(&settled.plans),
        "    = host node1: unchanged\n    = host node2: unchanged\n"
    );
    assert_eq!(apply(&fake, &kept).await.writes, 0);
    assert_eq!(fake.host("10.0.0.1", |host| host.writes_and_runs()), before);
}

#[tokio::test]
async fn a_host_certificate_within_renew_before_is_renewed() {
    let ca = new_ca();
    let certs = desired(&ca);
    let fake = FakeHosts::with(&HOSTS);
    let (issued, _) = settle_at(&certs, &fake, now()).await;
    apply(&fake, &issued).await;
    let first = file(&fake, "10.0.0.1", "cert.pem");

    let (renewed, settled) = settle_at(&certs, &fake, now() + 350 * DAY).await;
    assert_eq!(
        settled.notes,
        [
            "~ certificate dockerd@10.0.0.1: expires in 15 days",
            "~ certificate dockerd@10.0.0.2: expires in 15 days"
        ]
    );
    let text = plan_text(&settled.plans);
    assert!(
        text.contains(
            "      ~ update file /etc/docker/tls/cert.pem\n          content: (sensitive)\n"
        ),
        "{text}"
    );
    assert!(
        !text.contains("update file /etc/docker/tls/ca.pem"),
        "{text}"
    );
    apply(&fake, &renewed).await;
    assert_ne!(file(&fake, "10.0.0.1", "cert.pem"), first);
    let runs = fake.host("10.0.0.1", |host| host.writes_and_runs());
    assert_eq!(
        runs.iter()
            .filter(|line| *line == "run systemctl restart docker")
            .count(),
        2,
        "{runs:?}"
    );
}

#[tokio::test]
async fn a_host_certificate_from_another_ca_is_reissued() {
    let other = new_ca();
    let fake = FakeHosts::with(&HOSTS);
    let (issued, _) = settle_at(&desired(&other), &fake, now()).await;
    apply(&fake, &issued).await;

    let ca = new_ca();
    let (reissued, settled) = settle_at(&desired(&ca), &fake, now()).await;
    assert_eq!(
        settled.notes,
        [
            "~ certificate dockerd@10.0.0.1: signed by another CA",
            "~ certificate dockerd@10.0.0.2: signed by another CA"
        ]
    );
    apply(&fake, &reissued).await;
    let cert = file(&fake, "10.0.0.2", "cert.pem");
    let ca_fingerprint = certificate_fingerprint(&ca.certificate_pem).expect("a CA");
    let labels = labels_of_pem(&cert, &ca.certificate_pem, &ca_fingerprint).expect("a certificate");
    assert_eq!(
        labels.get("dev.shoal.certificate.ca-fingerprint"),
        Some(&ca_fingerprint)
    );
    assert_eq!(file(&fake, "10.0.0.2", "ca.pem"), ca.certificate_pem);
}

#[tokio::test]
async fn an_on_change_command_that_depends_on_a_secret_is_shown_as_sensitive() {
    let ca = new_ca();
    let mut certs = desired(&ca);
    let mut placeholder = certs.clone();
    for host in &mut placeholder.certificates[0].hosts {
        host.host.on_change = vec!["systemctl restart docker --token=(placeholder)".to_owned()];
    }
    let mut sensitive = std::collections::BTreeSet::new();
    certs.sensitive_between(&placeholder, &mut sensitive);
    let fake = FakeHosts::with(&HOSTS);
    let settled = settle_hosts(&mut certs, &fake, now(), &sensitive).await;
    let text = plan_text(&settled.plans);
    assert!(text.contains("      > on change: (sensitive)\n"), "{text}");
    assert!(!text.contains("systemctl"), "{text}");
}

/// Hosts that take a second to log in to, counting the logins under way at once.
struct SlowHosts {
    hosts: FakeHosts,
    active: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

impl crate::hosts::HostConnector for SlowHosts {
    fn connect<'a>(
        &'a self,
        target: &'a HostTarget,
    ) -> crate::hosts::HostFuture<'a, Box<dyn crate::hosts::HostSession>> {
        use std::sync::atomic::Ordering;
        Box::pin(async move {
            let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(1)).await;
            self.active.fetch_sub(1, Ordering::SeqCst);
            self.hosts.connect(target).await
        })
    }
}

#[tokio::test(start_paused = true)]
async fn hosts_are_read_in_parallel_at_most_ten_at_once() {
    use std::sync::atomic::Ordering;

    let ca = new_ca();
    let mut certs = desired(&ca);
    // 25 hosts: the first one's certificate, again for 24 more addresses.
    let template = certs.certificates[0].hosts[0].clone();
    let addresses: Vec<String> = (1..=25).map(|n| format!("10.0.1.{n}")).collect();
    certs.certificates[0].hosts = addresses
        .iter()
        .map(|address| {
            let mut host = template.clone();
            host.host.target =
                HostTarget::parse(&format!("root@{address}"), "", 22).expect("an address");
            host
        })
        .collect();
    let address_refs: Vec<&str> = addresses.iter().map(String::as_str).collect();
    let slow = SlowHosts {
        hosts: FakeHosts::with(&address_refs),
        active: Default::default(),
        most: Default::default(),
    };
    let settled = settle_hosts(&mut certs, &slow, now(), &Default::default()).await;
    assert_eq!(settled.problems, Vec::<String>::new());
    assert_eq!(settled.plans.len(), 25);
    // In the hosts' order, whatever order the readings ended in.
    assert_eq!(
        settled.notes.first().map(String::as_str),
        Some("+ certificate dockerd@10.0.1.1: missing")
    );
    assert_eq!(
        settled.notes.last().map(String::as_str),
        Some("+ certificate dockerd@10.0.1.25: missing")
    );
    // Ten logins under way at once (an `ssh` step's default `parallel`), not one.
    assert_eq!(slow.most.load(Ordering::SeqCst), 10);
}
