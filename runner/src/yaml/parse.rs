//! Builds a [`Node`] tree from saphyr's event stream, resolving anchors, aliases and
//! merge keys, and reporting syntax errors and duplicate keys with their positions. The
//! document's size is counted as it is built, aliases expanded, so that a file that would
//! grow past the limits of [`crate::limits`] is refused before anything is copied.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use super::{Node, NodeValue, Scalar};
use crate::limits::{
    MAX_YAML_ALIAS_DEPTH, MAX_YAML_NESTING, MAX_YAML_NODES, MAX_YAML_TEXT_BYTES, describe_bytes,
};
use crate::source::{Diagnostic, Position, SourceFile, Span};

/// The result of parsing one file: the document (absent when the file is empty or
/// unreadable) and every problem found on the way.
#[derive(Debug)]
pub struct ParsedDocument {
    pub root: Option<Node>,
    pub problems: Vec<Diagnostic>,
    /// The nodes built, aliases expanded and the copies anchors keep included: what the
    /// document cost, for the budget of a commit.
    pub nodes: u64,
}

/// Parses a file that must hold at most one YAML document.
pub fn parse_document(file: &SourceFile) -> ParsedDocument {
    let mut builder = TreeBuilder {
        file,
        anchors: HashMap::new(),
        stack: Vec::new(),
        root: None,
        total: Extent::default(),
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
                        nodes: builder.total.nodes as u64,
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
                    nodes: builder.total.nodes as u64,
                };
            }
        }
    }
    ParsedDocument {
        root: builder.root,
        problems: builder.problems,
        nodes: builder.total.nodes as u64,
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

/// What a node holds once its aliases are expanded: counted as the tree is built, so
/// that an alias is measured before it is copied.
#[derive(Debug, Clone, Copy, Default)]
struct Extent {
    nodes: usize,
    text_bytes: usize,
    /// How many collections deep it is: 0 for a scalar, 1 for a list of scalars.
    height: usize,
    /// How many aliases deep it is: 0 without any, 1 for an alias of a value without any.
    alias_depth: usize,
}

impl Extent {
    fn scalar(text: &str) -> Extent {
        Extent {
            nodes: 1,
            text_bytes: text.len(),
            height: 0,
            alias_depth: 0,
        }
    }

    /// A list or map that holds nothing yet.
    fn collection() -> Extent {
        Extent {
            nodes: 1,
            text_bytes: 0,
            height: 1,
            alias_depth: 0,
        }
    }

    /// Adds a child's extent to its collection's.
    fn add(&mut self, child: Extent) {
        self.nodes = self.nodes.saturating_add(child.nodes);
        self.text_bytes = self.text_bytes.saturating_add(child.text_bytes);
        self.height = self.height.max(child.height + 1);
        self.alias_depth = self.alias_depth.max(child.alias_depth);
    }
}

/// What makes a YAML document grow, for the message when it grows too much.
#[derive(Debug, Clone, Copy)]
enum Growth {
    /// A scalar or a collection written in the file.
    Value,
    /// The copy an alias makes of its anchor's value.
    Alias,
    /// The copy of an anchored value that its aliases are made from.
    Anchor,
}

/// A collection being built: its start, anchor, and what it holds so far.
enum Frame {
    Sequence {
        span: Span,
        anchor: usize,
        items: Vec<Node>,
        extent: Extent,
    },
    Mapping {
        span: Span,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
        extent: Extent,
    },
}

impl Frame {
    fn extent_mut(&mut self) -> &mut Extent {
        match self {
            Frame::Sequence { extent, .. } | Frame::Mapping { extent, .. } => extent,
        }
    }
}

struct TreeBuilder<'a> {
    file: &'a SourceFile,
    /// Each anchored node with its extent.
    anchors: HashMap<usize, (Node, Extent)>,
    stack: Vec<Frame>,
    root: Option<Node>,
    /// The nodes and text of the whole document so far, aliases expanded.
    total: Extent,
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
                let extent = Extent::scalar(&text);
                self.count(extent, span, Growth::Value)?;
                let node = Node {
                    span,
                    value: NodeValue::Scalar(Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain && !is_str_tag,
                    }),
                };
                self.complete(node, anchor, extent)?;
            }
            Event::Alias(anchor) => {
                let Some((_, anchored)) = self.anchors.get(&anchor) else {
                    return Err(Box::new(Diagnostic::error(
                        self.file,
                        span,
                        "unknown YAML alias",
                    )));
                };
                let extent = Extent {
                    alias_depth: anchored.alias_depth + 1,
                    ..*anchored
                };
                self.check_alias(extent, span)?;
                self.count(extent, span, Growth::Alias)?;
                let node = self.anchors[&anchor].0.clone();
                self.complete(node, 0, extent)?;
            }
            Event::SequenceStart(anchor, _) => {
                self.open_collection(span)?;
                self.stack.push(Frame::Sequence {
                    span,
                    anchor,
                    items: Vec::new(),
                    extent: Extent::collection(),
                });
            }
            Event::MappingStart(anchor, _) => {
                self.open_collection(span)?;
                self.stack.push(Frame::Mapping {
                    span,
                    anchor,
                    entries: Vec::new(),
                    pending_key: None,
                    extent: Extent::collection(),
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(());
                };
                // A flow collection ends at its closing bracket, on the same line.
                let closing = span.end;
                let (node, anchor, extent) = match frame {
                    Frame::Sequence {
                        mut span,
                        anchor,
                        items,
                        extent,
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
                            extent,
                        )
                    }
                    Frame::Mapping {
                        mut span,
                        anchor,
                        entries,
                        extent,
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
                            extent,
                        )
                    }
                };
                self.complete(node, anchor, extent)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    /// Counts what `growth` adds to the document (a scalar, a collection's start, an
    /// alias's copy, or the copy of an anchored value its aliases are made from), or
    /// refuses it when the document would hold more than the limits allow.
    fn count(&mut self, extent: Extent, span: Span, growth: Growth) -> Result<(), Box<Diagnostic>> {
        let nodes = self.total.nodes.saturating_add(extent.nodes);
        let text_bytes = self.total.text_bytes.saturating_add(extent.text_bytes);
        let grows_to = match growth {
            Growth::Value => "the document has",
            Growth::Alias => "this alias would expand the document to",
            Growth::Anchor => {
                "keeping this anchored value for its aliases would take the document to"
            }
        };
        let problem = if nodes > MAX_YAML_NODES {
            format!("{grows_to} more than {MAX_YAML_NODES} nodes")
        } else if text_bytes > MAX_YAML_TEXT_BYTES {
            format!(
                "{grows_to} more than {} of text",
                describe_bytes(MAX_YAML_TEXT_BYTES as u64)
            )
        } else {
            self.total.nodes = nodes;
            self.total.text_bytes = text_bytes;
            return Ok(());
        };
        let help = match growth {
            Growth::Value => {
                "shoal refuses a YAML document this large; split it into several files"
            }
            Growth::Alias | Growth::Anchor => {
                "an alias copies the whole value its anchor names, so aliases of aliases multiply; shoal refuses a YAML document that grows past its limits once its aliases are expanded"
            }
        };
        Err(Box::new(
            Diagnostic::error(self.file, span, problem).with_help(help),
        ))
    }

    /// Refuses an alias nested too deep in other aliases, or whose value would nest
    /// collections too deep where it stands.
    fn check_alias(&self, extent: Extent, span: Span) -> Result<(), Box<Diagnostic>> {
        if extent.alias_depth > MAX_YAML_ALIAS_DEPTH {
            return Err(Box::new(Diagnostic::error(
                self.file,
                span,
                format!("this alias nests aliases more than {MAX_YAML_ALIAS_DEPTH} deep"),
            )));
        }
        if self.stack.len() + extent.height > MAX_YAML_NESTING {
            return Err(Box::new(self.nesting_error(span)));
        }
        Ok(())
    }

    /// Counts the start of a list or map, refusing one nested too deep.
    fn open_collection(&mut self, span: Span) -> Result<(), Box<Diagnostic>> {
        if self.stack.len() + 1 > MAX_YAML_NESTING {
            return Err(Box::new(self.nesting_error(span)));
        }
        self.count(Extent::scalar(""), span, Growth::Value)
    }

    fn nesting_error(&self, span: Span) -> Diagnostic {
        Diagnostic::error(
            self.file,
            span,
            format!("lists and maps nest more than {MAX_YAML_NESTING} deep here"),
        )
    }

    /// Hands a finished node to the collection around it, or makes it the root, keeping a
    /// copy of an anchored one for its aliases (counted: anchors nested in anchors each
    /// keep a copy).
    fn complete(
        &mut self,
        node: Node,
        anchor: usize,
        extent: Extent,
    ) -> Result<(), Box<Diagnostic>> {
        if anchor != 0 {
            self.count(extent, node.span, Growth::Anchor)?;
            self.anchors.insert(anchor, (node.clone(), extent));
        }
        if let Some(frame) = self.stack.last_mut() {
            frame.extent_mut().add(extent);
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
        Ok(())
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

    /// Nine anchors of nine aliases each: 9^9 strings once expanded (a "billion laughs").
    pub(crate) fn alias_bomb() -> String {
        let mut text = String::from(
            "a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n",
        );
        for (previous, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            let aliases = vec![format!("*{previous}"); 9].join(", ");
            text.push_str(&format!("{name}: &{name} [{aliases}]\n"));
        }
        text
    }

    fn only_problem(text: &str) -> (String, String) {
        let doc = parse(text);
        assert!(doc.root.is_none(), "the document is refused");
        assert_eq!(doc.problems.len(), 1, "{:?}", doc.problems);
        (doc.problems[0].location(), doc.problems[0].message.clone())
    }

    #[test]
    fn an_alias_bomb_is_refused_at_the_alias_that_crosses_the_limit() {
        assert_eq!(
            only_problem(&alias_bomb()),
            (
                "t.yml:6:12".to_owned(),
                "this alias would expand the document to more than 250000 nodes".to_owned()
            )
        );
    }

    #[test]
    fn a_long_string_aliased_many_times_is_refused() {
        let long = "x".repeat(100_000);
        let aliases = vec!["*long"; 100].join(", ");
        let text = format!("long: &long {long}\ncopies: [{aliases}]\n");
        let (location, message) = only_problem(&text);
        assert_eq!(
            message,
            "this alias would expand the document to more than 8 MiB of text"
        );
        assert!(location.starts_with("t.yml:2:"), "{location}");
    }

    #[test]
    fn aliases_nested_too_deep_are_refused() {
        let mut text = String::from("x0: &x0 [1]\n");
        for level in 1..=11 {
            text.push_str(&format!("x{level}: &x{level} [*x{}]\n", level - 1));
        }
        assert_eq!(
            only_problem(&text),
            (
                "t.yml:12:12".to_owned(),
                "this alias nests aliases more than 10 deep".to_owned()
            )
        );
    }

    #[test]
    fn collections_nested_too_deep_are_refused() {
        let text = format!("{}{}\n", "[".repeat(65), "]".repeat(65));
        assert_eq!(
            only_problem(&text),
            (
                "t.yml:1:65".to_owned(),
                "lists and maps nest more than 64 deep here".to_owned()
            )
        );
        let within = format!("{}{}\n", "[".repeat(64), "]".repeat(64));
        assert!(parse(&within).problems.is_empty());
    }

    #[test]
    fn an_alias_that_would_nest_too_deep_is_refused() {
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        let text = format!("a: &a {deep}\nb: {}*a{}\n", "[".repeat(30), "]".repeat(30));
        let (location, message) = only_problem(&text);
        assert_eq!(message, "lists and maps nest more than 64 deep here");
        assert_eq!(location, "t.yml:2:34");
    }

    #[test]
    fn anchors_nested_in_anchors_count_the_copies_they_keep() {
        // Each anchor keeps a copy of its value: 30 anchors around one large value would
        // keep 30 copies of it.
        let big = format!("big: &big [{}]\n", vec!["*row"; 90].join(", "));
        let mut text = format!("row: &row [{}]\n{big}", vec!["x"; 900].join(", "));
        text.push_str("nested: ");
        for level in 0..30 {
            text.push_str(&format!("&n{level} ["));
        }
        text.push_str("*big");
        text.push_str(&"]".repeat(30));
        text.push('\n');
        let (location, message) = only_problem(&text);
        assert_eq!(
            message,
            "keeping this anchored value for its aliases would take the document to more than 250000 nodes"
        );
        assert!(location.starts_with("t.yml:3:"), "{location}");
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
