//! One host a step logs in to: its address, port and user, the name it is shown by and
//! the variables its templates see as `host.vars`.

use indexmap::IndexMap;
use serde::Serialize;

/// A host as the inventory or a step names it, with the environment's defaults applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostTarget {
    /// The address without the port: a name or an IP address (IPv6 without brackets).
    pub address: String,
    pub port: u16,
    pub user: String,
    /// How the host is shown: the inventory's `name`, else its address.
    pub name: String,
    pub vars: IndexMap<String, serde_json::Value>,
}

impl HostTarget {
    /// Parses `address`, `user@address`, `address:port` or `user@address:port` (IPv6 in
    /// brackets: `[fd00::1]:22`); what is not given is taken from `user` and `port`. The
    /// user may stay empty: an `ssh` step refuses such a host (`has_user`), a template
    /// does not care.
    pub fn parse(text: &str, user: &str, port: u16) -> Result<HostTarget, String> {
        let (user, rest) = match text.rsplit_once('@') {
            Some((given, rest)) if !given.is_empty() => (given, rest),
            Some(_) => return Err(format!("invalid host `{text}`: empty user before `@`")),
            None => (user, text),
        };
        let (address, port) = if let Some(bracketed) = rest.strip_prefix('[') {
            let Some((address, after)) = bracketed.split_once(']') else {
                return Err(format!("invalid host `{text}`: `[` without `]`"));
            };
            match after.strip_prefix(':') {
                Some(port_text) => (address, parse_port(text, port_text)?),
                None if after.is_empty() => (address, port),
                None => return Err(format!("invalid host `{text}`: unexpected `{after}`")),
            }
        } else {
            match rest.split_once(':') {
                Some((address, port_text)) if !port_text.contains(':') => {
                    (address, parse_port(text, port_text)?)
                }
                // Several colons: an IPv6 address without a port.
                Some(_) => (rest, port),
                None => (rest, port),
            }
        };
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
        if address.is_empty() || !address.chars().all(valid) {
            return Err(format!(
                "invalid host `{text}`: expected `address`, `user@address` or \
                 `user@address:port`"
            ));
        }
        Ok(HostTarget {
            address: address.to_owned(),
            port,
            user: user.to_owned(),
            name: address.to_owned(),
            vars: IndexMap::new(),
        })
    }

    pub fn has_user(&self) -> bool {
        !self.user.is_empty()
    }

    /// `user@address:port`, for messages and log prefixes.
    pub fn login(&self) -> String {
        if self.address.contains(':') {
            format!("{}@[{}]:{}", self.user, self.address, self.port)
        } else {
            format!("{}@{}:{}", self.user, self.address, self.port)
        }
    }
}

fn parse_port(text: &str, port: &str) -> Result<u16, String> {
    port.parse::<u16>()
        .ok()
        .filter(|port| *port > 0)
        .ok_or_else(|| format!("invalid host `{text}`: `{port}` is not a port"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Result<(&str, &str, u16), &str>) {
        let parsed =
            HostTarget::parse(text, "deploy", 22).map(|host| (host.user, host.address, host.port));
        let expected = expected
            .map(|(user, address, port)| (user.to_owned(), address.to_owned(), port))
            .map_err(str::to_owned);
        assert_eq!(parsed, expected);
    }

    #[test]
    fn parses_each_form_of_a_host() {
        check("10.0.0.1", Ok(("deploy", "10.0.0.1", 22)));
        check("root@nfs.lan", Ok(("root", "nfs.lan", 22)));
        check("root@10.0.0.1:2222", Ok(("root", "10.0.0.1", 2222)));
        check("node-1:2200", Ok(("deploy", "node-1", 2200)));
        check("[fd00::1]:2200", Ok(("deploy", "fd00::1", 2200)));
        check("fd00::1", Ok(("deploy", "fd00::1", 22)));
        check(
            "root@node:ssh",
            Err("invalid host `root@node:ssh`: `ssh` is not a port"),
        );
        check("@node", Err("invalid host `@node`: empty user before `@`"));
        check(
            "node;rm -rf /",
            Err(
                "invalid host `node;rm -rf /`: expected `address`, `user@address` or `user@address:port`",
            ),
        );
    }
}
