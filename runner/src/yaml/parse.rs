//! Builds a [`Node`] tree from saphyr's event stream, resolving anchors, aliases and
//! merge keys, and reporting syntax errors and duplicate keys with their positions.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use super::{Node, NodeValue, Scalar};
use crate::source::{Diagnostic, Position, SourceFile, Span};

/// The result of parsing one file: the document (absent when the file is empty or
/// unreadable) and every problem found on the way.
#[derive(Debug)]
pub struct ParsedDocument {
    pub root: Option<Node>,
    pub problems: Vec<Diagnostic>,
}

/// Parses a file that must hold at most one YAML document.
pub fn parse_document(file: &SourceFile) -> ParsedDocument {
    let mut builder = TreeBuilder {
        file,
        anchors: HashMap::new(),
        stack: Vec::new(),
        root: None,
        documents: 0,
        problems: Vec::new(),
    };
    for event in Parser::new_from_str(file.text()) {
        match event {
            Ok((event, span)) => {
                if let Err(problem) = builder.on_event(event, to_span(span)) {
                    builder.problems.push(*problem);
                    return ParsedDocument {
                        root: None,
                        problems: builder.problems,
                    };
                }
            }
            Err(error) => {
                let marker = error.marker();
                let span = Span::on_line(marker.line(), marker.col() + 1, 1);
                let message = format!("invalid YAML: {}", error.info());
                let mut problem = Diagnostic::error(file, span, message);
                if error.info().contains("flow") {
                    problem =
                        problem.with_help("a `[` or `{` opened before this point is not closed");
                } else if error.info().contains("indentation")
                    || error.info().contains("mapping values")
                {
                    problem =
                        problem.with_help("check the indentation of this line and the one before");
                }
                builder.problems.push(problem);
                return ParsedDocument {
                    root: None,
                    problems: builder.problems,
                };
            }
        }
    }
    ParsedDocument {
        root: builder.root,
        problems: builder.problems,
    }
}

fn to_span(span: saphyr_parser::Span) -> Span {
    Span {
        start: Position {
            line: span.start.line(),
            column: span.start.col() + 1,
        },
        end: Position {
            line: span.end.line(),
            column: span.end.col() + 1,
        },
    }
}

/// A collection being built: its start, anchor, and what it holds so far.
enum Frame {
    Sequence {
        span: Span,
        anchor: usize,
        items: Vec<Node>,
    },
    Mapping {
        span: Span,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
    },
}

struct TreeBuilder<'a> {
    file: &'a SourceFile,
    anchors: HashMap<usize, Node>,
    stack: Vec<Frame>,
    root: Option<Node>,
    documents: usize,
    problems: Vec<Diagnostic>,
}

impl TreeBuilder<'_> {
    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<(), Box<Diagnostic>> {
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(Box::new(Diagnostic::error(
                        self.file,
                        span,
                        "expected a single YAML document, found a second one",
                    )));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let is_str_tag = tag.as_ref().is_some_and(|tag| tag.suffix == "str");
                let node = Node {
                    span,
                    value: NodeValue::Scalar(Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain && !is_str_tag,
                    }),
                };
                self.complete(node, anchor);
            }
            Event::Alias(anchor) => {
                let Some(node) = self.anchors.get(&anchor).cloned() else {
                    return Err(Box::new(Diagnostic::error(
                        self.file,
                        span,
                        "unknown YAML alias",
                    )));
                };
                self.complete(node, 0);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Sequence {
                span,
                anchor,
                items: Vec::new(),
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Mapping {
                span,
                anchor,
                entries: Vec::new(),
                pending_key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(());
                };
                // A flow collection ends at its closing bracket, on the same line.
                let closing = span.end;
                let (node, anchor) = match frame {
                    Frame::Sequence {
                        mut span,
                        anchor,
                        items,
                    } => {
                        if let Some(last) = items.last() {
                            span.end = span.end.max(last.span.end);
                        }
                        if closing.line == span.start.line {
                            span.end = span.end.max(closing);
                        }
                        (
                            Node {
                                span,
                                value: NodeValue::Sequence(items),
                            },
                            anchor,
                        )
                    }
                    Frame::Mapping {
                        mut span,
                        anchor,
                        entries,
                        ..
                    } => {
                        if let Some((_, last)) = entries.last() {
                            span.end = span.end.max(last.span.end);
                        }
                        if closing.line == span.start.line {
                            span.end = span.end.max(closing);
                        }
                        let entries = self.resolve_mapping(entries);
                        (
                            Node {
                                span,
                                value: NodeValue::Mapping(entries),
                            },
                            anchor,
                        )
                    }
                };
                self.complete(node, anchor);
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    /// Hands a finished node to the collection around it, or makes it the root.
    fn complete(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Sequence { items, .. }) => items.push(node),
            Some(Frame::Mapping {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
    }

    /// Applies merge keys (`<<: *base` or `<<: [*a, *b]`): keys written in the mapping win,
    /// then earlier merged mappings over later ones. Reports duplicate keys.
    fn resolve_mapping(&mut self, entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
        let mut explicit: Vec<(Node, Node)> = Vec::with_capacity(entries.len());
        let mut merged: Vec<(Node, Node)> = Vec::new();
        for (key, value) in entries {
            let is_merge_key =
                matches!(&key.value, NodeValue::Scalar(s) if s.plain && s.text == "<<");
            if is_merge_key {
                let sources = match value.value {
                    NodeValue::Sequence(items) => items,
                    _ => vec![value],
                };
                for source in sources {
                    match source.value {
                        NodeValue::Mapping(source_entries) => {
                            for (k, v) in source_entries {
                                if !merged.iter().any(|(m, _)| same_key(m, &k)) {
                                    merged.push((k, v));
                                }
                            }
                        }
                        _ => self.problems.push(Diagnostic::error(
                            self.file,
                            source.span,
                            "a merge key (`<<`) takes a map or a list of maps",
                        )),
                    }
                }
                continue;
            }
            if let Some((first, _)) = explicit.iter().find(|(k, _)| same_key(k, &key)) {
                let name = key.as_scalar_text().unwrap_or("?");
                self.problems.push(
                    Diagnostic::error(self.file, key.span, format!("duplicate key `{name}`"))
                        .with_help(format!(
                            "first defined at line {}, column {}",
                            first.span.start.line, first.span.start.column
                        )),
                );
                continue;
            }
            explicit.push((key, value));
        }
        for (key, value) in merged {
            if !explicit.iter().any(|(k, _)| same_key(k, &key)) {
                explicit.push((key, value));
            }
        }
        explicit
    }
}

fn same_key(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (NodeValue::Scalar(a), NodeValue::Scalar(b)) => a.text == b.text,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ParsedDocument {
        parse_document(&SourceFile::new("t.yml", text))
    }

    #[test]
    fn merge_keys_keep_explicit_values() {
        let doc = parse("base: &b {a: 1, b: 2}\nchild:\n  <<: *b\n  b: 3\n");
        assert!(doc.problems.is_empty());
        let root = doc.root.expect("a document");
        let child = root.get("child").expect("child");
        assert_eq!(child.get("a").and_then(Node::as_scalar_text), Some("1"));
        assert_eq!(child.get("b").and_then(Node::as_scalar_text), Some("3"));
    }

    #[test]
    fn duplicate_keys_are_reported_where_they_repeat() {
        let doc = parse("a: 1\nb: 2\na: 3\n");
        assert_eq!(doc.problems.len(), 1);
        assert_eq!(doc.problems[0].location(), "t.yml:3:1");
        assert_eq!(doc.problems[0].message, "duplicate key `a`");
    }

    #[test]
    fn syntax_errors_have_positions() {
        let doc = parse("a: [1, 2\nb: 3\n");
        assert!(doc.root.is_none());
        assert!(doc.problems[0].message.starts_with("invalid YAML"));
    }

    #[test]
    fn spans_are_one_based() {
        let doc = parse("key:\n  value: x\n");
        let root = doc.root.expect("a document");
        let (key, value) = root
            .get("key")
            .and_then(|n| n.entry("value"))
            .expect("entry");
        assert_eq!(key.span, Span::on_line(2, 3, 5));
        assert_eq!(value.span, Span::on_line(2, 10, 1));
    }
}
