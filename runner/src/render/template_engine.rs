//! The minijinja environment shoal renders with: strict about undefined values, loading
//! templates from the config repo and never from outside it, with shoal's filters.

use std::sync::Arc;

use minijinja::{Error, ErrorKind, UndefinedBehavior};

use super::filters;
use crate::load::{ReadError, RepoFiles, join_relative, normalize};

pub struct TemplateEngine {
    environment: minijinja::Environment<'static>,
}

impl TemplateEngine {
    pub fn new(files: Arc<dyn RepoFiles>) -> TemplateEngine {
        let mut environment = minijinja::Environment::new();
        environment.set_undefined_behavior(UndefinedBehavior::Strict);
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
        environment.set_loader(move |name| match files.read(name) {
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
        TemplateEngine { environment }
    }

    /// Renders the template at a repo path.
    pub fn render_file(&self, path: &str, context: &minijinja::Value) -> Result<String, Error> {
        let path = normalize(path).map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("template `{path}` is outside the config repo"),
            )
        })?;
        self.environment
            .get_template(&path)?
            .render(context.clone())
    }

    /// Renders a template written inline in a workflow (a name, a concurrency group).
    pub fn render_str(&self, source: &str, context: &minijinja::Value) -> Result<String, Error> {
        self.environment.render_str(source, context.clone())
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
}
