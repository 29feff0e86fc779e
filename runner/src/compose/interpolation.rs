//! Interpolation of a parsed compose file, before it is checked against the schema, as
//! docker does it: every string value (never a key) goes through [`substitute`]; a value
//! that changed becomes a string, except at the paths where docker casts it back to a
//! number or a boolean (`deploy.replicas: ${REPLICAS}` is a number). On the way, plain
//! scalars are re-read with Go's YAML rules (see [`super::yaml_scalar`]) so that the
//! typed decoding that follows sees what docker sees.

use super::template::{TemplateError, substitute};
use super::yaml_scalar::{GoScalar, resolve_plain};
use crate::source::{Diagnostic, SourceFile};
use crate::yaml::{Node, NodeValue, Scalar};

#[derive(Clone, Copy)]
enum Cast {
    Integer,
    Float,
    Boolean,
}

/// Docker's `interpolateTypeCastMapping`: paths whose interpolated values are cast.
const CASTS: &[(&[&str], Cast)] = &[
    (&["services", "*", "configs", "[]", "mode"], Cast::Integer),
    (&["services", "*", "secrets", "[]", "mode"], Cast::Integer),
    (&["services", "*", "healthcheck", "retries"], Cast::Integer),
    (&["services", "*", "healthcheck", "disable"], Cast::Boolean),
    (&["services", "*", "deploy", "replicas"], Cast::Integer),
    (
        &["services", "*", "deploy", "update_config", "parallelism"],
        Cast::Integer,
    ),
    (
        &[
            "services",
            "*",
            "deploy",
            "update_config",
            "max_failure_ratio",
        ],
        Cast::Float,
    ),
    (
        &["services", "*", "deploy", "rollback_config", "parallelism"],
        Cast::Integer,
    ),
    (
        &[
            "services",
            "*",
            "deploy",
            "rollback_config",
            "max_failure_ratio",
        ],
        Cast::Float,
    ),
    (
        &["services", "*", "deploy", "restart_policy", "max_attempts"],
        Cast::Integer,
    ),
    (
        &[
            "services",
            "*",
            "deploy",
            "placement",
            "max_replicas_per_node",
        ],
        Cast::Integer,
    ),
    (&["services", "*", "ports", "[]", "target"], Cast::Integer),
    (
        &["services", "*", "ports", "[]", "published"],
        Cast::Integer,
    ),
    (&["services", "*", "ulimits", "*"], Cast::Integer),
    (&["services", "*", "ulimits", "*", "hard"], Cast::Integer),
    (&["services", "*", "ulimits", "*", "soft"], Cast::Integer),
    (&["services", "*", "privileged"], Cast::Boolean),
    (&["services", "*", "oom_score_adj"], Cast::Integer),
    (&["services", "*", "read_only"], Cast::Boolean),
    (&["services", "*", "stdin_open"], Cast::Boolean),
    (&["services", "*", "tty"], Cast::Boolean),
    (
        &["services", "*", "volumes", "[]", "read_only"],
        Cast::Boolean,
    ),
    (
        &["services", "*", "volumes", "[]", "volume", "nocopy"],
        Cast::Boolean,
    ),
    (&["networks", "*", "external"], Cast::Boolean),
    (&["networks", "*", "internal"], Cast::Boolean),
    (&["networks", "*", "attachable"], Cast::Boolean),
    (&["volumes", "*", "external"], Cast::Boolean),
    (&["secrets", "*", "external"], Cast::Boolean),
    (&["configs", "*", "external"], Cast::Boolean),
];

/// The tree with every string value substituted and every plain scalar read as Go reads
/// it; problems (undefined required variables, invalid `$` forms, failed casts) go to
/// `problems`, and the value they concern is left as written.
pub fn interpolate(
    root: &Node,
    file: &SourceFile,
    lookup: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<Diagnostic>,
) -> Node {
    let mut interpolation = Interpolation {
        file,
        lookup,
        problems,
        path: Vec::new(),
    };
    interpolation.node(root)
}

struct Interpolation<'a> {
    file: &'a SourceFile,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    problems: &'a mut Vec<Diagnostic>,
    path: Vec<String>,
}

impl Interpolation<'_> {
    fn node(&mut self, node: &Node) -> Node {
        let value = match &node.value {
            NodeValue::Mapping(entries) => NodeValue::Mapping(
                entries
                    .iter()
                    .map(|(key, value)| {
                        self.path
                            .push(key.as_scalar_text().unwrap_or_default().to_owned());
                        let value = self.node(value);
                        self.path.pop();
                        (key.clone(), value)
                    })
                    .collect(),
            ),
            NodeValue::Sequence(items) => NodeValue::Sequence(
                items
                    .iter()
                    .map(|item| {
                        self.path.push("[]".to_owned());
                        let item = self.node(item);
                        self.path.pop();
                        item
                    })
                    .collect(),
            ),
            NodeValue::Scalar(scalar) => NodeValue::Scalar(self.scalar(node, scalar)),
        };
        Node {
            span: node.span,
            value,
        }
    }

    fn scalar(&mut self, node: &Node, scalar: &Scalar) -> Scalar {
        if scalar.plain
            && let Some(typed) = typed(resolve_plain(&scalar.text))
        {
            return typed;
        }
        let substituted = match substitute(&scalar.text, self.lookup) {
            Ok(substituted) => substituted,
            Err(error) => {
                let mut problem = Diagnostic::error(self.file, node.span, error.to_string());
                if let TemplateError::Invalid { .. } = error {
                    problem = problem.with_help("write `$$` for a literal `$`");
                }
                self.problems.push(problem);
                return string(scalar.text.clone());
            }
        };
        if substituted == scalar.text {
            return string(substituted);
        }
        let cast = CASTS
            .iter()
            .find(|(pattern, _)| super::properties::path_matches(pattern, &self.path))
            .map(|(_, cast)| *cast);
        let Some(cast) = cast else {
            return string(substituted);
        };
        match cast_value(&substituted, cast) {
            Ok(value) => typed(value).unwrap_or_else(|| string(substituted)),
            Err(expected) => {
                self.problems.push(Diagnostic::error(
                    self.file,
                    node.span,
                    format!(
                        "`{}` becomes `{substituted}`, which is not {expected}",
                        scalar.text
                    ),
                ));
                string(substituted)
            }
        }
    }
}

/// Docker's casts: `strconv.Atoi`, `strconv.ParseFloat` and YAML 1.1 booleans.
fn cast_value(text: &str, cast: Cast) -> Result<GoScalar, &'static str> {
    match cast {
        Cast::Integer => {
            let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err("an integer");
            }
            text.parse::<i64>()
                .map(GoScalar::Int)
                .map_err(|_| "an integer")
        }
        Cast::Float => {
            let valid = !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
            match text.parse::<f64>() {
                Ok(value) if valid => Ok(GoScalar::Float(value)),
                _ => Err("a number"),
            }
        }
        Cast::Boolean => match text.to_ascii_lowercase().as_str() {
            "y" | "yes" | "true" | "on" => Ok(GoScalar::Bool(true)),
            "n" | "no" | "false" | "off" => Ok(GoScalar::Bool(false)),
            _ => Err("a boolean"),
        },
    }
}

fn string(text: String) -> Scalar {
    Scalar { text, plain: false }
}

/// A plain scalar that [`crate::yaml`] resolves to the same value as Go; `None` for a
/// string, which is not a typed value.
fn typed(value: GoScalar) -> Option<Scalar> {
    let text = match value {
        GoScalar::Null => "null".to_owned(),
        GoScalar::Bool(value) => value.to_string(),
        GoScalar::Int(value) => value.to_string(),
        GoScalar::Unsigned(value) => value.to_string(),
        GoScalar::Float(value) if value.is_nan() => ".nan".to_owned(),
        GoScalar::Float(value) if value.is_infinite() => {
            if value > 0.0 { ".inf" } else { "-.inf" }.to_owned()
        }
        GoScalar::Float(value) => format!("{value:?}"),
        GoScalar::String => return None,
    };
    Some(Scalar { text, plain: true })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Resolved, parse_document};

    fn run(text: &str) -> (Node, Vec<String>) {
        let file = SourceFile::new("c.yml", text);
        let root = parse_document(&file).root.expect("a document");
        let lookup = |name: &str| match name {
            "REPLICAS" => Some("3".to_owned()),
            "TAG" => Some("1.25".to_owned()),
            "YES" => Some("yes".to_owned()),
            _ => None,
        };
        let mut problems = Vec::new();
        let node = interpolate(&root, &file, &lookup, &mut problems);
        (
            node,
            problems
                .iter()
                .map(|p| format!("{}: {}", p.location(), p.message))
                .collect(),
        )
    }

    fn scalar_at<'a>(node: &'a Node, path: &[&str]) -> &'a Scalar {
        let mut current = node;
        for key in path {
            current = current.get(key).expect("key");
        }
        match &current.value {
            NodeValue::Scalar(scalar) => scalar,
            _ => panic!("not a scalar"),
        }
    }

    #[test]
    fn casts_only_where_docker_does() {
        let (node, problems) = run(
            "services:\n  web:\n    image: nginx:$TAG\n    deploy:\n      replicas: ${REPLICAS}\n    tty: $YES\n    environment:\n      N: ${REPLICAS}\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let replicas = scalar_at(&node, &["services", "web", "deploy", "replicas"]);
        assert_eq!(replicas.resolve(), Resolved::Integer(3));
        let tty = scalar_at(&node, &["services", "web", "tty"]);
        assert_eq!(tty.resolve(), Resolved::Bool(true));
        let environment = scalar_at(&node, &["services", "web", "environment", "N"]);
        assert_eq!(environment.resolve(), Resolved::String("3"));
        let image = scalar_at(&node, &["services", "web", "image"]);
        assert_eq!(image.resolve(), Resolved::String("nginx:1.25"));
    }

    #[test]
    fn reads_plain_scalars_like_go() {
        let (node, _) = run("mode: 0440\nname: 1_000\nword: yes\n");
        assert_eq!(
            scalar_at(&node, &["mode"]).resolve(),
            Resolved::Integer(288)
        );
        assert_eq!(
            scalar_at(&node, &["name"]).resolve(),
            Resolved::Integer(1000)
        );
        assert_eq!(
            scalar_at(&node, &["word"]).resolve(),
            Resolved::String("yes")
        );
    }

    #[test]
    fn reports_problems_where_they_are() {
        let (_, problems) = run(
            "services:\n  web:\n    image: ${IMAGE:?set IMAGE}\n    deploy:\n      replicas: ${TAG}\n    command: echo $1\n",
        );
        assert_eq!(
            problems,
            vec![
                "c.yml:3:12: required variable `IMAGE` is missing a value: set IMAGE".to_owned(),
                "c.yml:5:17: `${TAG}` becomes `1.25`, which is not an integer".to_owned(),
                "c.yml:6:14: invalid interpolation format `echo $1`".to_owned(),
            ]
        );
    }
}
