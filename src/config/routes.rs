//! `[[routes]]` (DESIGN §5), compiled once per loaded configuration: each route's `heading`
//! pattern becomes a `regex::Regex` when the [`super::Config`] is built, never while typing.
//!
//! A route matches a brief when every condition it gives holds: `heading` (a regex) finds a
//! match in the brief's title (the heading's text without its `#`s and `@mention`), `kind` is
//! the document's kind (in any case, as kind names are), and every one of `tags` is among the front matter's `tags:` (compared
//! without regard to case). A route that gives no condition matches every brief. The first
//! route that matches wins, in the merged order (the workspace's routes, then the user's).
//! A route whose `heading` is not a valid regex matches nothing; [`heading_problem`] says why,
//! at the pattern in `baton.toml`.

use regex::Regex;

use super::model::Route;

/// The routes in force, in the order they are tried.
#[derive(Clone, Debug, Default)]
pub struct Routes {
    routes: Vec<Compiled>,
}

#[derive(Clone, Debug)]
struct Compiled {
    /// `None`: no `heading` condition. `Some(None)`: one that does not compile.
    heading: Option<Option<Regex>>,
    route: Route,
}

/// The route that picked a brief's agent: its 1-based number in the merged list and the
/// conditions it gives, all of which held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteMatch {
    pub number: usize,
    pub agent: String,
    pub heading: Option<String>,
    pub kind: Option<String>,
    pub tags: Vec<String>,
}

/// What a route is matched against.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// The brief's title: its heading's text without `#`s and mentions.
    pub title: &'a str,
    /// The document's kind name, when it is a baton document.
    pub kind: Option<&'a str>,
    /// The front matter's `tags:`.
    pub tags: &'a [String],
}

impl Routes {
    /// Compiles every route's `heading` pattern; one that does not compile never matches.
    pub fn new(routes: &[Route]) -> Routes {
        let routes = routes
            .iter()
            .map(|route| Compiled {
                heading: (route.when.heading.as_deref()).map(|pattern| Regex::new(pattern).ok()),
                route: route.clone(),
            })
            .collect();
        Routes { routes }
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The first route whose conditions all hold for `subject`.
    pub fn first_match(&self, subject: Subject<'_>) -> Option<RouteMatch> {
        let (index, compiled) =
            (self.routes.iter().enumerate()).find(|(_, compiled)| compiled.matches(subject))?;
        let when = &compiled.route.when;
        Some(RouteMatch {
            number: index + 1,
            agent: compiled.route.agent.clone(),
            heading: when.heading.clone(),
            kind: when.kind.clone(),
            tags: when.tags.clone(),
        })
    }
}

impl Compiled {
    fn matches(&self, subject: Subject<'_>) -> bool {
        let when = &self.route.when;
        let heading = match &self.heading {
            None => true,
            Some(None) => false,
            Some(Some(regex)) => regex.is_match(subject.title),
        };
        let kind = (when.kind.as_deref()).is_none_or(|kind| {
            (subject.kind).is_some_and(|name| name.to_lowercase() == kind.to_lowercase())
        });
        let tags = when.tags.iter().all(|wanted| {
            (subject.tags.iter()).any(|tag| tag.to_lowercase() == wanted.to_lowercase())
        });
        heading && kind && tags
    }
}

impl RouteMatch {
    /// The conditions that held, shortly: `heading matches (?i)research, kind brief, tags
    /// market, urgent`; `every brief` for a route without conditions.
    pub fn conditions(&self) -> String {
        let mut parts = Vec::new();
        if let Some(heading) = &self.heading {
            parts.push(format!("heading matches {heading}"));
        }
        if let Some(kind) = &self.kind {
            parts.push(format!("kind {kind}"));
        }
        if !self.tags.is_empty() {
            parts.push(format!("tags {}", self.tags.join(", ")));
        }
        if parts.is_empty() {
            return "every brief".to_owned();
        }
        parts.join(", ")
    }
}

/// Why `pattern` (a route's `heading`) is not a valid regex, in the regex crate's words
/// without its picture of the pattern; `None` when it is valid.
pub fn heading_problem(pattern: &str) -> Option<String> {
    let error = Regex::new(pattern).err()?;
    let why = match &error {
        regex::Error::Syntax(text) => (text.lines().rev())
            .find_map(|line| line.strip_prefix("error: "))
            .unwrap_or(text.trim())
            .to_owned(),
        regex::Error::CompiledTooBig(_) => "the compiled pattern is too large".to_owned(),
        other => other.to_string(),
    };
    Some(format!(
        "`heading` is not a valid regex: {why}; this route matches no brief until it is fixed"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse::parse;

    fn routes(text: &str) -> Routes {
        Routes::new(&parse(text).unwrap().file.routes)
    }

    fn first(routes: &Routes, title: &str, kind: Option<&str>, tags: &[&str]) -> Option<String> {
        let tags: Vec<String> = tags.iter().map(|tag| tag.to_string()).collect();
        let subject = Subject {
            title,
            kind,
            tags: &tags,
        };
        (routes.first_match(subject))
            .map(|found| format!("{} {}", found.number, found.conditions()))
    }

    #[test]
    fn the_first_route_whose_conditions_all_hold_wins() {
        let routes = routes(
            r#"
[[routes]]
when = { heading = "(", kind = "brief" }
agent = "broken"
[[routes]]
when = { heading = "(?i)research|scan", kind = "brief", tags = ["market", "EU"] }
agent = "a"
[[routes]]
when = { heading = "(?i)research" }
agent = "b"
[[routes]]
when = { kind = "review" }
agent = "c"
[[routes]]
agent = "d"
"#,
        );
        let b = Some("brief");
        let found = first(&routes, "Scan rivals", b, &["eu", "market", "x"]);
        assert_eq!(
            found.as_deref(),
            Some("2 heading matches (?i)research|scan, kind brief, tags market, EU")
        );
        let found = first(&routes, "Deep RESEARCH", b, &["market"]);
        assert_eq!(found.as_deref(), Some("3 heading matches (?i)research"));
        let found = first(&routes, "Scan", Some("Review"), &[]);
        assert_eq!(found.as_deref(), Some("4 kind review"));
        assert_eq!(
            first(&routes, "Write", b, &[]).as_deref(),
            Some("5 every brief")
        );
        assert!(first(&self::routes(""), "Write", b, &[]).is_none());
    }

    #[test]
    fn an_invalid_heading_is_explained_in_a_line() {
        assert_eq!(heading_problem("(?i)research"), None);
        assert_eq!(
            heading_problem("(research").as_deref(),
            Some("`heading` is not a valid regex: unclosed group; this route matches no brief until it is fixed")
        );
    }
}
