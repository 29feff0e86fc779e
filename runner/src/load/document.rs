//! Reading one YAML file of the repo into a position-keeping tree, and decoding parts of
//! it into input types, with every failure turned into a located diagnostic.

use serde::de::DeserializeOwned;

use super::{ReadError, RepoFiles};
use crate::source::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::yaml::{self, Node};

/// A parsed YAML file: its source (for locating problems) and its root node.
pub struct Document {
    pub file: SourceFile,
    pub root: Node,
}

impl Document {
    /// Reads and parses `path`; problems go to `diagnostics` and yield `None`
    /// when nothing of the file can be used.
    pub fn read(
        files: &dyn RepoFiles,
        path: &str,
        diagnostics: &mut Diagnostics,
    ) -> Option<Document> {
        let text = match files.read(path) {
            Ok(text) => text,
            Err(ReadError::NotFound) => {
                diagnostics.push(Diagnostic::file_error(path, "file not found"));
                return None;
            }
            Err(error) => {
                diagnostics.push(Diagnostic::file_error(path, error.to_string()));
                return None;
            }
        };
        let file = SourceFile::new(path, text);
        let parsed = yaml::parse_document(&file);
        for problem in parsed.problems {
            diagnostics.push(problem);
        }
        if let Err(exceeded) = files.budget().spend_yaml_nodes(parsed.nodes) {
            diagnostics.push(Diagnostic::file_error(path, exceeded.to_string()));
            return None;
        }
        match parsed.root {
            Some(root) => Some(Document { file, root }),
            None if file.text().trim().is_empty() => {
                diagnostics.push(Diagnostic::file_error(path, "file is empty"));
                None
            }
            None => None,
        }
    }

    /// Decodes a node of this document, reporting a failure at the node it concerns.
    pub fn decode<T: DeserializeOwned>(
        &self,
        node: &Node,
        diagnostics: &mut Diagnostics,
    ) -> Option<T> {
        match yaml::decode(node) {
            Ok(value) => Some(value),
            Err(error) => {
                diagnostics.push(error.into_diagnostic(&self.file, node.span));
                None
            }
        }
    }

    pub fn error(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(&self.file, span, message)
    }
}
