//! Watches the refs of a config repo on this machine, so that a local commit is fetched at
//! once instead of at the next poll. Bursts of changes (a commit rewrites a ref through a
//! lock file, `git gc` packs refs) are reported once, after 200 ms of quiet.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher as _};

use super::GitError;

/// How long the refs must stay unchanged before a change is reported.
const QUIET: Duration = Duration::from_millis(200);

/// Watching stops when it is dropped.
pub struct RefWatcher {
    _watcher: notify::RecommendedWatcher,
}

impl RefWatcher {
    /// Watches the repository at `path` (a work tree or a bare repository): its `HEAD`,
    /// `packed-refs` and everything under `refs/`. Calls `on_change` on a thread of its
    /// own after each burst of changes.
    pub fn start(
        path: &Path,
        on_change: impl Fn() + Send + 'static,
    ) -> Result<RefWatcher, GitError> {
        let repository = git2::Repository::open(path).map_err(|source| GitError::Git {
            operation: "open the repository to watch".to_owned(),
            url: path.display().to_string(),
            source,
        })?;
        let git_folder = repository.path().to_owned();
        // A linked work tree keeps its HEAD apart and its branches in the common folder.
        let common_folder = repository.commondir().to_owned();
        let refs = common_folder.join("refs");
        let (changes, changed) = mpsc::channel::<()>();
        let relevant = {
            let refs = refs.clone();
            move |path: &Path| {
                let name = path
                    .file_name()
                    .map(|name| name.to_string_lossy())
                    .unwrap_or_default();
                !name.ends_with(".lock")
                    && (path.starts_with(&refs) || name == "HEAD" || name == "packed-refs")
            }
        };
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                if matches!(event.kind, EventKind::Access(_)) {
                    return;
                }
                if event.paths.iter().any(|path| relevant(path)) {
                    let _ = changes.send(());
                }
            })
            .map_err(|source| watch_error(path, source))?;
        let mut folders: Vec<(PathBuf, RecursiveMode)> = vec![
            (common_folder.clone(), RecursiveMode::NonRecursive),
            (refs, RecursiveMode::Recursive),
        ];
        if git_folder != common_folder {
            folders.push((git_folder, RecursiveMode::NonRecursive));
        }
        for (folder, mode) in &folders {
            watcher
                .watch(folder, *mode)
                .map_err(|source| watch_error(folder, source))?;
        }
        std::thread::spawn(move || {
            // Ends when the watcher, which holds the sending side, is dropped.
            while changed.recv().is_ok() {
                while changed.recv_timeout(QUIET).is_ok() {}
                on_change();
            }
        });
        Ok(RefWatcher { _watcher: watcher })
    }
}

fn watch_error(path: &Path, source: notify::Error) -> GitError {
    GitError::Watch {
        path: path.display().to_string(),
        source,
    }
}
