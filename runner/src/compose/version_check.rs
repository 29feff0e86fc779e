//! Keys newer than a compose file's `version:`, reported as docker's per-version schemas
//! refuse them.

use super::loader::FileContext;
use super::properties::{MINIMUM_VERSIONS, path_matches, version_less_than};
use crate::source::Diagnostics;
use crate::yaml::{Node, NodeValue};

/// Reports keys newer than the file's `version:`, as docker's per-version schemas do.
pub(super) fn check_versions(
    context: &FileContext<'_>,
    root: &Node,
    diagnostics: &mut Diagnostics,
) {
    // Only the patterns newer than this file can report, and no path deeper than the
    // longest of them can match one: most files are walked a few levels deep, or not.
    let newer: Vec<usize> = (0..MINIMUM_VERSIONS.len())
        .filter(|&index| version_less_than(context.version, MINIMUM_VERSIONS[index].1))
        .collect();
    let depth = newer
        .iter()
        .map(|&index| MINIMUM_VERSIONS[index].0.len())
        .max()
        .unwrap_or(0);
    let walk = VersionWalk {
        newer: &newer,
        depth,
    };
    walk.check(context, root, &mut Vec::new(), diagnostics);
}

/// A walk of a compose file for keys newer than its version: `newer` holds the indexes of
/// the [`MINIMUM_VERSIONS`] patterns newer than the file, `depth` the longest of them.
struct VersionWalk<'a> {
    newer: &'a [usize],
    depth: usize,
}

impl VersionWalk<'_> {
    fn check<'n>(
        &self,
        context: &FileContext<'_>,
        node: &'n Node,
        path: &mut Vec<&'n str>,
        diagnostics: &mut Diagnostics,
    ) {
        if path.len() >= self.depth {
            return;
        }
        match &node.value {
            NodeValue::Mapping(entries) => {
                for (key, value) in entries {
                    path.push(key.as_scalar_text().unwrap_or_default());
                    if let Some(minimum) = self.newer_minimum(path) {
                        let name = path.last().copied().unwrap_or_default();
                        diagnostics.push(
                            context
                                .error(
                                    key.span,
                                    format!(
                                        "`{name}` needs compose file version {minimum} or later; this file is version {}",
                                        context.version
                                    ),
                                )
                                .with_help(format!("set `version: \"{minimum}\"` or later at the top of the file")),
                        );
                    }
                    self.check(context, value, path, diagnostics);
                    path.pop();
                }
            }
            NodeValue::Sequence(items) => {
                for item in items {
                    path.push("[]");
                    self.check(context, item, path, diagnostics);
                    path.pop();
                }
            }
            NodeValue::Scalar(_) => {}
        }
    }

    /// The minimum version of the first pattern that matches `path`, when it is newer
    /// than the file.
    fn newer_minimum(&self, path: &[&str]) -> Option<&'static str> {
        let index = self
            .newer
            .iter()
            .copied()
            .find(|&index| path_matches(MINIMUM_VERSIONS[index].0, path))?;
        let first = MINIMUM_VERSIONS[..index]
            .iter()
            .all(|(pattern, _)| !path_matches(pattern, path));
        first.then_some(MINIMUM_VERSIONS[index].1)
    }
}
