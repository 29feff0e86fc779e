//! A unified diff of two texts, line by line, for the plan of a host's file.

use std::fmt::Write as _;

/// Lines of context around each change.
const CONTEXT: usize = 3;
/// Above this many lines in the changed middle of the two texts, the middle is shown as
/// removed and added whole rather than compared line by line (which costs their product).
const MOST_COMPARED_LINES: usize = 2000;

/// The diff of `before` and `after` as hunks (`@@ -1,3 +1,4 @@`, then ` `, `-` and `+`
/// lines); empty when they are equal.
pub fn unified_diff(before: &str, after: &str) -> String {
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let edits = edits(&old, &new);
    let mut out = String::new();
    let mut index = 0;
    while index < edits.len() {
        // The next change, with its context; changes closer than twice the context
        // share a hunk.
        let Some(first) = (index..edits.len()).find(|&i| edits[i].0 != ' ') else {
            break;
        };
        let start = first.saturating_sub(CONTEXT);
        let mut end = first;
        let mut last_change = first;
        while end < edits.len() {
            if edits[end].0 != ' ' {
                last_change = end;
            } else if end - last_change > 2 * CONTEXT {
                break;
            }
            end += 1;
        }
        let end = (last_change + CONTEXT + 1).min(edits.len());
        let old_start = edits[..start].iter().filter(|e| e.0 != '+').count();
        let new_start = edits[..start].iter().filter(|e| e.0 != '-').count();
        let hunk = &edits[start..end];
        let old_count = hunk.iter().filter(|e| e.0 != '+').count();
        let new_count = hunk.iter().filter(|e| e.0 != '-').count();
        let _ = writeln!(
            out,
            "@@ -{},{old_count} +{},{new_count} @@",
            old_start + usize::from(old_count > 0),
            new_start + usize::from(new_count > 0)
        );
        for (mark, line) in hunk {
            let _ = writeln!(out, "{mark}{line}");
        }
        index = end;
    }
    out
}

/// The lines of both texts in order, each marked ` ` (in both), `-` or `+`.
fn edits<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<(char, &'a str)> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_middle = &old[prefix..old.len() - suffix];
    let new_middle = &new[prefix..new.len() - suffix];
    let mut edits: Vec<(char, &str)> = old[..prefix].iter().map(|line| (' ', *line)).collect();
    if old_middle.len() > MOST_COMPARED_LINES || new_middle.len() > MOST_COMPARED_LINES {
        edits.extend(old_middle.iter().map(|line| ('-', *line)));
        edits.extend(new_middle.iter().map(|line| ('+', *line)));
    } else {
        edits.extend(common_subsequence_edits(old_middle, new_middle));
    }
    edits.extend(old[old.len() - suffix..].iter().map(|line| (' ', *line)));
    edits
}

/// Edits through a longest common subsequence table.
fn common_subsequence_edits<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<(char, &'a str)> {
    let width = new.len() + 1;
    let mut lengths = vec![0usize; (old.len() + 1) * width];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            lengths[i * width + j] = if old[i] == new[j] {
                lengths[(i + 1) * width + j + 1] + 1
            } else {
                lengths[(i + 1) * width + j].max(lengths[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut edits = Vec::new();
    while i < old.len() && j < new.len() {
        if old[i] == new[j] {
            edits.push((' ', old[i]));
            i += 1;
            j += 1;
        } else if lengths[(i + 1) * width + j] >= lengths[i * width + j + 1] {
            edits.push(('-', old[i]));
            i += 1;
        } else {
            edits.push(('+', new[j]));
            j += 1;
        }
    }
    edits.extend(old[i..].iter().map(|line| ('-', *line)));
    edits.extend(new[j..].iter().map(|line| ('+', *line)));
    edits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_changed_lines_with_context() {
        let before = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let after = "a\nb\nc\nd\nE\nf\ng\nh\ni\n";
        assert_eq!(
            unified_diff(before, after),
            "@@ -2,7 +2,8 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n+i\n"
        );
    }

    #[test]
    fn a_new_file_is_all_added_and_equal_texts_have_no_diff() {
        assert_eq!(unified_diff("", "x\ny\n"), "@@ -0,0 +1,2 @@\n+x\n+y\n");
        assert_eq!(unified_diff("same\n", "same\n"), "");
    }
}
