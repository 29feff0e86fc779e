//! What the `shoal` binary loads at start: OpenSSL is linked into it on Debian
//! (`.cargo/config.toml`), since loading libssl and libcrypto cost every run about
//! 0.6 ms.

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
