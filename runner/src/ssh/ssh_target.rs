//! Which machine to log in to, and as whom: `user@address:port`.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SshTarget {
    /// A host name or an IP address (IPv6 without brackets).
    pub address: String,
    pub port: u16,
    pub user: String,
}

impl SshTarget {
    pub fn new(user: &str, address: &str, port: u16) -> SshTarget {
        SshTarget {
            address: address.to_owned(),
            port,
            user: user.to_owned(),
        }
    }

    /// `address:port`, with brackets around an IPv6 address: what a connection error names.
    pub fn socket_address(&self) -> String {
        if self.address.contains(':') {
            format!("[{}]:{}", self.address, self.port)
        } else {
            format!("{}:{}", self.address, self.port)
        }
    }
}

impl fmt::Display for SshTarget {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}@{}", self.user, self.socket_address())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_reads_as_user_at_address_and_port() {
        assert_eq!(
            SshTarget::new("root", "10.0.0.7", 22).to_string(),
            "root@10.0.0.7:22"
        );
        assert_eq!(
            SshTarget::new("deploy", "fd00::7", 2222).to_string(),
            "deploy@[fd00::7]:2222"
        );
    }
}
