//! `$VAR` substitution in one string, as docker's `cli/compose/template` does it:
//! `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset),
//! `${VAR:?message}` (error when unset or empty), `${VAR?message}` (error when unset),
//! and `$$` for a literal `$`. An unset variable without a default is the empty string.

/// Why a string could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `$` that starts none of the forms above, such as `$1`, `${}` or an unclosed `${`.
    #[error("invalid interpolation format `{text}`")]
    Invalid { text: String },
    /// `${VAR:?message}` or `${VAR?message}` with the variable missing.
    #[error("required variable `{name}` is missing a value{}", describe_message(.message))]
    Required { name: String, message: String },
}

fn describe_message(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// Substitutes every `$` expression of `text`; `lookup` gives a variable's value.
///
/// Unlike docker, an expression that fails is always reported: docker forgets an error
/// when a later expression in the same string succeeds, and reads `${V:?must-be-set}` as
/// the default `be-set` of a variable named `V:?must` because it looks for `-` first.
pub fn substitute(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, TemplateError> {
    let mut output = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        output.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let invalid = || TemplateError::Invalid {
            text: text.to_owned(),
        };
        if let Some(remaining) = after.strip_prefix('$') {
            output.push('$');
            rest = remaining;
        } else if let Some(inner) = after.strip_prefix('{') {
            let (expression, length) = expression(inner).ok_or_else(invalid)?;
            if !inner[length..].starts_with('}') {
                return Err(invalid());
            }
            output.push_str(&expression.evaluate(lookup)?);
            rest = &inner[length + 1..];
        } else {
            let (expression, length) = expression(after).ok_or_else(invalid)?;
            output.push_str(&expression.evaluate(lookup)?);
            rest = &after[length..];
        }
    }
    output.push_str(rest);
    Ok(output)
}

/// `name` followed by an optional operator and its argument.
struct Expression<'a> {
    name: &'a str,
    operator: Option<(&'a str, &'a str)>,
}

/// Reads `[_a-zA-Z][_a-zA-Z0-9]*` and then, optionally, `:-`, `-`, `:?` or `?` with an
/// argument that runs up to the next `}`; returns the expression and its length.
fn expression(text: &str) -> Option<(Expression<'_>, usize)> {
    let bytes = text.as_bytes();
    let starts_name = |byte: u8| byte == b'_' || byte.is_ascii_alphabetic();
    if !bytes.first().copied().is_some_and(starts_name) {
        return None;
    }
    let name_length = bytes
        .iter()
        .take_while(|byte| **byte == b'_' || byte.is_ascii_alphanumeric())
        .count();
    let name = &text[..name_length];
    let after_name = &text[name_length..];
    let operator = [":-", ":?", "-", "?"]
        .into_iter()
        .find(|operator| after_name.starts_with(operator));
    let Some(operator) = operator else {
        return Some((
            Expression {
                name,
                operator: None,
            },
            name_length,
        ));
    };
    let argument_start = name_length + operator.len();
    let argument_length = text[argument_start..]
        .find('}')
        .unwrap_or(text.len() - argument_start);
    let argument = &text[argument_start..argument_start + argument_length];
    Some((
        Expression {
            name,
            operator: Some((operator, argument)),
        },
        argument_start + argument_length,
    ))
}

impl Expression<'_> {
    fn evaluate(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, TemplateError> {
        let value = lookup(self.name);
        let required = |message: &str| TemplateError::Required {
            name: self.name.to_owned(),
            message: message.to_owned(),
        };
        match self.operator {
            None => Ok(value.unwrap_or_default()),
            Some((":-", default)) => Ok(value
                .filter(|value| !value.is_empty())
                .unwrap_or_else(|| default.to_owned())),
            Some(("-", default)) => Ok(value.unwrap_or_else(|| default.to_owned())),
            Some((":?", message)) => value
                .filter(|value| !value.is_empty())
                .ok_or_else(|| required(message)),
            Some((_, message)) => value.ok_or_else(|| required(message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Result<&str, TemplateError>) {
        let lookup = |name: &str| match name {
            "SET" => Some("value".to_owned()),
            "EMPTY" => Some(String::new()),
            "lower_case1" => Some("ok".to_owned()),
            _ => None,
        };
        assert_eq!(
            substitute(text, &lookup),
            expected.map(str::to_owned),
            "{text}"
        );
    }

    fn invalid(text: &str) -> TemplateError {
        TemplateError::Invalid {
            text: text.to_owned(),
        }
    }

    fn required(name: &str, message: &str) -> TemplateError {
        TemplateError::Required {
            name: name.to_owned(),
            message: message.to_owned(),
        }
    }

    #[test]
    fn substitutes_plain_and_braced_variables() {
        check("$SET", Ok("value"));
        check("${SET}", Ok("value"));
        check("a${SET}b$SET.c", Ok("avaluebvalue.c"));
        check("$UNSET", Ok(""));
        check("$lower_case1", Ok("ok"));
        check("no variables", Ok("no variables"));
    }

    #[test]
    fn applies_defaults() {
        check("${UNSET:-d}", Ok("d"));
        check("${EMPTY:-d}", Ok("d"));
        check("${SET:-d}", Ok("value"));
        check("${UNSET-d}", Ok("d"));
        check("${EMPTY-d}", Ok(""));
        check("${UNSET:-kafka:9092}", Ok("kafka:9092"));
        check("${UNSET:-a-b}", Ok("a-b"));
        check("${UNSET-}", Ok(""));
        // Docker's unbraced form takes an operator too, up to the next `}` or the end.
        check("$UNSET:-x y", Ok("x y"));
    }

    #[test]
    fn reports_required_variables() {
        check("${UNSET:?set it}", Err(required("UNSET", "set it")));
        check("${EMPTY:?set it}", Err(required("EMPTY", "set it")));
        check("${EMPTY?set it}", Ok(""));
        check("${UNSET?}", Err(required("UNSET", "")));
        check("${SET:?set it}", Ok("value"));
        check(
            "${UNSET:?must-be-set}",
            Err(required("UNSET", "must-be-set")),
        );
    }

    #[test]
    fn escapes_and_rejects_invalid_forms() {
        check("$$", Ok("$"));
        check("$${SET}", Ok("${SET}"));
        check("cost: $$5", Ok("cost: $5"));
        check("$", Err(invalid("$")));
        check("$1", Err(invalid("$1")));
        check("${}", Err(invalid("${}")));
        check("${SET", Err(invalid("${SET")));
        check("${SET:x}", Err(invalid("${SET:x}")));
        check("a $ b", Err(invalid("a $ b")));
    }
}
