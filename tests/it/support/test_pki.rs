//! Certificate authorities and certificates made for a test with the `openssl` CLI, in a
//! temporary folder: the right ones, and the wrong ones each TLS failure needs (another
//! CA's, one without the address among its SANs, an expired one).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::run_successfully;

const OPENSSL_TIMEOUT: Duration = Duration::from_secs(30);

/// A CA: `ca.pem` and `ca-key.pem` in its folder, as `scripts/private-dockerd` takes them.
pub struct TestCa {
    folder: PathBuf,
    /// Holds the folder.
    _temporary: tempfile::TempDir,
}

/// Dates of a certificate that has expired: `YYYYMMDDHHMMSSZ`.
pub struct Validity {
    pub not_before: &'static str,
    pub not_after: &'static str,
}

impl TestCa {
    /// A new CA named `name`.
    pub fn new(name: &str) -> TestCa {
        let temporary = tempfile::tempdir().expect("a temporary folder");
        let folder = temporary.path().to_owned();
        fs::write(
            folder.join("openssl.cnf"),
            format!(
                "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = {name}\n\
                 [ca_ext]\nbasicConstraints = critical, CA:TRUE\n\
                 keyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n\
                 [ca]\ndefault_ca = test_ca\n[test_ca]\ndatabase = {dir}/index.txt\n\
                 new_certs_dir = {dir}\nserial = {dir}/serial\ndefault_md = sha256\n\
                 policy = anything\nunique_subject = no\n[anything]\ncommonName = supplied\n",
                dir = folder.display()
            ),
        )
        .expect("writes");
        fs::write(folder.join("index.txt"), "").expect("writes");
        fs::write(folder.join("serial"), "1000\n").expect("writes");
        openssl(
            &folder,
            &[
                "req",
                "-x509",
                "-config",
                "openssl.cnf",
                "-extensions",
                "ca_ext",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca-key.pem",
                "-out",
                "ca.pem",
                "-days",
                "3",
            ],
        );
        TestCa {
            folder,
            _temporary: temporary,
        }
    }

    /// The folder holding `ca.pem` and `ca-key.pem`.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    pub fn certificate(&self) -> PathBuf {
        self.folder.join("ca.pem")
    }

    /// A server certificate with these subject alternative names (`IP:10.0.0.1`), and its
    /// key: `NAME.pem`, `NAME-key.pem` in the CA's folder.
    pub fn server(&self, name: &str, sans: &str) -> (PathBuf, PathBuf) {
        self.issue(
            name,
            &format!("subjectAltName = {sans}\nextendedKeyUsage = serverAuth\n"),
            None,
        )
    }

    /// A server certificate, as [`TestCa::server`], that has expired.
    pub fn expired_server(
        &self,
        name: &str,
        sans: &str,
        validity: &Validity,
    ) -> (PathBuf, PathBuf) {
        self.issue(
            name,
            &format!("subjectAltName = {sans}\nextendedKeyUsage = serverAuth\n"),
            Some(validity),
        )
    }

    /// A client certificate and its key.
    pub fn client(&self, name: &str) -> (PathBuf, PathBuf) {
        self.issue(name, "extendedKeyUsage = clientAuth\n", None)
    }

    fn issue(
        &self,
        name: &str,
        extensions: &str,
        validity: Option<&Validity>,
    ) -> (PathBuf, PathBuf) {
        let folder = &self.folder;
        let key = format!("{name}-key.pem");
        let certificate = format!("{name}.pem");
        let request = format!("{name}.csr");
        let extension_file = format!("{name}.ext");
        fs::write(folder.join(&extension_file), extensions).expect("writes");
        openssl(
            folder,
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &request,
                "-subj",
                &format!("/CN={name}"),
            ],
        );
        match validity {
            None => openssl(
                folder,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &request,
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca-key.pem",
                    "-CAserial",
                    "serial",
                    "-days",
                    "2",
                    "-extfile",
                    &extension_file,
                    "-out",
                    &certificate,
                ],
            ),
            Some(validity) => openssl(
                folder,
                &[
                    "ca",
                    "-batch",
                    "-config",
                    "openssl.cnf",
                    "-cert",
                    "ca.pem",
                    "-keyfile",
                    "ca-key.pem",
                    "-in",
                    &request,
                    "-out",
                    &certificate,
                    "-startdate",
                    validity.not_before,
                    "-enddate",
                    validity.not_after,
                    "-extfile",
                    &extension_file,
                    "-notext",
                ],
            ),
        }
        (folder.join(certificate), folder.join(key))
    }
}

fn openssl(folder: &Path, args: &[&str]) {
    run_successfully(
        Command::new("openssl").args(args).current_dir(folder),
        OPENSSL_TIMEOUT,
    );
}
