//! YAML with positions: a parser that builds a [`Node`] tree with spans, and a serde
//! deserializer over that tree whose errors say where in the file they arose.

mod decode;
mod node;
mod parse;
mod spanned;

pub use decode::{DecodeError, decode, suggest};
pub use node::{Node, NodeValue, Resolved, Scalar};
pub use parse::parse_document;
pub use spanned::Spanned;
