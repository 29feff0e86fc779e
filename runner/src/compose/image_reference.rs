//! Image references, checked and normalised as docker's `distribution/reference` does:
//! `docker stack deploy` refuses a service whose image does not parse, and the Docker
//! client sends the image with a `:latest` tag added when it has neither tag nor digest
//! (`nginx` becomes `nginx:latest`, `docker.io/library/nginx` too).

const DEFAULT_DOMAIN: &str = "docker.io";
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Checks `image` the way `reference.ParseAnyReference` does.
pub fn check_image_reference(image: &str) -> Result<(), String> {
    if is_image_id(image) || is_digest(image) {
        return Ok(());
    }
    parse_normalized(image).map(|_| ())
}

/// The image as the Docker client sends it: familiar form, with `:latest` when the
/// reference has neither a tag nor a digest. Image ids and digests are kept as written.
pub fn image_with_tag(image: &str) -> String {
    match parse_normalized(image) {
        Ok(reference) => reference.familiar_with_default_tag(),
        Err(_) => image.to_owned(),
    }
}

/// A named reference split into its parts, the domain made explicit.
struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    fn familiar_with_default_tag(&self) -> String {
        let mut name = if self.domain == DEFAULT_DOMAIN {
            match self.path.strip_prefix("library/") {
                Some(rest) if !rest.contains('/') => rest.to_owned(),
                _ => self.path.clone(),
            }
        } else {
            format!("{}/{}", self.domain, self.path)
        };
        match (&self.tag, &self.digest) {
            (None, None) => name.push_str(":latest"),
            (tag, digest) => {
                if let Some(tag) = tag {
                    name.push(':');
                    name.push_str(tag);
                }
                if let Some(digest) = digest {
                    name.push('@');
                    name.push_str(digest);
                }
            }
        }
        name
    }
}

/// `reference.ParseNormalizedNamed`.
fn parse_normalized(text: &str) -> Result<Reference, String> {
    if is_image_id(text) {
        return Err("an image id is not a repository name".to_owned());
    }
    let (domain, remainder) = split_docker_domain(text);
    let remote_name = remainder.split(':').next().unwrap_or("");
    if remote_name.to_lowercase() != remote_name {
        return Err(format!("repository name `{remote_name}` must be lowercase"));
    }
    let full = format!("{domain}/{remainder}");
    let (name, digest) = match full.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (full.as_str(), None),
    };
    // The tag follows the last `:` that comes after the last `/` (a `:` before it is a port).
    let last_slash = name.rfind('/').unwrap_or(0);
    let (name, tag) = match name[last_slash..].rfind(':') {
        Some(index) => (
            &name[..last_slash + index],
            Some(&name[last_slash + index + 1..]),
        ),
        None => (name, None),
    };
    if let Some(digest) = digest
        && !is_digest(digest)
    {
        return Err(format!("invalid digest `{digest}`"));
    }
    if let Some(tag) = tag
        && !is_tag(tag)
    {
        return Err(format!("invalid tag `{tag}`"));
    }
    let (parsed_domain, path) = name.split_once('/').unwrap_or(("", name));
    if !is_domain(parsed_domain) || path.is_empty() || !path.split('/').all(is_path_component) {
        return Err("invalid reference format".to_owned());
    }
    if name.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(format!(
            "repository name is longer than {NAME_TOTAL_LENGTH_MAX} characters"
        ));
    }
    Ok(Reference {
        domain: parsed_domain.to_owned(),
        path: path.to_owned(),
        tag: tag.map(str::to_owned),
        digest: digest.map(str::to_owned),
    })
}

fn split_docker_domain(name: &str) -> (String, String) {
    let Some((maybe_domain, maybe_remote)) = name.split_once('/') else {
        return (DEFAULT_DOMAIN.to_owned(), format!("library/{name}"));
    };
    let (domain, remote) = if maybe_domain == "localhost" {
        (maybe_domain.to_owned(), maybe_remote.to_owned())
    } else if maybe_domain == "index.docker.io" {
        (DEFAULT_DOMAIN.to_owned(), maybe_remote.to_owned())
    } else if maybe_domain.contains(['.', ':']) || maybe_domain.to_lowercase() != maybe_domain {
        (maybe_domain.to_owned(), maybe_remote.to_owned())
    } else {
        (DEFAULT_DOMAIN.to_owned(), name.to_owned())
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        return (domain, format!("library/{remote}"));
    }
    (domain, remote)
}

/// 64 lower-case hexadecimal characters.
fn is_image_id(text: &str) -> bool {
    text.len() == 64 && text.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

/// `algorithm:hex`, e.g. `sha256:` and at least 32 hex characters.
fn is_digest(text: &str) -> bool {
    let Some((algorithm, hex)) = text.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.split(['+', '.', '-', '_']).all(|part| {
        let mut chars = part.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric())
    });
    algorithm_ok && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
}

/// `[\w][\w.-]{0,127}`
fn is_tag(text: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = text.chars();
    chars.next().is_some_and(word)
        && text.len() <= 128
        && chars.all(|c| word(c) || c == '.' || c == '-')
}

/// A host name or IP address with an optional port.
fn is_domain(text: &str) -> bool {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let Some((address, after)) = rest.split_once(']') else {
            return false;
        };
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        ("", after.strip_prefix(':'))
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()))
    {
        return false;
    }
    if text.starts_with('[') {
        return true;
    }
    !host.is_empty()
        && host.split('.').all(|component| {
            !component.is_empty()
                && component
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !component.starts_with('-')
                && !component.ends_with('-')
        })
}

/// `[a-z0-9]+` separated by `.`, `_`, `__` or runs of `-`.
fn is_path_component(text: &str) -> bool {
    let bytes = text.as_bytes();
    let alphanumeric = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alphanumeric(bytes[0]) || !alphanumeric(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut index = 0;
    while index < bytes.len() {
        if alphanumeric(bytes[index]) {
            index += 1;
            continue;
        }
        let separator_length = bytes[index..]
            .iter()
            .take_while(|b| !alphanumeric(**b))
            .count();
        let separator = &text[index..index + separator_length];
        let valid = matches!(separator, "." | "_" | "__") || separator.chars().all(|c| c == '-');
        if !valid {
            return false;
        }
        index += separator_length;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_latest_and_familiarises() {
        let cases = [
            ("nginx", "nginx:latest"),
            ("nginx:1.25", "nginx:1.25"),
            ("docker.io/library/nginx", "nginx:latest"),
            ("index.docker.io/library/nginx:1", "nginx:1"),
            ("google/cadvisor", "google/cadvisor:latest"),
            ("minio/minio:latest", "minio/minio:latest"),
            ("localhost:5000/app", "localhost:5000/app:latest"),
            (
                "registry.example.com/team/app:v1.2",
                "registry.example.com/team/app:v1.2",
            ),
            (
                "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
        ];
        for (image, expected) in cases {
            assert_eq!(check_image_reference(image), Ok(()), "{image}");
            assert_eq!(image_with_tag(image), expected, "{image}");
        }
    }

    #[test]
    fn rejects_invalid_references() {
        for image in [
            "Nginx", "nginx:", "-nginx", "nginx::1", "my image", "a//b", "",
        ] {
            assert!(check_image_reference(image).is_err(), "{image}");
        }
        let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(check_image_reference(id), Ok(()));
        assert_eq!(image_with_tag(id), id);
    }
}
