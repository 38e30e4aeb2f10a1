//! The theme's templates, compiled once per site, and template errors
//! turned into diagnostics that name the template file and line.

use std::borrow::Cow;

use tera::{Tera, Value};

use super::Theme;
use super::escape::cdata;
use crate::diagnostic::Diagnostic;

/// A theme's templates, compiled for a site's base path.
pub struct Templates {
    tera: Tera,
}

impl std::ops::Deref for Templates {
    type Target = Tera;
    fn deref(&self) -> &Tera {
        &self.tera
    }
}

/// `{{ html | cdata }}`: the text as an XML CDATA section, marked safe.
fn cdata_filter(text: Cow<'_, str>, _: tera::Kwargs, _: &tera::State) -> Value {
    Value::safe_string(&cdata(&text))
}

/// `{{ taxonomy.title | in_sentence }}`: "Sectors" as it reads inside a
/// sentence ("sectors"), acronyms such as "NGOs" left as written.
fn in_sentence_filter(text: Cow<'_, str>, _: tera::Kwargs, _: &tera::State) -> Value {
    Value::from(crate::text::in_sentence(&text))
}

impl Templates {
    /// Compiles the theme's templates and checks that every template and
    /// component casebook uses is there, so a theme missing one fails here,
    /// once, rather than on every page.
    pub fn compile(theme: &Theme, config: &crate::config::Config) -> Result<Templates, Diagnostic> {
        let mut tera = Tera::new();
        let base_path = config.base_path.clone();
        tera.register_function(
            "url",
            move |kwargs: tera::Kwargs, _: &tera::State| -> tera::TeraResult<String> {
                let path: &str = kwargs.must_get("path")?;
                Ok(format!("{base_path}{}", path.trim_start_matches('/')))
            },
        );
        // `{{ picture(photo=page.photo, sizes="100vw", lead=true) }}`: the
        // same <picture> the Markdown's photos get (see crate::images).
        tera.register_function(
            "picture",
            |kwargs: tera::Kwargs, _: &tera::State| -> tera::TeraResult<Value> {
                let photo: Value = kwargs.must_get("photo")?;
                let sizes: Option<&str> = kwargs.get("sizes")?;
                let lead: Option<bool> = kwargs.get("lead")?;
                let photo: crate::images::PhotoV =
                    serde::Deserialize::deserialize(photo).map_err(|e| {
                        tera::Error::message(format!("picture(): `photo` is not a photo: {e}"))
                    })?;
                Ok(Value::safe_string(&crate::images::picture(
                    &photo,
                    sizes.unwrap_or("100vw"),
                    lead.unwrap_or(false),
                    None,
                )))
            },
        );
        tera.register_filter("cdata", cdata_filter);
        tera.register_filter("in_sentence", in_sentence_filter);
        // Functions and filters must be registered first: templates are
        // checked against them when added.
        tera.add_raw_templates(
            theme
                .templates
                .iter()
                .map(|(n, t)| (n.as_str(), t.source.as_str())),
        )
        .map_err(|e| template_diagnostic(theme, "", &e))?;
        if !tera.contains_component("card") {
            return Err(Diagnostic::error(
                theme.origin("components.html"),
                "the theme has no `card` component, which every list of case studies uses",
            ));
        }
        for name in [
            "index.html",
            "case-study.html",
            "report.html",
            "page.html",
            "list.html",
            "reports.html",
            "taxonomy.html",
            "term.html",
            "404.html",
            "atom.xml",
            "sitemap.xml",
            "robots.txt",
            "alias.html",
            "explore.html",
            "outcomes.html",
        ] {
            if !tera.contains_template(name) {
                return Err(Diagnostic::error(
                    theme.origin(name),
                    format!("the theme has no `{name}` template"),
                ));
            }
        }
        Ok(Templates { tera })
    }
}

/// A template error, turned into a diagnostic that names the template file.
pub(super) fn template_diagnostic(theme: &Theme, template: &str, e: &tera::Error) -> Diagnostic {
    use std::error::Error as _;
    // What the error wraps (a filter's own error), on one line.
    let mut causes = String::new();
    let mut source = e.source();
    while let Some(s) = source {
        causes.push_str(": ");
        causes.push_str(&s.to_string());
        source = s.source();
    }
    match e.kind() {
        // Tera knows the template, line and column: say them as every other
        // diagnostic does, quoting the line.
        tera::ErrorKind::SyntaxError(r) | tera::ErrorKind::RenderingError(r) => {
            let name = if r.filename().is_empty() {
                template
            } else {
                r.filename()
            };
            let what = if matches!(e.kind(), tera::ErrorKind::SyntaxError(_)) {
                "the template does not compile"
            } else {
                "the template failed while rendering"
            };
            let mut d = Diagnostic::error(
                theme.origin(name),
                format!("{what}: {}{causes}", r.message()),
            );
            let span = r.span();
            if let Some(t) = theme.templates.get(name)
                && span.start_line > 0
            {
                d = d.at(&t.source, span.start_line, span.start_col + 1);
                if span.end_line == span.start_line && span.end_col > span.start_col {
                    d = d.with_width(span.end_col - span.start_col);
                }
            }
            d
        }
        _ => {
            // Checks across templates (unknown filters, components,
            // blocks) come as one text of rustc-like reports.
            let mut found = reports(theme, &e.to_string());
            if !found.is_empty() {
                let first = found.remove(0);
                return match found.len() {
                    0 => first,
                    n => first.with_hint(format!(
                        "and {n} more such problems in the templates: fix this one and check again"
                    )),
                };
            }
            let file = if template.is_empty() {
                "templates".to_string()
            } else {
                theme.origin(template)
            };
            let message = format!("template `{template}` failed: {e}{causes}").replace('\n', " ");
            Diagnostic::error(file, message)
        }
    }
}

/// The reports in a text Tera made of several (`error: MESSAGE`, then
/// ` --> NAME:LINE:COLUMN` and the quoted line with its carets), as
/// diagnostics on the theme's files.
fn reports(theme: &Theme, text: &str) -> Vec<Diagnostic> {
    text.split("\n\n")
        .filter_map(|report| {
            let mut lines = report.lines();
            let message = lines.next()?.trim().strip_prefix("error: ")?;
            let place = lines.next()?.trim().strip_prefix("--> ")?;
            let mut parts = place.rsplitn(3, ':');
            let column: usize = parts.next()?.parse().ok()?;
            let line: usize = parts.next()?.parse().ok()?;
            let name = parts.next()?;
            let width = report
                .lines()
                .last()
                .map_or(0, |l| l.chars().filter(|&c| c == '^').count());
            let mut d = Diagnostic::error(
                theme.origin(name),
                format!("the template does not compile: {message}"),
            );
            d = match theme.templates.get(name) {
                Some(t) => d.at(&t.source, line, column),
                None => d.at_line(line, column),
            };
            Some(d.with_width(width))
        })
        .collect()
}
