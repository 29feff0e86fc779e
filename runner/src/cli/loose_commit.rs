//! The checked-out commit read from a repository's files, without starting a process:
//! `HEAD`, the branch's ref (loose or in `packed-refs`) and the commit's loose object.
//! A commit made or pulled in small steps is a loose object; one that came in a pack (a
//! fresh clone, after `git gc`) is not, and neither is anything unusual (a linked work
//! tree, a ref nested too deep, a message in another encoding): for those the caller asks
//! `git`, which knows every case.

use std::io::Read as _;
use std::path::Path;

use crate::render::CommitInfo;

/// How many symbolic refs may lead from `HEAD` to a commit.
const MAX_SYMBOLIC_DEPTH: usize = 5;
/// A commit object larger than this is left to `git`.
const MAX_COMMIT_SIZE: u64 = 1 << 20;

/// The commit `HEAD` names in the repository whose `.git` folder is `dot_git`, when every
/// part of it is at hand; `None` otherwise.
pub fn read_head(dot_git: &Path) -> Option<CommitInfo> {
    let (sha, branch) = resolve_head(dot_git)?;
    let object = read_loose_object(dot_git, &sha)?;
    let (author, summary) = parse_commit(&object)?;
    Some(CommitInfo::new(&sha, &summary, &author, &branch))
}

/// The commit `HEAD` points at and the branch checked out (empty when detached).
fn resolve_head(dot_git: &Path) -> Option<(String, String)> {
    let mut reference = "HEAD".to_owned();
    let mut branch = String::new();
    for _ in 0..MAX_SYMBOLIC_DEPTH {
        let target = read_ref(dot_git, &reference)?;
        match target.strip_prefix("ref:") {
            Some(symbolic) => {
                reference = symbolic.trim().to_owned();
                if let Some(name) = reference.strip_prefix("refs/heads/") {
                    name.clone_into(&mut branch);
                }
            }
            None if is_object_id(&target) => return Some((target, branch)),
            None => return None,
        }
    }
    None
}

/// What a ref holds: a loose ref file, else its line in `packed-refs`.
fn read_ref(dot_git: &Path, reference: &str) -> Option<String> {
    // A ref name never climbs out of the repository.
    if reference
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return None;
    }
    if let Ok(text) = std::fs::read_to_string(dot_git.join(reference)) {
        return Some(text.trim().to_owned());
    }
    let packed = std::fs::read_to_string(dot_git.join("packed-refs")).ok()?;
    packed
        .lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with('^'))
        .find_map(|line| {
            let (id, name) = line.split_once(' ')?;
            (name == reference).then(|| id.to_owned())
        })
}

/// A SHA-1 or SHA-256 object ID in lowercase hex.
fn is_object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64)
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// The body of the loose object `id`, when it is a commit.
fn read_loose_object(dot_git: &Path, id: &str) -> Option<Vec<u8>> {
    let path = dot_git.join("objects").join(&id[..2]).join(&id[2..]);
    let file = std::fs::File::open(path).ok()?;
    let mut inflated = Vec::new();
    flate2::read::ZlibDecoder::new(file)
        .take(MAX_COMMIT_SIZE)
        .read_to_end(&mut inflated)
        .ok()?;
    let header_end = inflated.iter().position(|&byte| byte == 0)?;
    let header = std::str::from_utf8(&inflated[..header_end]).ok()?;
    let size: usize = header.strip_prefix("commit ")?.parse().ok()?;
    let body = inflated.split_off(header_end + 1);
    (body.len() == size).then_some(body)
}

/// The author's name and the subject (`git log --format=%an` and `%s`) of a commit
/// object's body.
fn parse_commit(body: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(body).ok()?;
    let (headers, message) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut author = None;
    for header in headers.lines() {
        // Continuation lines of a multi-line header (a signature) start with a space.
        if header.starts_with(' ') {
            continue;
        }
        let (key, value) = header.split_once(' ').unwrap_or((header, ""));
        match key {
            "author" => author = Some(value.split_once(" <")?.0.to_owned()),
            // A message in another encoding is left to git, which converts it.
            "encoding" if !value.eq_ignore_ascii_case("utf-8") => return None,
            _ => {}
        }
    }
    Some((author?, subject(message)))
}

/// The message's first paragraph on one line, as `%s` shows it.
fn subject(message: &str) -> String {
    message
        .lines()
        .skip_while(|line| line.trim().is_empty())
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_body_gives_its_author_and_subject() {
        let body = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Ana Lopes <ana@example.org> 1763800000 +0100\ncommitter Bo <bo@example.org> 1763800000 +0100\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n\nRoll out traefik 3.2\nto staging\n\nBody text\n";
        let (author, summary) = parse_commit(body).expect("a commit");
        assert_eq!(author, "Ana Lopes");
        assert_eq!(summary, "Roll out traefik 3.2 to staging");
    }

    #[test]
    fn a_message_in_another_encoding_is_left_to_git() {
        let body = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@b> 1 +0000\nencoding ISO-8859-1\n\nx\n";
        assert_eq!(parse_commit(body), None);
    }

    #[test]
    fn only_lowercase_hex_of_the_right_length_is_an_object_id() {
        assert!(is_object_id(&"a".repeat(40)));
        assert!(is_object_id(&"0".repeat(64)));
        assert!(!is_object_id(&"A".repeat(40)));
        assert!(!is_object_id("abc"));
    }

    #[test]
    fn a_ref_name_cannot_leave_the_repository() {
        let folder = tempfile::tempdir().expect("temporary folder");
        assert_eq!(read_ref(folder.path(), "refs/../../etc/passwd"), None);
    }
}
