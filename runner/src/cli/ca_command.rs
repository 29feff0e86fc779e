//! `shoal ca create`: a new CA for `certs` steps, written as `ca.pem` (the certificate,
//! for the config repo) and `ca-key.pem` (the key, mode 0600, for the environment's
//! `secrets`). Existing files are never overwritten.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::exit_code::Outcome;
use crate::steps::certs::CertificateAuthority;

#[derive(Debug, clap::Args)]
pub struct CaArgs {
    #[command(subcommand)]
    command: CaCommand,
}

#[derive(Debug, clap::Subcommand)]
enum CaCommand {
    /// Make a new CA (ECDSA P-256): DIR/ca.pem and DIR/ca-key.pem.
    Create(CreateArgs),
}

#[derive(Debug, clap::Args)]
struct CreateArgs {
    /// The folder to write ca.pem and ca-key.pem into (made if missing).
    #[arg(long)]
    out: PathBuf,
    /// The CA's subject common name.
    #[arg(long, default_value = "shoal CA")]
    common_name: String,
    /// How long the CA is valid, e.g. `10y`, `3650d`.
    #[arg(long, default_value = "10y", value_parser = humantime::parse_duration)]
    validity: std::time::Duration,
}

pub fn run(args: &CaArgs) -> anyhow::Result<Outcome> {
    match &args.command {
        CaCommand::Create(create) => self::create(create),
    }
}

fn create(args: &CreateArgs) -> anyhow::Result<Outcome> {
    let certificate_path = args.out.join("ca.pem");
    let key_path = args.out.join("ca-key.pem");
    for path in [&certificate_path, &key_path] {
        if path.exists() {
            anyhow::bail!(
                "{} exists already; shoal never overwrites a CA (move it away first)",
                path.display()
            );
        }
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("failed to create {}", args.out.display()))?;
    let authority = CertificateAuthority::create(
        &args.common_name,
        args.validity,
        time::OffsetDateTime::now_utc(),
    )
    .context("failed to make the CA")?;
    write_new(&key_path, authority.key_pem.expose(), 0o600)?;
    write_new(&certificate_path, &authority.certificate_pem, 0o644)?;
    println!(
        "wrote {} (the CA certificate: commit it to the config repo)",
        certificate_path.display()
    );
    println!(
        "wrote {} (the CA key: give it to the environment's `secrets`, never to the repo)",
        key_path.display()
    );
    Ok(Outcome::Success)
}

/// Writes a file that must not exist yet, with `mode` from its creation on.
fn write_new(path: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("failed to create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("failed to write {}", path.display()))
}
