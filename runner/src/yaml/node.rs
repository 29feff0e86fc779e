//! A YAML document as a tree whose every node remembers where it stands in its file,
//! so that validation can point at the exact key or value that is wrong.

use crate::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: NodeValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Scalar(Scalar),
    Sequence(Vec<Node>),
    /// Entries in the order written, merge keys (`<<`) already resolved.
    Mapping(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    /// Plain scalars are resolved to null, booleans and numbers; quoted and block ones are strings.
    pub plain: bool,
}

/// What a scalar means under the YAML 1.2 core schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    Integer(i64),
    Unsigned(u64),
    Float(f64),
    String(&'a str),
}

impl Scalar {
    pub fn resolve(&self) -> Resolved<'_> {
        if !self.plain {
            return Resolved::String(&self.text);
        }
        let text = self.text.as_str();
        match text {
            "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
            "true" | "True" | "TRUE" => return Resolved::Bool(true),
            "false" | "False" | "FALSE" => return Resolved::Bool(false),
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
                return Resolved::Float(f64::INFINITY);
            }
            "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
            ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
            _ => {}
        }
        if let Some(hex) = text.strip_prefix("0x")
            && let Ok(value) = u64::from_str_radix(hex, 16)
        {
            return Resolved::Unsigned(value);
        }
        if let Some(octal) = text.strip_prefix("0o")
            && let Ok(value) = u64::from_str_radix(octal, 8)
        {
            return Resolved::Unsigned(value);
        }
        let looks_numeric = text
            .trim_start_matches(['-', '+'])
            .starts_with(|c: char| c.is_ascii_digit() || c == '.');
        if looks_numeric {
            if let Ok(value) = text.parse::<i64>() {
                return Resolved::Integer(value);
            }
            if let Ok(value) = text.parse::<u64>() {
                return Resolved::Unsigned(value);
            }
            if text.chars().any(|c| c.is_ascii_digit())
                && let Ok(value) = text.parse::<f64>()
            {
                return Resolved::Float(value);
            }
        }
        Resolved::String(text)
    }
}

impl Node {
    pub fn as_mapping(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            NodeValue::Mapping(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_sequence(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Sequence(items) => Some(items),
            _ => None,
        }
    }

    /// The text of a scalar node, whatever it resolves to.
    pub fn as_scalar_text(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Scalar(scalar) => Some(&scalar.text),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.value, NodeValue::Scalar(scalar) if scalar.resolve() == Resolved::Null)
    }

    /// The key node and value node of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_mapping()?
            .iter()
            .find(|(k, _)| k.as_scalar_text() == Some(key))
            .map(|(k, v)| (k, v))
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, value)| value)
    }

    /// A short description of the node's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            NodeValue::Scalar(scalar) => match scalar.resolve() {
                Resolved::Null => "null",
                Resolved::Bool(_) => "a boolean",
                Resolved::Integer(_) | Resolved::Unsigned(_) | Resolved::Float(_) => "a number",
                Resolved::String(_) => "a string",
            },
            NodeValue::Sequence(_) => "a list",
            NodeValue::Mapping(_) => "a map",
        }
    }
}
