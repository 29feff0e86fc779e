//! A serde deserializer over a [`Node`] tree. Its errors carry the span of the innermost
//! node where they arose, and unknown keys come with a "did you mean" hint.

use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, Expected, IntoDeserializer, MapAccess,
    SeqAccess, Unexpected, VariantAccess, Visitor,
};

use super::spanned::{SPAN_FIELD, SPANNED_NAME, VALUE_FIELD};
use super::{Node, NodeValue, Resolved};
use crate::source::{Diagnostic, SourceFile, Span};

/// A value that does not fit the type it is decoded into.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    pub message: String,
    pub help: Option<String>,
    pub span: Option<Span>,
}

impl DecodeError {
    fn at(mut self, span: Span) -> DecodeError {
        self.span.get_or_insert(span);
        self
    }

    /// The error as a diagnostic in `file`; `fallback` locates errors that carry no span.
    pub fn into_diagnostic(self, file: &SourceFile, fallback: Span) -> Diagnostic {
        let diagnostic = Diagnostic::error(file, self.span.unwrap_or(fallback), self.message);
        match self.help {
            Some(help) => diagnostic.with_help(help),
            None => diagnostic,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        DecodeError {
            message: message.to_string(),
            help: None,
            span: None,
        }
    }

    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::custom(format_args!(
            "expected {expected}, found {}",
            describe(&unexpected)
        ))
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::custom(format_args!(
            "invalid value {}, expected {expected}",
            describe(&unexpected)
        ))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DecodeError {
            message: format!("unknown key `{field}`"),
            help: Some(suggest(field, expected)),
            span: None,
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DecodeError {
            message: format!("unknown value `{variant}`"),
            help: Some(suggest(variant, expected)),
            span: None,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        Self::custom(format_args!("missing key `{field}`"))
    }
}

fn describe(unexpected: &Unexpected<'_>) -> String {
    match unexpected {
        Unexpected::Str(text) => format!("string `{text}`"),
        Unexpected::Unit => "null".to_owned(),
        Unexpected::Map => "a map".to_owned(),
        Unexpected::Seq => "a list".to_owned(),
        Unexpected::Bool(value) => format!("boolean `{value}`"),
        Unexpected::Signed(value) => format!("number `{value}`"),
        Unexpected::Unsigned(value) => format!("number `{value}`"),
        Unexpected::Float(value) => format!("number `{value}`"),
        other => other.to_string(),
    }
}

/// "did you mean `x`?" when a close name exists, otherwise the list of valid names.
pub fn suggest(given: &str, expected: &[&str]) -> String {
    let closest = expected
        .iter()
        .map(|candidate| (strsim::jaro_winkler(given, candidate), *candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match closest {
        Some((_, name)) => format!("did you mean `{name}`?"),
        None if expected.is_empty() => "no keys are allowed here".to_owned(),
        None => format!(
            "expected one of {}",
            expected
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Decodes a node into `T`, locating any error at the node it concerns.
pub fn decode<T: DeserializeOwned>(node: &Node) -> Result<T, DecodeError> {
    T::deserialize(NodeDeserializer { node })
}

struct NodeDeserializer<'a> {
    node: &'a Node,
}

impl<'a> NodeDeserializer<'a> {
    fn invalid_type(&self, expected: &dyn Expected) -> DecodeError {
        let unexpected = match &self.node.value {
            NodeValue::Sequence(_) => Unexpected::Seq,
            NodeValue::Mapping(_) => Unexpected::Map,
            NodeValue::Scalar(scalar) => match scalar.resolve() {
                Resolved::Null => Unexpected::Unit,
                Resolved::Bool(value) => Unexpected::Bool(value),
                Resolved::Integer(value) => Unexpected::Signed(value),
                Resolved::Unsigned(value) => Unexpected::Unsigned(value),
                Resolved::Float(value) => Unexpected::Float(value),
                Resolved::String(text) => Unexpected::Str(text),
            },
        };
        <DecodeError as de::Error>::invalid_type(unexpected, expected).at(self.node.span)
    }

    fn visit_mapping<V: Visitor<'a>>(
        &self,
        entries: &'a [(Node, Node)],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_map(NodeMapAccess {
            entries: entries.iter(),
            value: None,
        })
    }
}

macro_rules! forward_to_any {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
            self.deserialize_any(visitor)
        })*
    };
}

impl<'de> de::Deserializer<'de> for NodeDeserializer<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let span = self.node.span;
        let result = match &self.node.value {
            NodeValue::Scalar(scalar) => match scalar.resolve() {
                Resolved::Null => visitor.visit_unit(),
                Resolved::Bool(value) => visitor.visit_bool(value),
                Resolved::Integer(value) => visitor.visit_i64(value),
                Resolved::Unsigned(value) => visitor.visit_u64(value),
                Resolved::Float(value) => visitor.visit_f64(value),
                Resolved::String(text) => visitor.visit_borrowed_str(text),
            },
            NodeValue::Sequence(items) => visitor.visit_seq(NodeSeqAccess {
                items: items.iter(),
            }),
            NodeValue::Mapping(entries) => self.visit_mapping(entries, visitor),
        };
        result.map_err(|error: DecodeError| error.at(span))
    }

    forward_to_any! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32
        deserialize_f64 deserialize_char deserialize_bytes deserialize_byte_buf
        deserialize_ignored_any
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let span = self.node.span;
        match &self.node.value {
            NodeValue::Scalar(scalar) if scalar.resolve() != Resolved::Null => visitor
                .visit_borrowed_str(&scalar.text)
                .map_err(|error: DecodeError| error.at(span)),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let span = self.node.span;
        match &self.node.value {
            NodeValue::Scalar(scalar) => visitor
                .visit_borrowed_str(&scalar.text)
                .map_err(|error: DecodeError| error.at(span)),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let span = self.node.span;
        if self.node.is_null() {
            visitor.visit_none()
        } else {
            visitor
                .visit_some(self)
                .map_err(|error: DecodeError| error.at(span))
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        if self.node.is_null() {
            visitor.visit_unit()
        } else {
            Err(self.invalid_type(&visitor))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let span = self.node.span;
        visitor
            .visit_newtype_struct(self)
            .map_err(|error: DecodeError| error.at(span))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let span = self.node.span;
        match &self.node.value {
            NodeValue::Sequence(items) => visitor
                .visit_seq(NodeSeqAccess {
                    items: items.iter(),
                })
                .map_err(|error: DecodeError| error.at(span)),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let span = self.node.span;
        match &self.node.value {
            NodeValue::Mapping(entries) => self
                .visit_mapping(entries, visitor)
                .map_err(|error: DecodeError| error.at(span)),
            // `workflow_dispatch:` with nothing after it is an empty map, as in GitHub Actions.
            NodeValue::Scalar(_) if self.node.is_null() => self
                .visit_mapping(&[], visitor)
                .map_err(|error: DecodeError| error.at(span)),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        if name == SPANNED_NAME {
            return visitor.visit_map(SpannedAccess {
                node: self.node,
                stage: 0,
            });
        }
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let span = self.node.span;
        match &self.node.value {
            NodeValue::Scalar(_) => visitor
                .visit_enum(NodeEnumAccess {
                    variant: self.node,
                    value: None,
                })
                .map_err(|error: DecodeError| error.at(span)),
            NodeValue::Mapping(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                visitor
                    .visit_enum(NodeEnumAccess {
                        variant: key,
                        value: Some(value),
                    })
                    .map_err(|error: DecodeError| error.at(span))
            }
            NodeValue::Mapping(entries) if entries.len() > 1 => {
                let names: Vec<String> = entries
                    .iter()
                    .filter_map(|(key, _)| key.as_scalar_text())
                    .map(|name| format!("`{name}`"))
                    .collect();
                Err(<DecodeError as de::Error>::custom(format_args!(
                    "expected exactly one of these keys, found {}",
                    names.join(" and ")
                ))
                .at(entries[1].0.span))
            }
            _ => Err(self.invalid_type(&visitor)),
        }
    }
}

struct NodeSeqAccess<'a> {
    items: std::slice::Iter<'a, Node>,
}

impl<'de> SeqAccess<'de> for NodeSeqAccess<'de> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        match self.items.next() {
            Some(node) => seed
                .deserialize(NodeDeserializer { node })
                .map(Some)
                .map_err(|error| error.at(node.span)),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct NodeMapAccess<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
}

impl<'de> MapAccess<'de> for NodeMapAccess<'de> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(NodeDeserializer { node: key })
                    .map(Some)
                    .map_err(|error| error.at(key.span))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let node = self
            .value
            .take()
            .ok_or_else(|| <DecodeError as de::Error>::custom("value requested before its key"))?;
        seed.deserialize(NodeDeserializer { node })
            .map_err(|error| error.at(node.span))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct NodeEnumAccess<'a> {
    variant: &'a Node,
    value: Option<&'a Node>,
}

impl<'de> EnumAccess<'de> for NodeEnumAccess<'de> {
    type Error = DecodeError;
    type Variant = NodeVariantAccess<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DecodeError> {
        let variant_span = self.variant.span;
        let variant = seed
            .deserialize(NodeDeserializer { node: self.variant })
            .map_err(|error| error.at(variant_span))?;
        Ok((
            variant,
            NodeVariantAccess {
                value: self.value,
                span: variant_span,
            },
        ))
    }
}

struct NodeVariantAccess<'a> {
    value: Option<&'a Node>,
    span: Span,
}

impl<'de> VariantAccess<'de> for NodeVariantAccess<'de> {
    type Error = DecodeError;

    fn unit_variant(self) -> Result<(), DecodeError> {
        match self.value {
            None => Ok(()),
            Some(node) if node.is_null() => Ok(()),
            Some(node) => Err(
                <DecodeError as de::Error>::custom("this value takes no settings").at(node.span),
            ),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, DecodeError> {
        match self.value {
            Some(node) => seed.deserialize(NodeDeserializer { node }),
            None => {
                Err(<DecodeError as de::Error>::custom("expected a map with one key").at(self.span))
            }
        }
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self.value {
            Some(node) => de::Deserializer::deserialize_seq(NodeDeserializer { node }, visitor),
            None => Err(<DecodeError as de::Error>::custom("expected a list").at(self.span)),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self.value {
            Some(node) => de::Deserializer::deserialize_map(NodeDeserializer { node }, visitor),
            None => Err(<DecodeError as de::Error>::custom("expected a map").at(self.span)),
        }
    }
}

/// Feeds a [`super::Spanned`] its span (as four numbers) and then its value.
struct SpannedAccess<'a> {
    node: &'a Node,
    stage: u8,
}

impl<'de> MapAccess<'de> for SpannedAccess<'de> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        let key = match self.stage {
            0 => SPAN_FIELD,
            1 => VALUE_FIELD,
            _ => return Ok(None),
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        self.stage += 1;
        if self.stage == 1 {
            let span = self.node.span;
            let numbers = [
                span.start.line,
                span.start.column,
                span.end.line,
                span.end.column,
            ];
            seed.deserialize(de::value::SeqDeserializer::new(
                numbers.into_iter().map(|n| n as u64),
            ))
        } else {
            seed.deserialize(NodeDeserializer { node: self.node })
        }
    }
}
