//! What the `shoal` binary loads and does at start: OpenSSL is linked into it on Debian
//! (`.cargo/config.toml`), since loading libssl and libcrypto cost every run about
//! 0.6 ms; and its relative relocations are packed where glibc reads them
//! (`runner/build.rs`), so that the loader reads 11 KB of them rather than 0.95 MB.

use std::process::Command;

#[test]
fn the_binary_carries_openssl_rather_than_loading_it() {
    let output = Command::new("ldd")
        .arg(env!("CARGO_BIN_EXE_shoal"))
        .output()
        .expect("ldd runs (Debian's libc-bin)");
    assert!(output.status.success(), "{output:?}");
    let libraries = String::from_utf8_lossy(&output.stdout);
    assert!(libraries.contains("libc.so.6"), "{libraries}");
    let openssl: Vec<&str> = libraries
        .lines()
        .filter(|line| line.contains("libssl") || line.contains("libcrypto"))
        .collect();
    assert_eq!(openssl, Vec::<&str>::new(), "{libraries}");
}

#[test]
fn the_binary_packs_its_relative_relocations_where_glibc_reads_them() {
    let getconf = Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .expect("getconf runs (Debian's libc-bin)");
    let glibc = String::from_utf8_lossy(&getconf.stdout).trim().to_owned();
    let version: Vec<u32> = glibc
        .strip_prefix("glibc ")
        .unwrap_or_else(|| panic!("getconf GNU_LIBC_VERSION says {glibc:?}"))
        .split('.')
        .map(|part| part.parse().expect("a version number"))
        .collect();
    let reads_packed = version[..] >= [2, 36][..];

    let readelf = Command::new("readelf")
        .args(["--section-headers", "--wide", env!("CARGO_BIN_EXE_shoal")])
        .output()
        .expect("readelf runs (Debian's binutils)");
    assert!(readelf.status.success(), "{readelf:?}");
    let sections = String::from_utf8_lossy(&readelf.stdout);
    let size = |name: &str| -> Option<u64> {
        sections.lines().find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let at = fields.iter().position(|field| *field == name)?;
            // Name, type, address, offset, size.
            u64::from_str_radix(fields.get(at + 4)?, 16).ok()
        })
    };
    let packed = size(".relr.dyn");
    let plain = size(".rela.dyn").unwrap_or(0);
    if reads_packed {
        let packed = packed.unwrap_or_else(|| panic!("no .relr.dyn with {glibc}:\n{sections}"));
        assert!(
            packed < 64 * 1024 && plain < 64 * 1024,
            "packed {packed} bytes, plain {plain} bytes:\n{sections}"
        );
    } else {
        assert_eq!(packed, None, "{glibc} cannot read .relr.dyn:\n{sections}");
    }
}
