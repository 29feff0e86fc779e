//! The minijinja environment shoal renders with: strict about undefined values, loading
//! templates from the config repo and never from outside it, with shoal's filters, and
//! bounded: each render has [`TEMPLATE_FUEL`] and may write at most [`MAX_RENDERED_BYTES`].

use std::io;
use std::sync::Arc;

use minijinja::{Error, ErrorKind, Template, UndefinedBehavior};

use super::filters;
use crate::limits::{MAX_RENDERED_BYTES, TEMPLATE_FUEL};
use crate::load::{BudgetExceeded, ReadError, RepoFiles, join_relative, normalize};

pub struct TemplateEngine {
    environment: minijinja::Environment<'static>,
    /// The files templates load from: each render spends from their commit's budget.
    files: Arc<dyn RepoFiles>,
}

impl TemplateEngine {
    pub fn new(files: Arc<dyn RepoFiles>) -> TemplateEngine {
        let mut environment = minijinja::Environment::new();
        environment.set_undefined_behavior(UndefinedBehavior::Strict);
        // A template from a pull request must not run for ever: each render may run this
        // many instructions, then fails with `OutOfFuel` at the line it reached.
        environment.set_fuel(Some(TEMPLATE_FUEL));
        // Rendered files keep their last newline, as the files they came from. Block tags
        // keep Jinja's default whitespace handling (no trim_blocks): with it, an inline
        // `{% raw %}{{.Node.ID}}{% endraw %}` at the end of a line would join the next line
        // into the value and still give valid but wrong YAML.
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
        {
            environment.set_syntax(syntax);
        }
        // No escaping of any kind: these are config files, and minijinja would otherwise
        // JSON-escape values in files named *.yml and *.json.
        environment.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        filters::register(&mut environment);
        // `{% include "./part.yml" %}` is relative to the including file; other names are
        // relative to the repo root.
        environment.set_path_join_callback(|name, parent| {
            if name.starts_with("./") || name.starts_with("../") {
                join_relative(parent, name).map_or_else(|_| name.to_owned().into(), Into::into)
            } else {
                name.to_owned().into()
            }
        });
        let loader_files = files.clone();
        environment.set_loader(move |name| match loader_files.read(name) {
            Ok(text) => Ok(Some(text.to_string())),
            Err(ReadError::NotFound) => Ok(None),
            Err(ReadError::OutsideRepo) => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("template `{name}` is outside the config repo"),
            )),
            Err(error) => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("cannot read template `{name}`: {error}"),
            )),
        });
        TemplateEngine { environment, files }
    }

    /// Renders the template at a repo path.
    pub fn render_file(&self, path: &str, context: &minijinja::Value) -> Result<String, Error> {
        let path = normalize(path).map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("template `{path}` is outside the config repo"),
            )
        })?;
        self.render_capped(&self.environment.get_template(&path)?, context)
    }

    /// Renders a template written inline in a workflow (a name, a concurrency group).
    pub fn render_str(&self, source: &str, context: &minijinja::Value) -> Result<String, Error> {
        self.render_capped(&self.environment.template_from_str(source)?, context)
    }

    /// Evaluates an `if` expression to true or false.
    pub fn evaluate_condition(
        &self,
        expression: &str,
        context: &minijinja::Value,
    ) -> Result<bool, Error> {
        let expression = self
            .environment
            .compile_expression_owned(super::condition_expression(expression).to_owned())?;
        Ok(expression.eval(context.clone())?.is_true())
    }
}

impl TemplateEngine {
    /// Renders into a buffer that refuses to grow past [`MAX_RENDERED_BYTES`], so that a
    /// template that writes without end stops there rather than when memory runs out,
    /// and spends the fuel and output from the commit's budget.
    fn render_capped(
        &self,
        template: &Template<'_, '_>,
        context: &minijinja::Value,
    ) -> Result<String, Error> {
        let budget = self.files.budget();
        let exceeded = |exceeded: BudgetExceeded| {
            Error::new(ErrorKind::InvalidOperation, exceeded.to_string())
        };
        // Spending nothing fails once the budget is spent: no render starts then.
        budget
            .spend_fuel(0)
            .and_then(|()| budget.spend_bytes(0))
            .map_err(exceeded)?;
        let mut output = CappedOutput { bytes: Vec::new() };
        let rendered = template.render_captured_to(context.clone(), &mut output);
        let fuel = match &rendered {
            Ok(captured) => captured
                .state()
                .fuel_levels()
                .map_or(0, |(consumed, _)| consumed),
            Err(error) if error.kind() == ErrorKind::OutOfFuel => TEMPLATE_FUEL,
            Err(_) => 0,
        };
        let spent = budget
            .spend_fuel(fuel)
            .and_then(|()| budget.spend_bytes(output.bytes.len() as u64));
        rendered?;
        spent.map_err(exceeded)?;
        String::from_utf8(output.bytes).map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                "the rendered output is not UTF-8 text",
            )
        })
    }
}

/// A render's output; a write past [`MAX_RENDERED_BYTES`] fails, which minijinja reports
/// as `ErrorKind::WriteFailure`.
struct CappedOutput {
    bytes: Vec<u8>,
}

impl io::Write for CappedOutput {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        if self.bytes.len() + buffer.len() > MAX_RENDERED_BYTES {
            return Err(io::Error::other("the rendered output is too large"));
        }
        self.bytes.extend_from_slice(buffer);
        Ok(buffer.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::MemoryFiles;

    fn render(path: &str, text: &str) -> String {
        let files = MemoryFiles::new().with(path, text);
        let context = minijinja::Value::from(minijinja::value::Serde(
            serde_json::json!({ "level": "info" }),
        ));
        TemplateEngine::new(Arc::new(files))
            .render_file(path, &context)
            .expect("renders")
    }

    #[test]
    fn yaml_and_json_files_are_not_escaped() {
        assert_eq!(
            render("a.yml", "level: \"{{ level }}\"\n"),
            "level: \"info\"\n"
        );
        assert_eq!(
            render("a.json", "{\"level\": \"{{ level }}\"}"),
            "{\"level\": \"info\"}"
        );
    }

    #[test]
    fn whitespace_is_jinja_default_and_files_keep_their_last_newline() {
        assert_eq!(
            render("a.conf", "{% if true %}\nx\n{% endif %}\n"),
            "\nx\n\n"
        );
        assert_eq!(render("a.conf", "{% if true -%}\nx\n{%- endif %}\n"), "x\n");
        assert_eq!(
            render("a.yml", "env: {% raw %}{{.Node.ID}}{% endraw %}\nnext: 1\n"),
            "env: {{.Node.ID}}\nnext: 1\n"
        );
    }

    #[test]
    fn fail_stops_a_render_with_the_template_s_message() {
        let files = MemoryFiles::new().with(
            "a.yml",
            "{{ fail('tls_mode must be self-signed or letsencrypt') }}",
        );
        let error = TemplateEngine::new(Arc::new(files))
            .render_file("a.yml", &minijinja::Value::UNDEFINED)
            .expect_err("fails");
        assert_eq!(
            error.detail(),
            Some("tls_mode must be self-signed or letsencrypt")
        );
    }

    fn render_error(path: &str, text: &str) -> Error {
        let files = MemoryFiles::new().with(path, text);
        TemplateEngine::new(Arc::new(files))
            .render_file(path, &minijinja::Value::UNDEFINED)
            .expect_err("fails")
    }

    #[test]
    fn a_template_without_an_end_runs_out_of_fuel() {
        let error = render_error(
            "loop.yml",
            "a: 1\n{% for i in range(10000) %}{% for j in range(10000) %}{% for k in range(10000) %}\n{% endfor %}{% endfor %}{% endfor %}\n",
        );
        assert_eq!(error.kind(), ErrorKind::OutOfFuel);
        assert_eq!(error.name(), Some("loop.yml"));
        assert_eq!(error.line(), Some(2));
    }

    #[test]
    fn a_template_that_writes_too_much_stops_at_the_output_limit() {
        let error = render_error(
            "big.yml",
            "{% for i in range(100) %}{{ 'x' * 100000 }}{% endfor %}",
        );
        assert_eq!(error.kind(), ErrorKind::WriteFailure);
        let within = render(
            "ok.yml",
            "{% for i in range(40) %}{{ 'x' * 100000 }}{% endfor %}",
        );
        assert_eq!(within.len(), 4_000_000);
    }

    #[test]
    fn the_renders_of_one_commit_share_a_budget() {
        // Each render spends about a fifth of its own fuel, and the commit's budget is
        // ten renders' worth: the renders stop well before the hundredth.
        let files =
            MemoryFiles::new().with("busy.yml", "{% for i in range(100000) %}{% endfor %}done\n");
        let engine = TemplateEngine::new(Arc::new(files));
        let results: Vec<Result<String, Error>> = (0..100)
            .map(|_| engine.render_file("busy.yml", &minijinja::Value::UNDEFINED))
            .collect();
        assert_eq!(results[0].as_deref().ok(), Some("done\n"));
        let error = results
            .iter()
            .find_map(|result| result.as_ref().err())
            .expect("the budget runs out");
        assert_eq!(
            error.detail(),
            Some(
                "the renders of this commit ran more than 10000000 instructions, the limit of one commit"
            )
        );
        assert!(results.last().is_some_and(Result::is_err), "it stays spent");
    }

    #[test]
    fn an_inline_template_has_the_same_limits() {
        let files = MemoryFiles::new();
        let error = TemplateEngine::new(Arc::new(files))
            .render_str(
                "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
                &minijinja::Value::UNDEFINED,
            )
            .expect_err("fails");
        assert_eq!(error.kind(), ErrorKind::OutOfFuel);
    }
}
