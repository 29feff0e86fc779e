//! The short volume syntax, `[source:]target[:options]`, read as docker's `ParseVolume`
//! reads it: a source starting with `.`, `/` or `~` is a bind mount, any other source is a
//! named volume, no source is an anonymous volume. Options are `ro`, `rw`, `nocopy` and
//! the bind propagations; others (`z`, `cached`, …) are ignored, as by docker.

use super::compose_config::{Origin, ServiceVolumeConfig};

const PROPAGATIONS: &[&str] = &[
    "rprivate", "private", "rshared", "shared", "rslave", "slave",
];

/// The mount one short-syntax entry stands for.
pub fn parse_volume_spec(text: &str, origin: Origin) -> Result<ServiceVolumeConfig, String> {
    let mut volume = ServiceVolumeConfig {
        origin,
        kind: "volume".to_owned(),
        source: String::new(),
        target: String::new(),
        read_only: false,
        consistency: String::new(),
        bind_propagation: None,
        volume_nocopy: None,
        tmpfs_size: None,
    };
    match text.chars().count() {
        0 => return Err("empty volume".to_owned()),
        1 | 2 => {
            volume.target = text.to_owned();
            return Ok(volume);
        }
        _ => {}
    }
    let mut buffer = String::new();
    let mut chars = text.chars().map(Some).chain(std::iter::once(None));
    for next in chars.by_ref() {
        let is_drive_colon = next == Some(':')
            && buffer.chars().count() == 1
            && buffer.chars().all(char::is_alphabetic);
        match next {
            Some(c) if is_drive_colon || c != ':' => buffer.push(c),
            _ => {
                let at_end = next.is_none();
                if buffer.is_empty() {
                    return Err(format!(
                        "invalid volume `{text}`: empty section between colons"
                    ));
                }
                if volume.source.is_empty() && at_end {
                    volume.target = std::mem::take(&mut buffer);
                } else if volume.source.is_empty() {
                    volume.source = std::mem::take(&mut buffer);
                } else if volume.target.is_empty() {
                    volume.target = std::mem::take(&mut buffer);
                } else if !at_end {
                    return Err(format!("invalid volume `{text}`: too many colons"));
                } else {
                    for option in buffer.split(',') {
                        match option {
                            "ro" => volume.read_only = true,
                            "rw" => volume.read_only = false,
                            "nocopy" => volume.volume_nocopy = Some(true),
                            option if PROPAGATIONS.contains(&option) => {
                                volume.bind_propagation = Some(option.to_owned());
                            }
                            _ => {}
                        }
                    }
                    buffer.clear();
                }
            }
        }
    }
    if !volume.source.is_empty() && is_file_path(&volume.source) {
        volume.kind = "bind".to_owned();
    }
    Ok(volume)
}

fn is_file_path(source: &str) -> bool {
    let mut chars = source.chars();
    let first = chars.next();
    if matches!(first, Some('.' | '/' | '~')) {
        return true;
    }
    let second = chars.next();
    if second.is_none() {
        return false;
    }
    if source.starts_with("\\\\") {
        return true;
    }
    second == Some(':') && first.is_some_and(char::is_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn check(text: &str, kind: &str, source: &str, target: &str, read_only: bool) {
        let origin = Origin {
            file: 0,
            span: Span::default(),
        };
        let volume = parse_volume_spec(text, origin).expect(text);
        assert_eq!(
            (
                volume.kind.as_str(),
                volume.source.as_str(),
                volume.target.as_str(),
                volume.read_only
            ),
            (kind, source, target, read_only),
            "{text}"
        );
    }

    #[test]
    fn reads_short_volume_syntax() {
        check("/data", "volume", "", "/data", false);
        check(
            "esdata:/usr/share/data",
            "volume",
            "esdata",
            "/usr/share/data",
            false,
        );
        check(
            "/var/run/docker.sock:/var/run/docker.sock:ro",
            "bind",
            "/var/run/docker.sock",
            "/var/run/docker.sock",
            true,
        );
        check(
            "./config:/etc/config",
            "bind",
            "./config",
            "/etc/config",
            false,
        );
        check("~/x:/x:rw", "bind", "~/x", "/x", false);
        check("/:/rootfs:ro", "bind", "/", "/rootfs", true);
        check("c:/data:/data", "bind", "c:/data", "/data", false);
        check("ab", "volume", "", "ab", false);
    }

    #[test]
    fn reads_options() {
        let origin = Origin {
            file: 0,
            span: Span::default(),
        };
        let volume = parse_volume_spec("data:/data:ro,nocopy,z", origin).expect("parses");
        assert!(volume.read_only);
        assert_eq!(volume.volume_nocopy, Some(true));
        let volume = parse_volume_spec("/a:/b:rshared", origin).expect("parses");
        assert_eq!(volume.bind_propagation.as_deref(), Some("rshared"));
        // A one-letter source followed by `:` is a Windows drive, as for docker.
        assert_eq!(
            parse_volume_spec("a::b", origin).map(|v| v.source),
            Ok("a:".to_owned())
        );
        assert!(parse_volume_spec("ab::c", origin).is_err());
        assert!(parse_volume_spec("ab:cd:ef:gh", origin).is_err());
    }
}
