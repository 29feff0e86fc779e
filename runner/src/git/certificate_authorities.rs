//! Extra certificate authorities for https remotes, such as a self-hosted forge's own CA.
//! libgit2 checks a server's certificate against the system's CAs; when that fails, the
//! mirror asks these whether they vouch for it, with the same checks (chain, validity
//! dates, host name), through OpenSSL's verifier.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use openssl::stack::Stack;
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{X509, X509PurposeId, X509StoreContext, X509VerifyResult};

pub struct CertificateAuthorities {
    path: PathBuf,
    certificates: Vec<X509>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot read certificate authorities from {path}: {reason}")]
pub struct CertificateFileError {
    path: String,
    reason: String,
}

impl CertificateAuthorities {
    /// Reads every PEM certificate of `path`; a file with none is an error.
    pub fn read(path: &Path) -> Result<CertificateAuthorities, CertificateFileError> {
        let error = |reason: String| CertificateFileError {
            path: path.display().to_string(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|source| error(source.to_string()))?;
        let certificates =
            X509::stack_from_pem(&pem).map_err(|_| error("not PEM certificates".to_owned()))?;
        if certificates.is_empty() {
            return Err(error("no PEM certificate in it".to_owned()));
        }
        Ok(CertificateAuthorities {
            path: path.to_owned(),
            certificates,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accepts the server certificate `der` when it chains to one of these authorities
    /// and names `host` (a DNS name or an IP address); otherwise says why not, in
    /// OpenSSL's words.
    pub fn check(&self, der: &[u8], host: &str) -> Result<(), String> {
        let verified = self.verify(der, host).map_err(|error| error.to_string())?;
        verified.map_err(|error| error.error_string().to_owned())
    }

    fn verify(
        &self,
        der: &[u8],
        host: &str,
    ) -> Result<Result<(), X509VerifyResult>, openssl::error::ErrorStack> {
        let leaf = X509::from_der(der)?;
        let store = self.store(host)?;
        // The certificates of the file also serve as intermediates.
        let mut chain = Stack::new()?;
        for certificate in &self.certificates {
            chain.push(certificate.clone())?;
        }
        X509StoreContext::new()?.init(&store, &leaf, &chain, |context| {
            Ok(if context.verify_cert()? {
                Ok(())
            } else {
                Err(context.error())
            })
        })
    }

    fn store(&self, host: &str) -> Result<X509Store, openssl::error::ErrorStack> {
        let mut builder = X509StoreBuilder::new()?;
        for certificate in &self.certificates {
            builder.add_cert(certificate.clone())?;
        }
        let mut parameters = X509VerifyParam::new()?;
        match host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            Ok(address) => parameters.set_ip(address)?,
            Err(_) => parameters.set_host(host)?,
        }
        parameters.set_purpose(X509PurposeId::SSL_SERVER)?;
        builder.set_param(&parameters)?;
        Ok(builder.build())
    }
}
