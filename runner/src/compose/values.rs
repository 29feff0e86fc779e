//! The value shapes of the compose schema that plain serde types do not express: strings
//! that must really be strings, "string or list", "list or dict", numbers that docker
//! prints as text, durations. Each decodes from a [`crate::yaml::Node`] with an error at
//! the offending node, worded like the decoder's own ("expected …, found …").

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::units::parse_duration;
use super::yaml_scalar::format_go_float;
use crate::yaml::Spanned;

/// A YAML string; numbers, booleans and null are refused, as by the compose schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Text, E> {
                Ok(Text(value.to_owned()))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// A string or a number, as text: numbers read the way docker prints them (`fmt.Sprint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalarText(pub String);

/// A string, a number or null (`None`), as in the values of a compose "list or dict".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NullableScalar(pub Option<String>);

struct ScalarVisitor {
    allow_null: bool,
}

impl Visitor<'_> for ScalarVisitor {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.allow_null {
            f.write_str("a string, a number or null")
        } else {
            f.write_str("a string or a number")
        }
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Some(value.to_owned()))
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Some(value.to_string()))
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Some(value.to_string()))
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        Ok(Some(format_go_float(value)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        if self.allow_null {
            Ok(None)
        } else {
            Err(E::invalid_type(de::Unexpected::Unit, &self))
        }
    }
}

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = deserializer.deserialize_any(ScalarVisitor { allow_null: false })?;
        Ok(ScalarText(value.unwrap_or_default()))
    }
}

impl<'de> Deserialize<'de> for NullableScalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(ScalarVisitor { allow_null: true })
            .map(NullableScalar)
    }
}

/// A number that may be fractional (the schema's `number`); Go truncates it to an integer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number(pub f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Number, E> {
                Ok(Number(value as f64))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Number, E> {
                Ok(Number(value as f64))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Number, E> {
                Ok(Number(value))
            }
        }
        deserializer.deserialize_any(NumberVisitor)
    }
}

/// An integer (the schema's `integer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Integer(pub i64);

/// A non-negative integer, for counts and ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub u64);

struct IntegerVisitor {
    negative_allowed: bool,
}

impl Visitor<'_> for IntegerVisitor {
    type Value = i128;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative_allowed {
            f.write_str("an integer")
        } else {
            f.write_str("a non-negative integer")
        }
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<i128, E> {
        if value < 0 && !self.negative_allowed {
            return Err(E::invalid_value(de::Unexpected::Signed(value), &self));
        }
        Ok(i128::from(value))
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<i128, E> {
        Ok(i128::from(value))
    }
}

impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = deserializer.deserialize_any(IntegerVisitor {
            negative_allowed: true,
        })?;
        i64::try_from(value)
            .map(Integer)
            .map_err(|_| de::Error::custom("the number is too large"))
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = deserializer.deserialize_any(IntegerVisitor {
            negative_allowed: false,
        })?;
        u64::try_from(value)
            .map(Count)
            .map_err(|_| de::Error::custom("the number is too large"))
    }
}

/// A Go duration (`1m30s`, `500ms`), in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration(pub i64);

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as `30s` or `1m30s`")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Duration, E> {
                parse_duration(value).map(Duration).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

/// A string, or a list of strings (the schema's `string_or_list`).
#[derive(Debug, Clone, PartialEq)]
pub enum StringOrList {
    One(String),
    Many(Vec<Spanned<String>>),
}

impl StringOrList {
    pub fn into_strings(self) -> Vec<String> {
        match self {
            StringOrList::One(value) => vec![value],
            StringOrList::Many(items) => items.into_iter().map(|item| item.value).collect(),
        }
    }
}

impl<'de> Deserialize<'de> for StringOrList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StringOrListVisitor;
        impl<'de> Visitor<'de> for StringOrListVisitor {
            type Value = StringOrList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<StringOrList, E> {
                Ok(StringOrList::One(value.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<StringOrList, A::Error> {
                strings(seq).map(StringOrList::Many)
            }
        }
        deserializer.deserialize_any(StringOrListVisitor)
    }
}

/// A list of strings (the schema's `list_of_strings`), each with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Strings(pub Vec<Spanned<String>>);

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StringsVisitor;
        impl<'de> Visitor<'de> for StringsVisitor {
            type Value = Strings;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Strings, A::Error> {
                strings(seq).map(Strings)
            }
        }
        deserializer.deserialize_any(StringsVisitor)
    }
}

fn strings<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Vec<Spanned<String>>, A::Error> {
    let mut items = Vec::new();
    while let Some(item) = seq.next_element::<Spanned<Text>>()? {
        items.push(Spanned::new(item.span, item.value.0));
    }
    Ok(items)
}

/// A map of names to strings, numbers or null, or a list of `name=value` strings (the
/// schema's `list_or_dict`, used by `environment`, `labels`, `sysctls`, `extra_hosts`).
#[derive(Debug, Clone, PartialEq)]
pub enum ListOrDict {
    List(Vec<Spanned<String>>),
    Dict(Vec<(Spanned<String>, Option<String>)>),
}

impl<'de> Deserialize<'de> for ListOrDict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListOrDictVisitor;
        impl<'de> Visitor<'de> for ListOrDictVisitor {
            type Value = ListOrDict;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map or a list of `name=value` strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ListOrDict, A::Error> {
                strings(seq).map(ListOrDict::List)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListOrDict, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value: NullableScalar = map.next_value()?;
                    entries.push((key, value.0));
                }
                Ok(ListOrDict::Dict(entries))
            }
        }
        deserializer.deserialize_any(ListOrDictVisitor)
    }
}

impl ListOrDict {
    /// The entries as docker's `Mapping` and `Labels` read them: `name=value`, and a name
    /// without a value (or with null) is the empty string.
    pub fn into_mapping(self) -> Vec<(String, String)> {
        self.into_entries('=')
            .into_iter()
            .map(|(name, value)| (name, value.unwrap_or_default()))
            .collect()
    }

    /// `name=value` entries split at `separator`, keeping "no value" apart.
    pub fn into_entries(self, separator: char) -> Vec<(String, Option<String>)> {
        match self {
            ListOrDict::List(items) => items
                .into_iter()
                .map(|item| match item.value.split_once(separator) {
                    Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                    None => (item.value, None),
                })
                .collect(),
            ListOrDict::Dict(entries) => entries
                .into_iter()
                .map(|(name, value)| (name.value, value))
                .collect(),
        }
    }

    /// The items of the list form, for the schema's uniqueness check.
    pub fn list_items(&self) -> &[Spanned<String>] {
        match self {
            ListOrDict::List(items) => items,
            ListOrDict::Dict(_) => &[],
        }
    }
}

/// A command as a string (split into words like a shell would) or a list of words.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Shell(String),
    Words(Vec<String>),
}

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CommandVisitor;
        impl<'de> Visitor<'de> for CommandVisitor {
            type Value = Command;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Command, E> {
                Ok(Command::Shell(value.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Command, A::Error> {
                let words = strings(seq)?;
                Ok(Command::Words(words.into_iter().map(|w| w.value).collect()))
            }
        }
        deserializer.deserialize_any(CommandVisitor)
    }
}

/// One of two shapes decided by the YAML kind: a scalar (`Short`) or a map (`Long`), as
/// for ports, volumes and config references. The map is decoded as `T`.
#[derive(Debug, Clone, PartialEq)]
pub enum ShortOrLong<S, T> {
    Short(S),
    Long(T),
}

/// How the scalar of a [`ShortOrLong`] is read.
pub trait ShortForm: Sized {
    const EXPECTING: &'static str;
    fn from_str(value: &str) -> Option<Self>;
    fn from_integer(_value: i64) -> Option<Self> {
        None
    }
}

impl ShortForm for String {
    const EXPECTING: &'static str = "a string or a map";
    fn from_str(value: &str) -> Option<Self> {
        Some(value.to_owned())
    }
}

/// A port written as a number or a string.
#[derive(Debug, Clone, PartialEq)]
pub struct PortText(pub String);

impl ShortForm for PortText {
    const EXPECTING: &'static str = "a port number, a string such as `8080:80` or a map";
    fn from_str(value: &str) -> Option<Self> {
        Some(PortText(value.to_owned()))
    }
    fn from_integer(value: i64) -> Option<Self> {
        Some(PortText(value.to_string()))
    }
}

impl<'de, S: ShortForm, T: Deserialize<'de>> Deserialize<'de> for ShortOrLong<S, T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ShortOrLongVisitor<S, T>(std::marker::PhantomData<(S, T)>);
        impl<'de, S: ShortForm, T: Deserialize<'de>> Visitor<'de> for ShortOrLongVisitor<S, T> {
            type Value = ShortOrLong<S, T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(S::EXPECTING)
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                S::from_str(value)
                    .map(ShortOrLong::Short)
                    .ok_or_else(|| E::invalid_type(de::Unexpected::Str(value), &self))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
                S::from_integer(value)
                    .map(ShortOrLong::Short)
                    .ok_or_else(|| E::invalid_type(de::Unexpected::Signed(value), &self))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
                i64::try_from(value)
                    .ok()
                    .and_then(S::from_integer)
                    .map(ShortOrLong::Short)
                    .ok_or_else(|| E::invalid_type(de::Unexpected::Unsigned(value), &self))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(ShortOrLong::Long)
            }
        }
        deserializer.deserialize_any(ShortOrLongVisitor(std::marker::PhantomData))
    }
}

/// `external: true`, or the older `external: {name: …}`.
#[derive(Debug, Clone, PartialEq)]
pub enum External {
    Flag(bool),
    Named(Option<Spanned<String>>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExternalName {
    #[serde(default)]
    name: Option<Spanned<Text>>,
}

impl<'de> Deserialize<'de> for External {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExternalVisitor;
        impl<'de> Visitor<'de> for ExternalVisitor {
            type Value = External;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean or a map with `name`")
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<External, E> {
                Ok(External::Flag(value))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<External, A::Error> {
                let named = ExternalName::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(External::Named(
                    named.name.map(|name| Spanned::new(name.span, name.value.0)),
                ))
            }
        }
        deserializer.deserialize_any(ExternalVisitor)
    }
}

/// A ulimit: one number for both limits, or `soft` and `hard`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UlimitInput {
    Single(i64),
    Pair { soft: i64, hard: i64 },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UlimitPair {
    soft: Integer,
    hard: Integer,
}

impl<'de> Deserialize<'de> for UlimitInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UlimitVisitor;
        impl<'de> Visitor<'de> for UlimitVisitor {
            type Value = UlimitInput;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a map with `soft` and `hard`")
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<UlimitInput, E> {
                Ok(UlimitInput::Single(value))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<UlimitInput, E> {
                i64::try_from(value)
                    .map(UlimitInput::Single)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(value), &self))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<UlimitInput, A::Error> {
                let pair = UlimitPair::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(UlimitInput::Pair {
                    soft: pair.soft.0,
                    hard: pair.hard.0,
                })
            }
        }
        deserializer.deserialize_any(UlimitVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use crate::yaml::{decode, parse_document};

    fn decode_text<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
        let file = SourceFile::new("t.yml", text);
        let root = parse_document(&file).root.expect("a document");
        let value = root.get("v").expect("v");
        decode::<T>(value).map_err(|error| error.message)
    }

    #[test]
    fn text_refuses_numbers_and_booleans() {
        assert_eq!(decode_text::<Text>("v: abc"), Ok(Text("abc".to_owned())));
        assert_eq!(decode_text::<Text>("v: '10'"), Ok(Text("10".to_owned())));
        assert_eq!(
            decode_text::<Text>("v: 10"),
            Err("expected a string, found number `10`".to_owned())
        );
        assert!(decode_text::<Text>("v: true").is_err());
    }

    #[test]
    fn scalars_print_numbers_like_go() {
        assert_eq!(
            decode_text::<ScalarText>("v: 1.50"),
            Ok(ScalarText("1.5".to_owned()))
        );
        assert_eq!(
            decode_text::<NullableScalar>("v:"),
            Ok(NullableScalar(None))
        );
        assert!(decode_text::<NullableScalar>("v: true").is_err());
    }

    #[test]
    fn list_or_dict_reads_both_forms() {
        let list: ListOrDict = decode_text("v: [A=1, B]").expect("list");
        assert_eq!(
            list.into_entries('='),
            vec![
                ("A".to_owned(), Some("1".to_owned())),
                ("B".to_owned(), None)
            ]
        );
        let dict: ListOrDict = decode_text("v: {A: 1, B: }").expect("dict");
        assert_eq!(
            dict.into_mapping(),
            vec![
                ("A".to_owned(), "1".to_owned()),
                ("B".to_owned(), String::new())
            ]
        );
        assert!(decode_text::<ListOrDict>("v: [1]").is_err());
    }
}
