//! Packs the `shoal` binary's relative relocations (`DT_RELR`) where the C library reads
//! them.
//!
//! The binary is position-independent, and ~40,000 of its pointers must be moved to where
//! it was loaded: as plain relocations that is 0.95 MB in `.rela.dyn`, which the dynamic
//! loader reads on every start; packed, 11 KB. On the TLS benchmark's held engine a run
//! was 0.3 to 0.6 ms faster, `shoal --version` 0.3 to 0.6 ms (README, Performance).
//!
//! glibc reads packed relocations from 2.36 (Debian 12, Ubuntu 24.04), and a binary that
//! has them refuses to start on an older one, so they are asked for only when building
//! on Linux with glibc 2.36 or newer for the same machine. Cross builds, other C libraries
//! and older glibc get the plain ones. Only the binary is packed, not the test programs.

use std::process::Command;

/// The first glibc that reads packed relative relocations.
const FIRST_GLIBC_WITH_RELR: (u32, u32) = (2, 36);

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if builds_for_this_glibc()
        && host_glibc().is_some_and(|version| version >= FIRST_GLIBC_WITH_RELR)
    {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the target is Linux with glibc, and the machine that builds.
fn builds_for_this_glibc() -> bool {
    let variable = |name: &str| std::env::var(name).unwrap_or_default();
    variable("CARGO_CFG_TARGET_OS") == "linux"
        && variable("CARGO_CFG_TARGET_ENV") == "gnu"
        && variable("TARGET") == variable("HOST")
}

/// The version of this machine's glibc, from `getconf GNU_LIBC_VERSION` ("glibc 2.36").
fn host_glibc() -> Option<(u32, u32)> {
    let output = Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .ok()?;
    parse_glibc_version(&String::from_utf8_lossy(&output.stdout))
}

fn parse_glibc_version(text: &str) -> Option<(u32, u32)> {
    let version = text.trim().strip_prefix("glibc ")?;
    let mut numbers = version.split('.').map(|part| part.parse::<u32>().ok());
    Some((numbers.next()??, numbers.next()??))
}
