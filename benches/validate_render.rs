//! Benchmark: validate and render a generated config repo of 200 workflows and 1,000
//! templates (the goal is under 200 ms on a 2-core machine). Run with
//! `cargo bench --bench validate_render`; it prints the best and median of several runs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use shoal::load::DirectoryFiles;
use shoal::render::CommitInfo;
use shoal::validation::validate_repo;

const WORKFLOWS: usize = 200;
const TEMPLATES_PER_WORKFLOW: usize = 5;
const RUNS: usize = 15;

fn main() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let root = folder.path();
    write(root, "shoal.yml", &shoal_yml());
    for workflow in 0..WORKFLOWS {
        write(
            root,
            &format!("workflows/w{workflow:03}.yml"),
            &workflow_yml(workflow),
        );
        write(
            root,
            &format!("stacks/s{workflow:03}/compose.yml"),
            &compose(workflow),
        );
        for template in 1..TEMPLATES_PER_WORKFLOW {
            write(
                root,
                &format!("stacks/s{workflow:03}/conf{template}.yaml"),
                &config_template(template),
            );
        }
    }
    let commit = CommitInfo::new(
        "0123456789abcdef0123456789abcdef01234567",
        "bench",
        "bench",
        "main",
    );
    let mut timings: Vec<Duration> = Vec::new();
    let mut rendered = 0;
    for _ in 0..RUNS {
        // Each run is a reading of its own: a `RepoFiles` value carries the budget of one.
        let files = Arc::new(DirectoryFiles::new(root));
        let start = Instant::now();
        let validation = validate_repo(files, &commit);
        timings.push(start.elapsed());
        assert!(
            validation.is_valid(),
            "generated repo is invalid: {:?}",
            validation.diagnostics.sorted().first()
        );
        rendered = validation.rendered_files;
    }
    timings.sort();
    println!(
        "validate+render {WORKFLOWS} workflows, {} templates ({rendered} files rendered): best {:.1} ms, median {:.1} ms over {RUNS} runs (goal: under 200 ms)",
        WORKFLOWS * TEMPLATES_PER_WORKFLOW,
        timings[0].as_secs_f64() * 1000.0,
        timings[RUNS / 2].as_secs_f64() * 1000.0
    );
}

fn write(root: &std::path::Path, path: &str, text: &str) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().expect("parent")).expect("folders");
    std::fs::write(full, text).expect("write");
}

fn shoal_yml() -> String {
    "environments:\n  prod:\n    vars:\n      replicas: 3\n      domain: example.org\n      tags: [a, b, c]\n".to_owned()
}

fn workflow_yml(index: usize) -> String {
    format!(
        "name: w{index:03}\non:\n  push: {{ branches: [main], paths: [\"stacks/s{index:03}/**\"] }}\n  schedule:\n    - cron: \"{} * * * *\"\nsteps:\n  - id: net\n    network: {{ name: net{index}, attachable: true }}\n  - id: stack\n    if: environment.name == 'prod'\n    timeout: 5m\n    stack:\n      name: s{index:03}\n      compose: stacks/s{index:03}/compose.yml\n",
        index % 60
    )
}

fn compose(index: usize) -> String {
    let mut text = format!(
        "version: \"3.8\"\nservices:\n  app:\n    image: busybox:{{{{ commit.short_sha }}}}\n    deploy:\n      replicas: {{{{ vars.replicas }}}}\n      labels:\n        traefik.http.routers.s{index}.rule: Host(`s{index}.{{{{ vars.domain }}}}`)\nconfigs:\n"
    );
    for template in 1..TEMPLATES_PER_WORKFLOW {
        text.push_str(&format!(
            "  conf{template}:\n    file: ./conf{template}.yaml\n"
        ));
    }
    text
}

fn config_template(index: usize) -> String {
    format!(
        "# config {index} for {{{{ environment.name }}}}\nsettings:\n{{% for tag in vars.tags %}}\n  - name: {{{{ tag | upper }}}}\n    hash: {{{{ tag | sha256 }}}}\n{{% endfor %}}\nlabels:\n  {{{{ vars | to_yaml | indent(2) }}}}\n"
    )
}
