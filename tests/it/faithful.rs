//! The test of faithfulness: every compose fixture that converts is deployed twice on the
//! private swarm, once by the real `docker stack deploy --resolve-image never` and once by
//! `shoal apply`, and what the swarm then holds is compared field by field.
//!
//! The cases are the folders of `fixtures/compose/` without an `expected.txt` (those are
//! conversion errors), with the compose files and `$VAR` values of their `fixture.json`.
//! They include every compose file of nuvla/deployment.
//!
//! Docker runs in the fixture's folder with the fixture's variables as its whole process
//! environment (besides what points the CLI at the private engine, and `PATH`), so that
//! nothing of the caller's environment reaches a `$VAR` or a bare `environment:` name.
//! Shoal gets a config repo with the fixture's files under `stacks/<fixture>/`, the same
//! variables as the `local` environment's `vars`, and one `stack` step with `wait: false`.
//! Compose files that hold template syntax (docker's own `{{.Name}}`) are wrapped in
//! `{% raw %}…{% endraw %}`; other such files, Prometheus rules, are listed as `verbatim`.
//!
//! # What is compared
//!
//! For each stack, everything labelled `com.docker.stack.namespace=<stack>`:
//!
//! - services: the `Spec` of `docker service inspect`. What the daemon adds around it (ID,
//!   version, timestamps, the allocated `Endpoint`, `UpdateStatus`) is not what was sent;
//! - networks: `docker network inspect` without the fields that describe the network's
//!   life rather than its definition (`Id`, `Created`, `Containers`, `Peers`, `Services`,
//!   `Status`);
//! - configs: the `Spec` of `docker config inspect`, with the data decoded to text so that
//!   a difference reads;
//! - secrets: the `Spec` of `docker secret inspect`: name and labels, since a secret's data
//!   cannot be read back.
//!
//! A daemon that rejects a fixture for both tools is equal behaviour; one that rejects it
//! for one tool only is a difference. Right after its own apply, shoal's `plan` must also
//! say "Plan: no changes.", for every fixture: shoal reads its own deploy back as
//! unchanged, or every later apply would update services that nobody changed.
//!
//! # Normalisation
//!
//! Before comparing, both sides are brought to a common form that removes what differs by
//! construction, and only that:
//!
//! - the two stacks have different names: a string equal to the stack name (the namespace
//!   labels) or starting with `<stack>_` (services, networks, configs, secrets) has the name
//!   replaced by `<stack>`;
//! - services store network IDs: `TaskTemplate.Networks[].Target` is mapped to the
//!   network's name, networks outside the stack (`host`, `ingress`, external ones)
//!   included;
//! - the daemon allocates a network's subnet, gateway and VXLAN ID when the compose file
//!   does not give them: IPAM subnets, ranges and gateways that the compose files do not
//!   contain read `<allocated>`, and the `vxlanid_list` driver option is dropped;
//! - shoal names configs and secrets `<stack>_<name>-<first 8 hex of sha256(content)>`,
//!   where docker names them `<stack>_<name>`, because Swarm objects are immutable and new
//!   content must be a new object: on shoal's side the `-xxxxxxxx` suffix is removed from
//!   the objects' names and the services' references;
//! - config and secret references carry the object's ID, which differs by construction:
//!   `ConfigID` and `SecretID` are blanked, and the references are sorted by name and
//!   target, since shoal's order follows the hashed names;
//! - shoal records what it applied in `dev.shoal.*` labels (workflow, environment, commit,
//!   the object's name and content hash) on services, networks, configs and secrets: those
//!   labels are removed from these objects' own labels, and only there, so that one that
//!   reaches the containers' labels (and would restart tasks on every commit) still shows.
//!
//! Services do not need to converge, and most do not: the fixtures' images are not on the
//! private engine and are never pulled. Fixtures publish fixed ports and some create
//! networks and configs under fixed names (and one a fixed subnet), so the stacks are
//! deployed one at a time: the docker stack, read and removed, then shoal's.
//!
//! # The engine
//!
//! The test has a private engine of its own, so that its two stacks per fixture, deployed
//! and removed one after the other, do not share a daemon with the other tests' churn.
//!
//! Docker 20.10 can keep a node's own copy of a removed stack's overlay network: the swarm
//! has deleted it, but the node kept the network's load-balancer endpoint
//! (`lb-<network>`), so `docker network ls` and `inspect` still show it and `docker
//! network rm` says "not found" (docker/for-linux#531, #549). It happened in CI, where a
//! network outlived its stack by three minutes, and once in 80 deploys and removals of
//! `service-keys` on a quiet engine. Such a copy holds no name or subnet of the swarm's,
//! so a network that `docker network rm` says is not found counts as gone, and the test
//! says so. A stack that is still not gone after [`REMOVAL_TIMEOUT`] is another kind of
//! stuck: the test says what the daemon said of it, and compares that fixture again on a
//! new engine, once.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::support::{PrivateSwarm, run};
use crate::test_repo::{TestRepo, project_root};

/// How long one `docker` command may take.
const DOCKER_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a removed stack may take to disappear: a second or two on the test's own
/// engine, so this is a stuck one.
const REMOVAL_TIMEOUT: Duration = Duration::from_secs(90);
/// The label both tools put on everything a stack creates.
const NAMESPACE_LABEL: &str = "com.docker.stack.namespace";
/// The labels shoal adds to record what it applied.
const SHOAL_LABEL_PREFIX: &str = "dev.shoal.";
/// What the placeholder for the stack name reads.
const STACK_PLACEHOLDER: &str = "<stack>";
/// What a value the daemon allocated reads.
const ALLOCATED: &str = "<allocated>";

#[test]
fn compose_fixtures_deploy_as_docker_stack_deploy_deploys_them() {
    let mut swarm = PrivateSwarm::own();
    let started = Instant::now();
    create_shared_objects(&swarm);
    let fixtures = converting_fixtures();
    let mut report = String::new();
    let mut failed = 0;
    for fixture in &fixtures {
        let fixture_started = Instant::now();
        let outcome = compare_fixture(&swarm, fixture).unwrap_or_else(|stuck| {
            eprintln!(
                "{}: {stuck}\ncomparing it again on a new engine",
                fixture.name
            );
            swarm = PrivateSwarm::own();
            create_shared_objects(&swarm);
            compare_fixture(&swarm, fixture)
                .unwrap_or_else(|stuck| panic!("{}: on a new engine too, {stuck}", fixture.name))
        });
        let elapsed = fixture_started.elapsed();
        let line = match &outcome.problems[..] {
            [] => format!(
                "{}: equal ({}) in {elapsed:.1?}",
                fixture.name, outcome.summary
            ),
            problems => {
                failed += 1;
                format!(
                    "{}: {} difference(s) ({}) in {elapsed:.1?}\n{}",
                    fixture.name,
                    problems.len(),
                    outcome.summary,
                    problems
                        .iter()
                        .map(|problem| format!("  - {problem}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            }
        };
        eprintln!("{line}");
        report.push_str(&line);
        report.push('\n');
    }
    eprintln!(
        "{} fixtures compared in {:.1?}",
        fixtures.len(),
        started.elapsed()
    );
    assert!(
        failed == 0,
        "{failed} of {} fixtures deploy differently with shoal than with `docker stack \
         deploy` (fixture: object: JSON path: docker's value, shoal's value):\n{report}",
        fixtures.len()
    );
}

/// One case of `fixtures/compose/`.
struct Fixture {
    name: String,
    folder: PathBuf,
    /// Compose files, relative to the fixture's folder, merged in order.
    compose: Vec<String>,
    /// `$VAR` values: docker's process environment, shoal's environment `vars`.
    variables: BTreeMap<String, String>,
}

impl Fixture {
    /// Every compose file's text, to tell values written in them from allocated ones.
    fn compose_text(&self) -> String {
        self.compose
            .iter()
            .map(|path| std::fs::read_to_string(self.folder.join(path)).unwrap_or_default())
            .collect()
    }
}

/// What comparing one fixture found.
struct Outcome {
    summary: String,
    problems: Vec<String>,
}

/// The fixtures that convert: every folder of `fixtures/compose/` without `expected.txt`.
fn converting_fixtures() -> Vec<Fixture> {
    let root = project_root().join("fixtures").join("compose");
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures/compose can be read")
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|path| path.is_dir() && !path.join("expected.txt").exists())
        .collect();
    folders.sort();
    assert!(
        !folders.is_empty(),
        "no converting fixtures in {}",
        root.display()
    );
    folders
        .into_iter()
        .map(|folder| {
            let options: Value = std::fs::read_to_string(folder.join("fixture.json"))
                .map(|text| serde_json::from_str(&text).expect("fixture.json is JSON"))
                .unwrap_or(Value::Null);
            let compose = options["compose"]
                .as_array()
                .map(|paths| {
                    paths
                        .iter()
                        .map(|path| path.as_str().expect("compose paths are strings").to_owned())
                        .collect()
                })
                .unwrap_or_else(|| vec!["docker-compose.yml".to_owned()]);
            let variables = options["variables"]
                .as_object()
                .map(|variables| {
                    variables
                        .iter()
                        .map(|(name, value)| {
                            let value = value.as_str().expect("variables are strings");
                            (name.clone(), value.to_owned())
                        })
                        .collect()
                })
                .unwrap_or_default();
            Fixture {
                name: folder
                    .file_name()
                    .expect("a folder name")
                    .to_string_lossy()
                    .into_owned(),
                folder,
                compose,
                variables,
            }
        })
        .collect()
}

/// The objects that fixtures declare `external`, made once for the whole run.
fn create_shared_objects(swarm: &PrivateSwarm) {
    for network in ["traefik-public", "legacy-net", "nuvla-backend"] {
        if !exists(swarm, "network", network) {
            swarm.run_docker(&[
                "network",
                "create",
                "--driver",
                "overlay",
                "--attachable",
                network,
            ]);
        }
    }
    let folder = tempfile::tempdir().expect("a temporary folder");
    for (kind, name) in [
        ("config", "company_shared_config"),
        ("secret", "registry_token"),
    ] {
        if !exists(swarm, kind, name) {
            let file = folder.path().join(name);
            std::fs::write(&file, format!("{name} for the faithfulness test\n"))
                .expect("a temporary file");
            swarm.run_docker(&[kind, "create", name, &file.to_string_lossy()]);
        }
    }
}

fn exists(swarm: &PrivateSwarm, kind: &str, name: &str) -> bool {
    run(swarm.docker().args([kind, "inspect", name]), DOCKER_TIMEOUT)
        .status
        .success()
}

/// Deploys the fixture with docker, reads and removes that stack, then the same with
/// shoal, and compares. Fails with what is left of a stack that does not go.
fn compare_fixture(swarm: &PrivateSwarm, fixture: &Fixture) -> Result<Outcome, String> {
    let compose_text = fixture.compose_text();

    let docker_stack = swarm.unique_name("faithful-docker");
    let docker_deploy = deploy_with_docker(swarm, fixture, &docker_stack);
    let docker_snapshot = read_stack(swarm, &docker_stack, Side::Docker, &compose_text);
    remove_stack(swarm, &docker_stack)?;

    let shoal_stack = swarm.unique_name("faithful-shoal");
    let repo = shoal_repo(swarm, fixture, &shoal_stack);
    let apply = repo.run(&["apply", "--env", "local"]);
    let shoal_deploy = if apply.code == 0 {
        Ok(())
    } else {
        Err(format!(
            "exit {}:\n{}{}",
            apply.code, apply.stdout, apply.stderr
        ))
    };
    let shoal_snapshot = read_stack(swarm, &shoal_stack, Side::Shoal, &compose_text);
    let plan = shoal_deploy
        .is_ok()
        .then(|| repo.run(&["plan", "--env", "local"]));
    remove_stack(swarm, &shoal_stack)?;

    let mut problems = Vec::new();
    let summary = match (&docker_deploy, &shoal_deploy) {
        (Ok(()), Ok(())) => {
            // A stack read back empty would compare equal to anything.
            if docker_snapshot.objects.is_empty() {
                problems.push(format!(
                    "nothing labelled {NAMESPACE_LABEL}={docker_stack} was found after \
                     docker's deploy"
                ));
            }
            problems.extend(diff_snapshots(&docker_snapshot, &shoal_snapshot));
            docker_snapshot.summary()
        }
        (Err(docker), Err(shoal)) => {
            format!("both rejected it; docker said: {docker}; shoal said: {shoal}")
        }
        (Err(docker), Ok(())) => {
            problems.push(format!(
                "docker stack deploy failed, shoal apply worked: {docker}"
            ));
            "docker failed".to_owned()
        }
        (Ok(()), Err(shoal)) => {
            problems.push(format!(
                "shoal apply failed, docker stack deploy worked: {shoal}"
            ));
            "shoal failed".to_owned()
        }
    };
    if let Some(plan) = plan
        && (plan.code != 0 || !plan.stdout.contains("Plan: no changes."))
    {
        problems.push(format!(
            "`shoal plan` right after shoal's apply exits {} and does not say \
             \"Plan: no changes.\":\n{}{}",
            plan.code,
            indent(&plan.stdout),
            // With changes pending, standard error holds only the conversion's warnings.
            if plan.code == 2 {
                String::new()
            } else {
                indent(&plan.stderr)
            }
        ));
    }
    Ok(Outcome { summary, problems })
}

/// `docker stack deploy --resolve-image never -c FILE… STACK` in the fixture's folder, with
/// the fixture's variables as the whole process environment (besides what points the CLI
/// at the private engine, and PATH), so that what the caller's environment holds cannot
/// reach `$VAR` or a bare `environment:` name.
fn deploy_with_docker(swarm: &PrivateSwarm, fixture: &Fixture, stack: &str) -> Result<(), String> {
    let mut command = swarm.docker();
    let engine: Vec<(OsString, OsString)> = command
        .get_envs()
        .filter_map(|(name, value)| Some((name.to_owned(), value?.to_owned())))
        .collect();
    command
        .env_clear()
        .envs(engine)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(&fixture.variables)
        .current_dir(&fixture.folder)
        .args(["stack", "deploy", "--resolve-image", "never"]);
    for compose in &fixture.compose {
        command.args(["-c", compose]);
    }
    command.arg(stack);
    let output = run(&mut command, DOCKER_TIMEOUT);
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}:\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// A config repo whose `local` environment is the private swarm, with the fixture's files
/// under `stacks/<fixture>/` and one workflow, `deploy`, of one `stack` step. The files are
/// copied byte for byte; compose files that hold template syntax are wrapped in
/// `{% raw %}…{% endraw %}`, other such files are listed as `verbatim`.
fn shoal_repo(swarm: &PrivateSwarm, fixture: &Fixture, stack: &str) -> TestRepo {
    let base = format!("stacks/{}", fixture.name);
    let compose_paths: Vec<String> = fixture
        .compose
        .iter()
        .map(|path| format!("{base}/{path}"))
        .collect();
    let mut verbatim = Vec::new();
    let repo = TestRepo::new();
    for file in files_under(&fixture.folder) {
        let relative = file
            .strip_prefix(&fixture.folder)
            .expect("a file of the fixture")
            .to_string_lossy()
            .into_owned();
        if ["expected.json", "fixture.json"].contains(&relative.as_str()) {
            continue;
        }
        let path = format!("{base}/{relative}");
        let mut content = std::fs::read(&file).expect("a fixture file can be read");
        if has_template_syntax(&content) {
            if compose_paths.contains(&path) {
                content = [b"{% raw %}".as_slice(), &content, b"{% endraw %}"].concat();
            } else {
                verbatim.push(path.clone());
            }
        }
        let target = repo.path().join(&path);
        std::fs::create_dir_all(target.parent().expect("a parent folder")).expect("folders");
        std::fs::write(target, content).expect("the repo is writable");
    }
    let shoal_yml = json!({
        "environments": {
            "local": {
                "docker": { "host": swarm.docker_host() },
                "vars": fixture.variables,
            }
        }
    });
    let workflow = json!({
        "steps": [{
            "stack": {
                "name": stack,
                "compose": compose_paths,
                "wait": false,
                "verbatim": verbatim,
            }
        }]
    });
    // JSON is YAML: no quoting rules to get wrong for values such as `$apr1$abc$def`.
    repo.file("shoal.yml", &shoal_yml.to_string())
        .file("workflows/deploy.yml", &workflow.to_string())
}

fn files_under(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).expect("a fixture folder can be read") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn has_template_syntax(content: &[u8]) -> bool {
    content
        .windows(2)
        .any(|pair| matches!(pair, b"{{" | b"{%" | b"{#"))
}

/// Runs `docker stack rm` until nothing labelled with the stack's namespace is left, so
/// that the next deploy finds its ports and fixed names free. Networks can outlive their
/// services for a moment, and a second `stack rm` removes what the first could not. Fails
/// with what is left after [`REMOVAL_TIMEOUT`], and what the daemon said of it.
fn remove_stack(swarm: &PrivateSwarm, stack: &str) -> Result<(), String> {
    let deadline = Instant::now() + REMOVAL_TIMEOUT;
    let mut last_removal: Option<Instant> = None;
    let mut refusals = Vec::new();
    let mut stale = BTreeSet::new();
    loop {
        let mut left = stack_objects(swarm, stack);
        left.entry("network")
            .or_default()
            .retain(|network| !stale.contains(network));
        if left.values().all(Vec::is_empty) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "stack {stack} is not gone {REMOVAL_TIMEOUT:?} after `docker stack rm`: \
                 {left:?}; the daemon's last word on its networks: {}",
                describe_refusals(swarm, &refusals)
            ));
        }
        if last_removal.is_none_or(|at| at.elapsed() > Duration::from_secs(2)) {
            // The outcome shows in what is left. A network whose last task was still
            // stopping at the first `stack rm` is removed by ID once it is free.
            let _ = run(swarm.docker().args(["stack", "rm", stack]), DOCKER_TIMEOUT);
            refusals.clear();
            for network in &left["network"] {
                let removal = run(
                    swarm.docker().args(["network", "rm", network]),
                    DOCKER_TIMEOUT,
                );
                let refusal = String::from_utf8_lossy(&removal.stderr).trim().to_owned();
                // `ls` gives the short ID, the refusal the whole one.
                if refusal.contains(&format!("network {network}")) && refusal.ends_with("not found")
                {
                    eprintln!(
                        "{stack}: network {network} is the node's stale copy of one the \
                         swarm has removed (`docker network rm`: {refusal}); counted as gone"
                    );
                    stale.insert(network.clone());
                } else if !refusal.is_empty() {
                    refusals.push(refusal);
                }
            }
            last_removal = Some(Instant::now());
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// What `docker network rm` said, with the state of each task it names ("network X is in
/// use by task Y"), which `docker inspect` still finds when its service is gone.
fn describe_refusals(swarm: &PrivateSwarm, refusals: &[String]) -> String {
    if refusals.is_empty() {
        return "nothing".to_owned();
    }
    refusals
        .iter()
        .map(|refusal| {
            let task = refusal
                .split_once("in use by task ")
                .map(|(_, rest)| rest.trim_matches(|c: char| !c.is_ascii_alphanumeric()));
            let Some(task) = task else {
                return refusal.clone();
            };
            let state = run(
                swarm.docker().args([
                    "inspect",
                    "--format",
                    "service {{.ServiceID}}, desired {{.DesiredState}}, \
                     state {{.Status.State}} ({{.Status.Message}} {{.Status.Err}})",
                    task,
                ]),
                DOCKER_TIMEOUT,
            );
            let state = String::from_utf8_lossy(if state.status.success() {
                &state.stdout
            } else {
                &state.stderr
            })
            .trim()
            .to_owned();
            format!("{refusal} [task {task}: {state}]")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The IDs of the stack's services, networks, configs and secrets, by kind.
fn stack_objects(swarm: &PrivateSwarm, stack: &str) -> BTreeMap<&'static str, Vec<String>> {
    let filter = format!("label={NAMESPACE_LABEL}={stack}");
    ["service", "network", "config", "secret"]
        .into_iter()
        .map(|kind| {
            let ids = swarm.run_docker(&[kind, "ls", "--quiet", "--filter", &filter]);
            (kind, ids.lines().map(str::to_owned).collect())
        })
        .collect()
}

/// Which tool deployed a stack: only shoal's config and secret names carry a hash.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Docker,
    Shoal,
}

/// A stack as the swarm holds it, normalised, by `<kind> <normalised name>`.
struct Snapshot {
    objects: BTreeMap<String, Value>,
}

impl Snapshot {
    fn summary(&self) -> String {
        let count = |kind: &str| {
            self.objects
                .keys()
                .filter(|key| key.starts_with(&format!("{kind} ")))
                .count()
        };
        format!(
            "{} services, {} networks, {} configs, {} secrets",
            count("service"),
            count("network"),
            count("config"),
            count("secret")
        )
    }
}

/// Reads everything labelled with the stack's namespace, and normalises it.
fn read_stack(swarm: &PrivateSwarm, stack: &str, side: Side, compose_text: &str) -> Snapshot {
    let inspected: Vec<(&str, Vec<Value>)> = stack_objects(swarm, stack)
        .into_iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(kind, ids)| {
            let mut args = vec![kind, "inspect"];
            args.extend(ids.iter().map(String::as_str));
            let objects = serde_json::from_str(&swarm.run_docker(&args))
                .unwrap_or_else(|error| panic!("`docker {kind} inspect` prints JSON: {error}"));
            (kind, objects)
        })
        .collect();
    let services = inspected
        .iter()
        .filter(|(kind, _)| *kind == "service")
        .flat_map(|(_, services)| services);
    let normaliser = Normaliser {
        stack,
        side,
        compose_text,
        network_names: network_names(swarm, services),
    };
    let mut objects = BTreeMap::new();
    for (kind, inspected) in inspected {
        for object in inspected {
            let object = match kind {
                "service" => normaliser.service(&object),
                "network" => normaliser.network(&object),
                _ => normaliser.object(&object),
            };
            let name = object["Name"].as_str().unwrap_or_default().to_owned();
            objects.insert(format!("{kind} {name}"), object);
        }
    }
    Snapshot { objects }
}

/// The names of every network of the engine and of every network the services use, by
/// ID. `docker network ls` lists the node's `host` network under its local ID, while a
/// service attached to it stores the swarm's own ID of it, which only an inspect resolves.
fn network_names<'a>(
    swarm: &PrivateSwarm,
    services: impl Iterator<Item = &'a Value>,
) -> BTreeMap<String, String> {
    let mut names: BTreeMap<String, String> = swarm
        .run_docker(&[
            "network",
            "ls",
            "--no-trunc",
            "--format",
            "{{.ID}} {{.Name}}",
        ])
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(id, name)| (id.to_owned(), name.to_owned()))
        .collect();
    for service in services {
        let Some(attachments) = service["Spec"]["TaskTemplate"]["Networks"].as_array() else {
            continue;
        };
        for target in attachments.iter().filter_map(|a| a["Target"].as_str()) {
            if !names.contains_key(target) {
                let name =
                    swarm.run_docker(&["network", "inspect", "--format", "{{.Name}}", target]);
                names.insert(target.to_owned(), name.trim().to_owned());
            }
        }
    }
    names
}

/// Brings what `docker … inspect` shows of one stack to the common form described in the
/// module documentation.
struct Normaliser<'a> {
    stack: &'a str,
    side: Side,
    compose_text: &'a str,
    network_names: BTreeMap<String, String>,
}

impl Normaliser<'_> {
    fn service(&self, inspected: &Value) -> Value {
        let mut spec = inspected["Spec"].clone();
        drop_shoal_labels(&mut spec);
        for pointer in ["/TaskTemplate/Networks", "/Networks"] {
            if let Some(Value::Array(attachments)) = spec.pointer_mut(pointer) {
                for attachment in attachments {
                    if let Some(Value::String(target)) = attachment.get_mut("Target")
                        && let Some(name) = self.network_names.get(target.as_str())
                    {
                        *target = name.clone();
                    }
                }
            }
        }
        if let Some(container) = spec.pointer_mut("/TaskTemplate/ContainerSpec") {
            for (list, id, name) in [
                ("Configs", "ConfigID", "ConfigName"),
                ("Secrets", "SecretID", "SecretName"),
            ] {
                if let Some(Value::Array(references)) = container.get_mut(list) {
                    for reference in references.iter_mut() {
                        if let Some(Value::String(object_id)) = reference.get_mut(id) {
                            object_id.clear();
                        }
                        if let Some(Value::String(object_name)) = reference.get_mut(name) {
                            *object_name = self.unhashed(object_name);
                        }
                    }
                    references.sort_by_key(|reference| {
                        (
                            reference[name].to_string(),
                            reference["File"]["Name"].to_string(),
                        )
                    });
                }
            }
        }
        self.replace_stack_name(&mut spec);
        spec
    }

    fn network(&self, inspected: &Value) -> Value {
        let mut network = inspected.clone();
        if let Value::Object(fields) = &mut network {
            for runtime in ["Id", "Created", "Containers", "Peers", "Services", "Status"] {
                fields.remove(runtime);
            }
        }
        drop_shoal_labels(&mut network);
        if let Some(Value::Object(options)) = network.get_mut("Options") {
            options.remove("com.docker.network.driver.overlay.vxlanid_list");
        }
        if let Some(Value::Array(pools)) = network.pointer_mut("/IPAM/Config") {
            for pool in pools {
                for key in ["Subnet", "IPRange", "Gateway"] {
                    if let Some(Value::String(value)) = pool.get_mut(key)
                        && !value.is_empty()
                        && !self.compose_text.contains(value.as_str())
                    {
                        *value = ALLOCATED.to_owned();
                    }
                }
            }
        }
        self.replace_stack_name(&mut network);
        network
    }

    /// A config or a secret.
    fn object(&self, inspected: &Value) -> Value {
        let mut spec = inspected["Spec"].clone();
        drop_shoal_labels(&mut spec);
        if let Some(Value::String(name)) = spec.get_mut("Name") {
            *name = self.unhashed(name);
        }
        if let Some(Value::String(data)) = spec.get_mut("Data") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(data.as_bytes())
                .expect("config data is base64");
            *data = String::from_utf8_lossy(&decoded).into_owned();
        }
        self.replace_stack_name(&mut spec);
        spec
    }

    /// A config or secret name without shoal's `-xxxxxxxx` content hash.
    fn unhashed(&self, name: &str) -> String {
        if self.side == Side::Docker {
            return name.to_owned();
        }
        match name.rsplit_once('-') {
            Some((base, hash))
                if hash.len() == 8
                    && hash
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
            {
                base.to_owned()
            }
            _ => name.to_owned(),
        }
    }

    fn replace_stack_name(&self, value: &mut Value) {
        match value {
            Value::String(text) => {
                if text == self.stack {
                    *text = STACK_PLACEHOLDER.to_owned();
                } else if let Some(rest) = text.strip_prefix(&format!("{}_", self.stack)) {
                    *text = format!("{STACK_PLACEHOLDER}_{rest}");
                }
            }
            Value::Array(items) => items
                .iter_mut()
                .for_each(|item| self.replace_stack_name(item)),
            Value::Object(fields) => fields
                .values_mut()
                .for_each(|field| self.replace_stack_name(field)),
            _ => {}
        }
    }
}

/// Removes shoal's bookkeeping labels from an object's own `Labels`, not from nested ones.
fn drop_shoal_labels(object: &mut Value) {
    if let Some(Value::Object(labels)) = object.get_mut("Labels") {
        labels.retain(|key, _| !key.starts_with(SHOAL_LABEL_PREFIX));
    }
}

/// Every difference between the two stacks, one readable line each.
fn diff_snapshots(docker: &Snapshot, shoal: &Snapshot) -> Vec<String> {
    let mut keys: Vec<&String> = docker.objects.keys().chain(shoal.objects.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut lines = Vec::new();
    for key in keys {
        match (docker.objects.get(key), shoal.objects.get(key)) {
            (Some(_), None) => lines.push(format!("{key}: created by docker only")),
            (None, Some(_)) => lines.push(format!("{key}: created by shoal only")),
            (Some(docker), Some(shoal)) => {
                let mut differences = Vec::new();
                diff_values("", Some(docker), Some(shoal), &mut differences);
                for (path, docker, shoal) in differences {
                    lines.push(format!("{key}: {path}: docker {docker}, shoal {shoal}"));
                }
            }
            (None, None) => {}
        }
    }
    lines
}

/// Differences as (JSON path, docker's value, shoal's value). Arrays of the same length
/// compare item by item; of different lengths, as a whole.
fn diff_values(
    path: &str,
    docker: Option<&Value>,
    shoal: Option<&Value>,
    out: &mut Vec<(String, String, String)>,
) {
    match (docker, shoal) {
        (Some(Value::Object(docker)), Some(Value::Object(shoal))) => {
            diff_fields(path, docker, shoal, out);
        }
        (Some(Value::Array(docker)), Some(Value::Array(shoal))) if docker.len() == shoal.len() => {
            for (index, (docker, shoal)) in docker.iter().zip(shoal).enumerate() {
                diff_values(&format!("{path}[{index}]"), Some(docker), Some(shoal), out);
            }
        }
        (docker, shoal) if docker == shoal => {}
        (docker, shoal) => out.push((path.to_owned(), show(docker), show(shoal))),
    }
}

fn diff_fields(
    path: &str,
    docker: &Map<String, Value>,
    shoal: &Map<String, Value>,
    out: &mut Vec<(String, String, String)>,
) {
    let mut keys: Vec<&String> = docker.keys().chain(shoal.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let child = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        diff_values(&child, docker.get(key), shoal.get(key), out);
    }
}

fn show(value: Option<&Value>) -> String {
    value.map_or_else(|| "(absent)".to_owned(), Value::to_string)
}

fn indent(text: &str) -> String {
    let mut indented = String::new();
    for line in text.lines() {
        let _ = writeln!(indented, "      {line}");
    }
    indented
}
