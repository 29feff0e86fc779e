//! The `certs` kind's decisions and issuing, against live states made up for each case:
//! what is issued, what is kept, and why; certificates read back with x509-parser.

use std::time::Duration;

use time::OffsetDateTime;
use x509_parser::extensions::GeneralName;

use super::settle::UNISSUED_SUFFIX;
use super::*;
use crate::secret_text::SecretText;
use crate::swarm::{LiveObject, LiveState, OBJECT_NAME, ObjectKind, ObjectNameKey, ObjectSpec};

const DAY: Duration = Duration::from_secs(24 * 3600);

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("a valid time")
}

fn desired(ca: &NewCertificateAuthority, sans: &[&str]) -> DesiredCerts {
    DesiredCerts {
        ca_cert_path: "pki/ca.pem".to_owned(),
        ca_cert_pem: ca.certificate_pem.clone(),
        key_secret: "ca_key".to_owned(),
        ca_key: ca.key_pem.clone(),
        force: false,
        certificates: vec![DesiredCertificate {
            request: CertificateRequest {
                name: "dockerd".to_owned(),
                common_name: "dockerd".to_owned(),
                sans: sans.iter().map(|san| (*san).to_owned()).collect(),
                usage: CertificateUsage {
                    server: true,
                    client: false,
                },
                validity: 365 * DAY,
            },
            renew_before: 30 * DAY,
            secrets: vec!["dockerd.pem".to_owned()],
            hosts: Vec::new(),
        }],
        labels: Default::default(),
        problems: Vec::new(),
        outcomes: Vec::new(),
        host_files: None,
        host_expiries: Vec::new(),
    }
}

fn new_ca() -> NewCertificateAuthority {
    CertificateAuthority::create("test CA", 3650 * DAY, now()).expect("a CA")
}

/// The swarm once `objects` were created.
fn live_with(objects: &[ObjectSpec]) -> LiveState {
    LiveState {
        objects: objects
            .iter()
            .enumerate()
            .map(|(index, object)| LiveObject {
                kind: object.kind,
                id: format!("id{index}"),
                name: object.name.clone(),
                labels: object.labels.clone(),
                created_at: format!("2027-01-0{}T00:00:00Z", index + 1),
            })
            .collect(),
        ..LiveState::default()
    }
}

fn settled(certs: &DesiredCerts, live: &LiveState, at: OffsetDateTime) -> DesiredCerts {
    let mut certs = certs.clone();
    settle(&mut certs, live, at, &ObjectNameKey::generate(), true);
    certs
}

#[test]
fn a_missing_certificate_is_issued_into_a_labelled_bundle_signed_by_the_ca() {
    let ca = new_ca();
    let certs = settled(
        &desired(&ca, &["10.0.0.5", "manager.example.org"]),
        &LiveState::default(),
        now(),
    );
    assert_eq!(certs.problems, Vec::<String>::new());
    let outcome = &certs.outcomes[0];
    assert_eq!(outcome.decision, CertificateDecision::Missing);
    assert_eq!(
        outcome.decision.line("dockerd"),
        "+ certificate dockerd: missing"
    );
    let secret = &outcome.created[0];
    assert_eq!(secret.kind, ObjectKind::Secret);
    assert!(secret.name.starts_with("dockerd.pem-"), "{}", secret.name);
    assert_eq!(
        outcome.current,
        vec![("dockerd.pem".to_owned(), secret.name.clone())]
    );
    assert_eq!(secret.labels[OBJECT_NAME], "dockerd.pem");
    assert_eq!(
        secret.labels["dev.shoal.certificate.sans"],
        "10.0.0.5,manager.example.org"
    );
    assert_eq!(secret.labels["dev.shoal.certificate.usage"], "server");
    assert_eq!(
        secret.labels["dev.shoal.certificate.ca-fingerprint"],
        certificate_fingerprint(&ca.certificate_pem).expect("a fingerprint")
    );

    // The bundle: certificate, key, CA, in that order.
    let bundle = String::from_utf8(secret.data.clone()).expect("PEM text");
    let blocks: Vec<&str> = bundle
        .lines()
        .filter(|line| line.starts_with("-----BEGIN"))
        .collect();
    assert_eq!(
        blocks,
        [
            "-----BEGIN CERTIFICATE-----",
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN CERTIFICATE-----"
        ]
    );
    assert!(bundle.ends_with(&ca.certificate_pem));
    let (_, pem) = x509_parser::pem::parse_x509_pem(bundle.as_bytes()).expect("a PEM block");
    let certificate = pem.parse_x509().expect("a certificate");
    let names: Vec<String> = certificate
        .subject_alternative_name()
        .expect("a valid extension")
        .expect("SANs")
        .value
        .general_names
        .iter()
        .map(|name| match name {
            GeneralName::DNSName(dns) => format!("DNS:{dns}"),
            GeneralName::IPAddress(ip) => format!("IP:{ip:?}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["IP:[10, 0, 0, 5]", "DNS:manager.example.org"]);
    let usage = certificate
        .extended_key_usage()
        .expect("a valid extension")
        .expect("extended key usage")
        .value;
    assert!(usage.server_auth && !usage.client_auth);
    assert!(certificate.validity().not_before.timestamp() < now().unix_timestamp());
    assert_eq!(
        certificate.validity().not_after.timestamp(),
        (now() + 365 * DAY).unix_timestamp()
    );
    assert_eq!(certificate.issuer().to_string(), "CN=test CA");
}

#[test]
fn a_valid_certificate_is_kept_and_renewed_within_renew_before_or_when_forced() {
    let ca = new_ca();
    let first = settled(
        &desired(&ca, &["app.example.org"]),
        &LiveState::default(),
        now(),
    );
    let live = live_with(&first.outcomes[0].created);
    let name = first.outcomes[0].created[0].name.clone();

    let kept = settled(&desired(&ca, &["app.example.org"]), &live, now() + DAY);
    let outcome = &kept.outcomes[0];
    let until = now() + 365 * DAY;
    assert_eq!(
        outcome.decision.line("app"),
        format!(
            "= certificate app valid until {}-{:02}-{:02}",
            until.year(),
            u8::from(until.month()),
            until.day()
        )
    );
    assert!(outcome.created.is_empty() && outcome.unissued.is_empty());
    assert_eq!(
        outcome.current,
        vec![("dockerd.pem".to_owned(), name.clone())]
    );

    let late = settled(
        &desired(&ca, &["app.example.org"]),
        &live,
        now() + 353 * DAY,
    );
    assert_eq!(
        late.outcomes[0].decision.line("app"),
        "~ certificate app: expires in 12 days"
    );
    assert_ne!(late.outcomes[0].current[0].1, name);

    let mut forced = desired(&ca, &["app.example.org"]);
    forced.force = true;
    let forced = settled(&forced, &live, now() + DAY);
    assert_eq!(
        forced.outcomes[0].decision,
        CertificateDecision::Renew {
            reason: "renewal forced".to_owned()
        }
    );
    assert_eq!(forced.outcomes[0].created.len(), 1);
}

#[test]
fn changed_sans_usage_or_another_ca_renew() {
    let ca = new_ca();
    let first = settled(
        &desired(&ca, &["app.example.org"]),
        &LiveState::default(),
        now(),
    );
    let live = live_with(&first.outcomes[0].created);
    let reason = |certs: &DesiredCerts| certs.outcomes[0].decision.line("app");

    let sans = settled(&desired(&ca, &["api.example.org"]), &live, now());
    assert_eq!(reason(&sans), "~ certificate app: SANs changed");

    let mut usage = desired(&ca, &["app.example.org"]);
    usage.certificates[0].request.usage.client = true;
    assert_eq!(
        reason(&settled(&usage, &live, now())),
        "~ certificate app: usage changed"
    );

    let other = new_ca();
    let moved = settled(&desired(&other, &["app.example.org"]), &live, now());
    assert_eq!(reason(&moved), "~ certificate app: signed by another CA");
}

#[test]
fn an_untrusted_plan_issues_nothing_and_says_what_would_be() {
    let ca = new_ca();
    let mut certs = desired(&ca, &["app.example.org"]);
    certs.ca_key = SecretText::new("__secret_ca_key__");
    settle(
        &mut certs,
        &LiveState::default(),
        now(),
        &ObjectNameKey::generate(),
        false,
    );
    assert_eq!(certs.problems, Vec::<String>::new());
    let outcome = &certs.outcomes[0];
    assert_eq!(outcome.decision, CertificateDecision::Missing);
    assert!(outcome.created.is_empty());
    assert_eq!(outcome.unissued, [format!("dockerd.pem-{UNISSUED_SUFFIX}")]);
    assert_eq!(
        outcome.current,
        vec![(
            "dockerd.pem".to_owned(),
            format!("dockerd.pem-{UNISSUED_SUFFIX}")
        )]
    );
}

#[test]
fn a_key_that_is_not_the_cas_is_a_problem_that_quotes_no_key() {
    let ca = new_ca();
    let other = new_ca();
    let mut certs = desired(&ca, &["app.example.org"]);
    certs.ca_key = other.key_pem.clone();
    let certs = settled(&certs, &LiveState::default(), now());
    assert_eq!(
        certs.problems,
        ["the CA key (secret `ca_key`) does not belong to the CA certificate pki/ca.pem"]
    );

    let mut garbled = desired(&ca, &["app.example.org"]);
    garbled.ca_key =
        SecretText::new("-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n");
    let garbled = settled(&garbled, &LiveState::default(), now());
    assert_eq!(
        garbled.problems,
        ["the CA key (secret `ca_key`) is not a PEM private key shoal can sign with"]
    );
}

#[test]
fn a_plan_shows_an_issued_secret_under_a_name_that_no_run_creates() {
    use crate::plan::{Action, Change, FieldDiff, ObjectType, Plan, StepPlan};

    let ca = new_ca();
    let certs = settled(&desired(&ca, &["10.0.0.5"]), &LiveState::default(), now());
    let issued = certs.outcomes[0].created[0].name.clone();
    let names = certs.issued_names();
    assert_eq!(
        names,
        [(issued.clone(), format!("dockerd.pem-{UNISSUED_SUFFIX}"))].into()
    );
    // A plan and a later apply issue under different names (random keys): both show
    // the same one.
    let again = settled(&desired(&ca, &["10.0.0.5"]), &LiveState::default(), now());
    assert_ne!(again.outcomes[0].created[0].name, issued);
    assert_eq!(
        again.issued_names().into_values().collect::<Vec<_>>(),
        [format!("dockerd.pem-{UNISSUED_SUFFIX}")]
    );

    let plan = Plan {
        steps: vec![StepPlan {
            step: "certs".to_owned(),
            kind: "certs",
            skipped: false,
            changes: vec![
                Change {
                    object: ObjectType::Secret,
                    name: issued.clone(),
                    action: Action::Create,
                },
                Change {
                    object: ObjectType::Service,
                    name: "app_app".to_owned(),
                    action: Action::Update {
                        diffs: vec![FieldDiff {
                            path: "TaskTemplate.ContainerSpec.Secrets[0].SecretName".to_owned(),
                            before: Some("dockerd.pem-0123456789ab".into()),
                            after: Some(serde_json::json!({ "SecretName": issued })),
                            concealed: None,
                        }],
                    },
                },
            ],
            hosts: Vec::new(),
            problems: Vec::new(),
            notes: Vec::new(),
        }],
        needs_every_service: false,
    };
    let shown = plan.with_names_shown(&names);
    let shown_text = serde_json::to_string(&shown).expect("JSON");
    assert!(!shown_text.contains(&issued), "{shown_text}");
    assert_eq!(
        shown.steps[0].changes[0].name,
        format!("dockerd.pem-{UNISSUED_SUFFIX}")
    );
    let Action::Update { diffs } = &shown.steps[0].changes[1].action else {
        panic!("an update");
    };
    assert_eq!(diffs[0].before, Some("dockerd.pem-0123456789ab".into()));
    assert_eq!(
        diffs[0].after,
        Some(serde_json::json!({ "SecretName": format!("dockerd.pem-{UNISSUED_SUFFIX}") }))
    );
}

#[test]
fn a_renewed_certificate_in_three_secrets_is_kept_by_the_next_run() {
    let ca = new_ca();
    let mut certs = desired(&ca, &["10.0.0.5"]);
    certs.certificates[0].secrets = vec![
        "dockerd-cert.pem".to_owned(),
        "dockerd-key.pem".to_owned(),
        "dockerd-ca.pem".to_owned(),
    ];
    let key = ObjectNameKey::generate();
    let settle_at = |certs: &DesiredCerts, live: &LiveState, force: bool| {
        let mut certs = certs.clone();
        certs.force = force;
        settle(&mut certs, live, now(), &key, true);
        certs
    };
    let first = settle_at(&certs, &LiveState::default(), false);
    let first_created = first.outcomes[0].created.clone();
    // A forced renewal: a new certificate and key; the CA's secret has the same content,
    // so the same name, and Swarm keeps the one it has (with the first one's labels).
    let renewed = settle_at(&certs, &live_with(&first_created), true);
    let renewed_created = &renewed.outcomes[0].created;
    assert_eq!(renewed_created[2].name, first_created[2].name);
    assert_ne!(renewed_created[0].name, first_created[0].name);
    let mut live_objects = first_created.clone();
    live_objects.extend(renewed_created[..2].iter().cloned());
    let next = settle_at(&certs, &live_with(&live_objects), false);
    let outcome = &next.outcomes[0];
    assert!(
        matches!(outcome.decision, CertificateDecision::Valid { .. }),
        "{:?}",
        outcome.decision
    );
    assert!(outcome.created.is_empty(), "nothing issued");
    assert_eq!(
        outcome.current,
        vec![
            (
                "dockerd-cert.pem".to_owned(),
                renewed_created[0].name.clone()
            ),
            (
                "dockerd-key.pem".to_owned(),
                renewed_created[1].name.clone()
            ),
            ("dockerd-ca.pem".to_owned(), first_created[2].name.clone()),
        ]
    );
    // The CA's secret is shown under its name: plan and apply agree on it.
    assert_eq!(
        renewed.issued_names().keys().collect::<Vec<_>>(),
        [&renewed_created[0].name, &renewed_created[1].name]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
}
