//! Who may use the console and the API: named tokens with a role, the sessions a login
//! opens (kept in a secure, HTTP-only, same-site cookie), and the CSRF token each session
//! carries for its forms.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a token's holder may do: `Viewer` reads; `Operator` also dispatches, cancels and
/// rolls back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
        }
    }

    pub fn may_act(self) -> bool {
        self == Role::Operator
    }
}

/// Someone a token or a session names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub role: Role,
}

/// A named token: `NAME ROLE TOKEN`.
struct NamedToken {
    identity: Identity,
    token: String,
}

/// The tokens `shoal serve` accepts, from `--access-tokens-file` and `--api-token-file`
/// (the single API token is an operator named `api`).
#[derive(Default)]
pub struct AccessTokens {
    tokens: Vec<NamedToken>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccessTokensError {
    #[error("{path}:{line}:1: expected `NAME ROLE TOKEN` (ROLE is viewer or operator)")]
    Malformed { path: String, line: usize },
    #[error("{path}:{line}:{column}: unknown role `{role}`: viewer or operator")]
    UnknownRole {
        path: String,
        line: usize,
        column: usize,
        role: String,
    },
    #[error("{path}:{line}:1: the name `{name}` is given twice")]
    DuplicateName {
        path: String,
        line: usize,
        name: String,
    },
    #[error("{path}: cannot read: {reason}")]
    Unreadable { path: String, reason: String },
}

impl AccessTokens {
    /// Reads a tokens file: one `NAME ROLE TOKEN` a line; blank lines and lines starting
    /// with `#` are left out.
    pub fn read(path: &Path) -> Result<AccessTokens, AccessTokensError> {
        let text =
            std::fs::read_to_string(path).map_err(|error| AccessTokensError::Unreadable {
                path: path.display().to_string(),
                reason: error.to_string(),
            })?;
        AccessTokens::parse(&path.display().to_string(), &text)
    }

    pub fn parse(path: &str, text: &str) -> Result<AccessTokens, AccessTokensError> {
        let mut tokens = AccessTokens::default();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = trimmed.split_whitespace().collect();
            let [name, role, token] = fields.as_slice() else {
                return Err(AccessTokensError::Malformed {
                    path: path.to_owned(),
                    line: line_number,
                });
            };
            let Some(parsed) = Role::parse(role) else {
                let column = line.find(role).unwrap_or(0) + 1;
                return Err(AccessTokensError::UnknownRole {
                    path: path.to_owned(),
                    line: line_number,
                    column,
                    role: (*role).to_owned(),
                });
            };
            if tokens.tokens.iter().any(|t| t.identity.name == *name) {
                return Err(AccessTokensError::DuplicateName {
                    path: path.to_owned(),
                    line: line_number,
                    name: (*name).to_owned(),
                });
            }
            tokens.add(name, parsed, token);
        }
        Ok(tokens)
    }

    /// Adds a token (the single API token: `add("api", Role::Operator, token)`).
    pub fn add(&mut self, name: &str, role: Role, token: &str) {
        self.tokens.push(NamedToken {
            identity: Identity {
                name: name.to_owned(),
                role,
            },
            token: token.to_owned(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Who `given` is, every token compared in constant time.
    pub fn identify(&self, given: &str) -> Option<Identity> {
        let mut found = None;
        for named in &self.tokens {
            if constant_time_equal(given.as_bytes(), named.token.as_bytes()) {
                found = Some(named.identity.clone());
            }
        }
        found
    }

    /// Who the `Authorization: Bearer TOKEN` header names.
    pub fn bearer(&self, headers: &hyper::HeaderMap) -> Option<Identity> {
        headers
            .get(hyper::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .filter(|token| !token.is_empty())
            .and_then(|token| self.identify(token))
    }
}

pub fn constant_time_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .fold(0_u8, |difference, (x, y)| difference | (x ^ y))
            == 0
}

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "shoal_session";

/// How long a session lasts after its login.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// A logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub identity: Identity,
    /// Sent back with every form; a POST without it is refused.
    pub csrf: String,
    opened: Instant,
}

/// The open sessions, in memory: a restart logs everyone out.
#[derive(Default)]
pub struct Sessions {
    open: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Opens a session for `identity`; returns its ID (the cookie's value).
    pub fn open(&self, identity: Identity) -> String {
        let id = random_hex();
        let session = Session {
            identity,
            csrf: random_hex(),
            opened: Instant::now(),
        };
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        open.retain(|_, session| session.opened.elapsed() < SESSION_LIFETIME);
        open.insert(id.clone(), session);
        id
    }

    /// The session of the request's cookie, if it is open and not expired.
    pub fn of_request(&self, headers: &hyper::HeaderMap) -> Option<(String, Session)> {
        let id = cookie(headers, SESSION_COOKIE)?;
        let open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        open.iter()
            .find(|(known, _)| constant_time_equal(known.as_bytes(), id.as_bytes()))
            .filter(|(_, session)| session.opened.elapsed() < SESSION_LIFETIME)
            .map(|(known, session)| (known.clone(), session.clone()))
    }

    pub fn close(&self, id: &str) {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        open.remove(id);
    }
}

/// The `Set-Cookie` value that opens a session: secure, HTTP-only, same-site strict.
pub fn session_cookie(id: &str) -> String {
    format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
        SESSION_LIFETIME.as_secs()
    )
}

/// The `Set-Cookie` value that ends a session in the browser.
pub fn expired_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0")
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &hyper::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(hyper::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// 32 random bytes from the system's source, as hex.
fn random_hex() -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0_u8; 32];
    // The system's random source does not fail on Linux once booted; were it to, the
    // daemon stops rather than hand out a guessable session ID.
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        panic!("the system's random source failed");
    }
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tokens_file_names_each_token_with_its_role() {
        let tokens = AccessTokens::parse(
            "tokens",
            "# who may come in\nana operator t-ana\n\nbob viewer t-bob\n",
        )
        .expect("parses");
        assert_eq!(
            tokens.identify("t-bob"),
            Some(Identity {
                name: "bob".to_owned(),
                role: Role::Viewer
            })
        );
        assert_eq!(
            tokens.identify("t-ana").map(|i| i.role),
            Some(Role::Operator)
        );
        assert_eq!(tokens.identify("t-an"), None);
        assert_eq!(tokens.identify(""), None);
    }

    #[test]
    fn a_bad_tokens_file_says_where() {
        let check = |text: &str, expected: &str| {
            let error = AccessTokens::parse("tokens", text).err().expect("refused");
            assert_eq!(error.to_string(), expected);
        };
        check(
            "ana operator t1\nbob admin t2\n",
            "tokens:2:5: unknown role `admin`: viewer or operator",
        );
        check(
            "ana operator\n",
            "tokens:1:1: expected `NAME ROLE TOKEN` (ROLE is viewer or operator)",
        );
        check(
            "ana operator t1\nana viewer t2\n",
            "tokens:2:1: the name `ana` is given twice",
        );
    }

    #[test]
    fn a_session_is_found_by_its_cookie_and_closed() {
        let sessions = Sessions::default();
        let id = sessions.open(Identity {
            name: "ana".to_owned(),
            role: Role::Operator,
        });
        let mut headers = hyper::HeaderMap::new();
        headers.insert(
            hyper::header::COOKIE,
            format!("other=1; {SESSION_COOKIE}={id}")
                .parse()
                .expect("header"),
        );
        let (found, session) = sessions.of_request(&headers).expect("open");
        assert_eq!(found, id);
        assert_eq!(session.identity.name, "ana");
        assert_eq!(session.csrf.len(), 64);
        sessions.close(&id);
        assert!(sessions.of_request(&headers).is_none());
        assert!(session_cookie(&id).contains("HttpOnly; Secure; SameSite=Strict"));
    }
}
