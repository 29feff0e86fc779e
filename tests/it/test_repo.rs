//! A config repo in a temporary folder, built file by file, and the `shoal` binary run on it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct TestRepo {
    folder: tempfile::TempDir,
    environment: Vec<(String, String)>,
}

/// What a run of `shoal` printed and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl TestRepo {
    pub fn new() -> TestRepo {
        TestRepo {
            folder: tempfile::tempdir().expect("a temporary folder"),
            environment: Vec::new(),
        }
    }

    /// Writes a file, creating its folders; text is dedented so tests can indent it.
    pub fn file(self, path: &str, text: &str) -> TestRepo {
        let full = self.folder.path().join(path);
        std::fs::create_dir_all(full.parent().expect("a parent")).expect("folders");
        std::fs::write(full, dedent(text)).expect("write");
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> TestRepo {
        self.environment.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn path(&self) -> &Path {
        self.folder.path()
    }

    /// Runs `shoal ARGS --repo <this repo>`.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut command = shoal();
        command.args(args).arg("--repo").arg(self.folder.path());
        for (name, value) in &self.environment {
            command.env(name, value);
        }
        Run::from(command.output().expect("shoal runs"))
    }
}

pub fn shoal() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shoal"));
    command.env_remove("SHOAL_REPO").current_dir(project_root());
    command
}

pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Removes the indentation common to all non-blank lines, and a leading newline.
pub fn dedent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: String = text
        .lines()
        .map(|line| line.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

/// A minimal valid shoal.yml with two environments.
pub const TWO_ENVIRONMENTS: &str = "
    environments:
      local:
        vars: { replicas: 1 }
      prod:
        vars: { replicas: 3 }
";
