//! The console's templates and assets, compiled into the binary: minijinja with HTML
//! escaping for every page, one stylesheet and one small script.

use minijinja::Environment;

/// The stylesheet, served at `/assets/style.css`.
pub const STYLE_CSS: &str = include_str!("templates/style.css");
/// The script that follows a log live, served at `/assets/live.js`.
pub const LIVE_JS: &str = include_str!("templates/live.js");

const TEMPLATES: [(&str, &str); 7] = [
    ("layout.html", include_str!("templates/layout.html")),
    ("login.html", include_str!("templates/login.html")),
    (
        "environments.html",
        include_str!("templates/environments.html"),
    ),
    ("runs.html", include_str!("templates/runs.html")),
    ("run.html", include_str!("templates/run.html")),
    ("dispatch.html", include_str!("templates/dispatch.html")),
    ("message.html", include_str!("templates/message.html")),
];

/// The pages, parsed once.
pub struct PageTemplates {
    environment: Environment<'static>,
}

impl PageTemplates {
    pub fn new() -> PageTemplates {
        let mut environment = Environment::new();
        // Every name ends in .html: values are escaped.
        environment.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        environment.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        environment.add_filter("urlencode", |text: String| {
            form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
        });
        environment.add_filter("time", |text: String| {
            super::environments_view::short_time(&text)
        });
        for (name, source) in TEMPLATES {
            // The templates are part of the program: one that does not parse fails the
            // `every_page_template_parses` test, never a user.
            if let Err(error) = environment.add_template(name, source) {
                tracing::error!(%error, template = name, "a console template does not parse");
            }
        }
        PageTemplates { environment }
    }

    /// Renders page `name` with `context`; an error is the page's text (a bug, shown).
    pub fn render(&self, name: &str, context: minijinja::Value) -> String {
        self.environment
            .get_template(name)
            .and_then(|template| template.render(context))
            .unwrap_or_else(|error| format!("cannot render {name}: {error:#}"))
    }
}

impl Default for PageTemplates {
    fn default() -> PageTemplates {
        PageTemplates::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_template_parses_and_escapes() {
        let templates = PageTemplates::new();
        for (name, _) in TEMPLATES {
            assert!(templates.environment.get_template(name).is_ok(), "{name}");
        }
        let page = templates.render(
            "message.html",
            minijinja::context! { heading => "<b>", message => "a & b" },
        );
        assert!(page.contains("<h1>&lt;b&gt;</h1>"), "{page}");
        assert!(page.contains("a &amp; b"), "{page}");
    }
}
