//! The swarm each manager address was last seen to belong to, kept in a file on the
//! runner's machine (`known_swarms`, beside the state it keeps), as OpenSSH keeps host
//! keys in known_hosts: the first answer is trusted and remembered, and a later one that
//! differs (a cluster reinstalled at the same address) is refused rather than treated as
//! the old swarm. One line per address: `HOST SWARM_ID`.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct KnownSwarms {
    path: PathBuf,
}

impl KnownSwarms {
    pub fn at(path: &Path) -> KnownSwarms {
        KnownSwarms {
            path: path.to_owned(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The swarm `host` was last seen to belong to.
    pub fn swarm_of(&self, host: &str) -> Result<Option<String>, String> {
        Ok(self
            .entries()?
            .into_iter()
            .find(|(known, _)| known == host)
            .map(|(_, swarm)| swarm))
    }

    /// Records that `host` belongs to `swarm`, replacing what was known of it.
    pub fn remember(&self, host: &str, swarm: &str) -> Result<(), String> {
        let mut entries = self.entries()?;
        if entries
            .iter()
            .any(|(known, known_swarm)| known == host && known_swarm == swarm)
        {
            return Ok(());
        }
        entries.retain(|(known, _)| known != host);
        entries.push((host.to_owned(), swarm.to_owned()));
        let text: String = entries
            .iter()
            .map(|(host, swarm)| format!("{host} {swarm}\n"))
            .collect();
        let problem =
            |error: std::io::Error| format!("cannot write {}: {error}", self.path.display());
        if let Some(folder) = self.path.parent() {
            std::fs::create_dir_all(folder).map_err(problem)?;
        }
        // Written whole and renamed over the old file, so a reader never sees half of it.
        let partial = self.path.with_extension("partial");
        std::fs::write(&partial, text).map_err(problem)?;
        std::fs::rename(&partial, &self.path).map_err(problem)
    }

    fn entries(&self) -> Result<Vec<(String, String)>, String> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(format!("cannot read {}: {error}", self.path.display())),
        };
        Ok(text
            .lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(host, swarm)| (host.to_owned(), swarm.trim().to_owned()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_one_swarm_per_host() {
        let folder = tempfile::tempdir().expect("temp");
        let known = KnownSwarms::at(&folder.path().join("state/known_swarms"));
        assert_eq!(known.swarm_of("tcp://m1:2376"), Ok(None));
        known.remember("tcp://m1:2376", "aaa").expect("writes");
        known.remember("tcp://m2:2376", "aaa").expect("writes");
        known.remember("tcp://m1:2376", "bbb").expect("writes");
        assert_eq!(known.swarm_of("tcp://m1:2376"), Ok(Some("bbb".to_owned())));
        assert_eq!(
            std::fs::read_to_string(known.path()).expect("reads"),
            "tcp://m2:2376 aaa\ntcp://m1:2376 bbb\n"
        );
    }
}
