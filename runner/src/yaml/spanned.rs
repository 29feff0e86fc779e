//! `Spanned<T>`: a decoded value together with where it was written, for the checks that
//! run after decoding (a cron expression, an environment name) and must still point at it.

use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use crate::source::{Position, Span};

pub(super) const SPANNED_NAME: &str = "$__shoal_spanned";
pub(super) const SPAN_FIELD: &str = "$__shoal_span";
pub(super) const VALUE_FIELD: &str = "$__shoal_value";

#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub span: Span,
    pub value: T,
}

impl<T> Spanned<T> {
    pub fn new(span: Span, value: T) -> Spanned<T> {
        Spanned { span, value }
    }
}

/// Two spanned values are equal when their values are, wherever they were written.
impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Spanned<T> {}

impl<T: std::hash::Hash> std::hash::Hash for Spanned<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl<T> std::borrow::Borrow<T> for Spanned<T> {
    fn borrow(&self) -> &T {
        &self.value
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpannedVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
            type Value = Spanned<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value with its position")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Spanned<T>, A::Error> {
                let mut span = None;
                let mut value = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == SPAN_FIELD {
                        let [start_line, start_column, end_line, end_column]: [usize; 4] =
                            map.next_value()?;
                        span = Some(Span {
                            start: Position {
                                line: start_line,
                                column: start_column,
                            },
                            end: Position {
                                line: end_line,
                                column: end_column,
                            },
                        });
                    } else {
                        value = Some(map.next_value()?);
                    }
                }
                Ok(Spanned {
                    span: span.ok_or_else(|| de::Error::missing_field(SPAN_FIELD))?,
                    value: value.ok_or_else(|| de::Error::missing_field(VALUE_FIELD))?,
                })
            }
        }

        deserializer.deserialize_struct(
            SPANNED_NAME,
            &[SPAN_FIELD, VALUE_FIELD],
            SpannedVisitor(PhantomData),
        )
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<T>()
    }
}
