//! Linting a document: classify it, read its front matter and briefs, run every rule.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;

use super::diagnostic::{Code, Diagnostic};
use super::front_matter::{self, FrontMatter};
use super::graph::TitleIndex;
use super::input::Input;
use super::kind::{FieldSpec, Kind, Kinds};
use super::link::{Link, Target};
use super::model::{self, Brief, Mention};
use super::rules;
use crate::config::Config;
use crate::document::Document;

/// What the linter may know of other documents, for links across files. The shell answers
/// from open documents and the disk, within the workspace; tests answer from a map.
pub trait OtherDocuments {
    /// The document `file` names, relative to the linted document.
    fn find(&self, file: &str) -> LinkedDocument;

    /// The latest output of the brief `target` names in the document `file`
    /// ([`input::latest_output`](super::input::latest_output)), for `stale-output` and the
    /// inputs of a run; `None` when there is none, or nothing there can be read.
    fn latest_output(&self, _file: &str, _target: &Target) -> Option<Input> {
        None
    }
}

/// What a link to another document leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkedDocument {
    /// A document, with the titles of its briefs.
    Found(Vec<String>),
    /// No document baton can read there.
    Missing,
    /// A document outside the workspace whose folder is `workspace` (as the user reads it):
    /// baton neither reads nor sends it, so whether it exists is not known either.
    Outside { workspace: String },
}

/// No other documents: every cross-file link is broken.
pub struct NoOtherDocuments;

impl OtherDocuments for NoOtherDocuments {
    fn find(&self, _: &str) -> LinkedDocument {
        LinkedDocument::Missing
    }
}

/// What the machine the linter runs on says about sending: facts only the shell can find
/// out (the environment, the user's trust), handed to the pure core as a value. The server
/// and `baton check` find them with `Machine::detect` (in `workspace`); tests write them out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    /// Whether the user trusts the workspace's `baton.toml` to define agents that run
    /// programs or send keys to custom endpoints (DESIGN §7).
    pub trusted_workspace: bool,
    /// The environment variables, among those the agents' `api_key_env` name, that are set
    /// to something not empty. The values never leave the environment.
    pub set_variables: BTreeSet<String>,
    /// Whether `missing-key` is reported: where a send is imminent (the editor, `baton send`),
    /// whose environment is the one the send will have; not by `baton check` unless asked
    /// (`--keys`), which often runs where no key is, and need not be (CI).
    pub check_keys: bool,
}

/// A machine with no keys set and an untrusted workspace, as the editor sees it.
impl Default for Machine {
    fn default() -> Self {
        Machine {
            trusted_workspace: false,
            set_variables: BTreeSet::new(),
            check_keys: true,
        }
    }
}

impl Machine {
    /// Whether the environment variable `name` is set (and not empty).
    pub fn is_set(&self, name: &str) -> bool {
        self.set_variables.contains(name)
    }
}

/// A brief whose last run failed, as the shell knows it (the server's run registry), for
/// `dispatch-failed` (DESIGN §3) until the brief is sent again.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FailedRun {
    /// The brief's title, as the run was sent.
    pub title: String,
    pub reason: String,
}

/// A brief past its agent's `handoff_at` (DESIGN §6), as the shell counted it off the
/// keystroke path (when budget lenses were asked for), for `over-budget`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OverBudget {
    /// The brief's title.
    pub title: String,
    /// The numbers ([`crate::dispatch::budget::Budget::message`]).
    pub message: String,
    /// Past the whole context window: an error, and sending is refused.
    pub past: bool,
}

/// Everything the linter needs besides the document.
pub struct Context<'a> {
    pub config: &'a Config,
    pub kinds: &'a Kinds,
    /// The document's path, when it has one: decides whether it is a baton document.
    pub path: Option<&'a Path>,
    pub others: &'a dyn OtherDocuments,
    /// The environment and trust, for `missing-key` and `untrusted-agent`.
    pub machine: &'a Machine,
    /// The briefs whose last run failed; empty where no run was made (`baton check`).
    pub failed_runs: &'a [FailedRun],
    /// The briefs over budget, as last counted; empty where none was (`baton check`).
    pub over_budget: &'a [OverBudget],
}

impl<'a> Context<'a> {
    /// What every rule reads of this context, for `document` with its front matter and kind.
    pub fn common(
        &self,
        document: &'a Document,
        front_matter: &'a FrontMatter,
        kind: Option<&'a Kind>,
    ) -> Common<'a> {
        Common {
            document,
            front_matter,
            kind,
            kinds: self.kinds,
            config: self.config,
            others: self.others,
            machine: self.machine,
        }
    }
}

/// A linted document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Analysis {
    /// The document's kind name, or `None` for Markdown that is not a baton document.
    pub kind: Option<String>,
    pub front_matter: FrontMatter,
    pub briefs: Vec<Brief>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub fn is_baton_document(&self) -> bool {
        self.kind.is_some()
    }

    /// The brief that contains a byte offset.
    pub fn brief_at(&self, offset: usize) -> Option<&Brief> {
        self.briefs
            .iter()
            .rev()
            .find(|brief| brief.range.start <= offset)
    }
}

/// What every rule may read besides the briefs: the document, its front matter, its kind, the
/// configuration and the machine.
pub struct Common<'a> {
    pub document: &'a Document,
    pub front_matter: &'a FrontMatter,
    /// The kind whose fields apply; `None` when the front matter names an unknown kind.
    pub kind: Option<&'a Kind>,
    pub kinds: &'a Kinds,
    pub config: &'a Config,
    pub others: &'a dyn OtherDocuments,
    pub machine: &'a Machine,
}

/// What the brief rules read: whole briefs, each on its own (the lint while typing gives them
/// one brief at a time).
pub struct RuleContext<'a> {
    pub common: Common<'a>,
    pub briefs: &'a [Brief],
    /// For each brief, for each field: its index in the kind's fields, if the kind knows it.
    pub specs: Vec<Vec<Option<usize>>>,
}

impl<'a> std::ops::Deref for RuleContext<'a> {
    type Target = Common<'a>;

    fn deref(&self) -> &Common<'a> {
        &self.common
    }
}

impl RuleContext<'_> {
    /// The canonical field a brief's field is, if the kind knows it.
    pub fn spec(&self, brief: usize, field: usize) -> Option<&FieldSpec> {
        let index = self.specs.get(brief)?.get(field).copied().flatten()?;
        self.kind.map(|kind| &kind.fields[index])
    }
}

/// A brief as the document rules see it: its title, place, mention and links, and never its
/// fields or outputs, which the lint while typing does not keep for every brief.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outline {
    pub title: String,
    pub heading: Option<Range<usize>>,
    /// Where a finding on the whole brief goes ([`Brief::anchor`]).
    pub anchor: Range<usize>,
    pub mention: Option<Mention>,
    pub range: Range<usize>,
    pub links: Vec<Link>,
}

impl Outline {
    pub fn of(brief: &Brief, document: &Document) -> Outline {
        Outline::placed(brief, 0, document)
    }

    /// The outline of a brief kept `base` bytes before where it lies ([`Brief::moved`]).
    pub fn placed(brief: &Brief, base: usize, document: &Document) -> Outline {
        let shift = |range: &Range<usize>| range.start + base..range.end + base;
        let heading = brief.heading.as_ref().map(shift);
        let range = shift(&brief.range);
        Outline {
            anchor: model::anchor(heading.as_ref(), &range, document),
            title: brief.title.clone(),
            heading,
            mention: brief.mention.as_ref().map(|mention| Mention {
                name: mention.name.clone(),
                range: shift(&mention.range),
            }),
            range,
            links: (brief.links.iter())
                .map(|link| Link {
                    range: shift(&link.range),
                    target_range: shift(&link.target_range),
                    target: link.target.clone(),
                })
                .collect(),
        }
    }
}

/// What the document rules read: the briefs' outlines, the runs that failed, and what every
/// rule reads. They run on every lint, across briefs.
pub struct DocumentInput<'a> {
    pub common: Common<'a>,
    pub briefs: &'a [Outline],
    /// Briefs by title, for resolving links.
    pub titles: TitleIndex,
    pub failed_runs: &'a [FailedRun],
    pub over_budget: &'a [OverBudget],
}

impl<'a> std::ops::Deref for DocumentInput<'a> {
    type Target = Common<'a>;

    fn deref(&self) -> &Common<'a> {
        &self.common
    }
}

/// Lints a document. Markdown that is not a baton document gets an empty analysis.
pub fn lint(document: &Document, context: &Context<'_>) -> Analysis {
    if document.is_too_large() {
        return too_large(document, context.path);
    }
    let (front_matter, mut diagnostics) = front_matter::read(document);
    let Some(kind) = classify(context.path, &front_matter, context.config) else {
        return Analysis::default();
    };
    let briefs = model::briefs(document);
    let kind_spec = context.kinds.get(&kind);
    let specs = briefs
        .iter()
        .map(|brief| field_specs(kind_spec, brief))
        .collect();
    let common = || context.common(document, &front_matter, kind_spec);
    let outlines: Vec<Outline> = (briefs.iter())
        .map(|brief| Outline::of(brief, document))
        .collect();
    let input = DocumentInput {
        common: common(),
        briefs: &outlines,
        titles: TitleIndex::new(&briefs),
        failed_runs: context.failed_runs,
        over_budget: context.over_budget,
    };
    rules::check_document(&input, &mut diagnostics);
    let rule_context = RuleContext {
        common: common(),
        briefs: &briefs,
        specs,
    };
    rules::check_briefs(&rule_context, &mut diagnostics);
    diagnostics.sort_by(super::diagnostic::Diagnostic::document_order);
    Analysis {
        kind: Some(kind),
        front_matter,
        briefs,
        diagnostics,
    }
}

/// For each field of a brief, its index in the kind's fields, if the kind knows it.
pub fn field_specs(kind: Option<&Kind>, brief: &Brief) -> Vec<Option<usize>> {
    brief
        .fields
        .iter()
        .map(|field| kind.and_then(|kind| kind.field_index(&field.name)))
        .collect()
}

/// The kind of a document (DESIGN §1), or `None` when it is not a baton document.
pub fn classify(
    path: Option<&Path>,
    front_matter: &FrontMatter,
    config: &Config,
) -> Option<String> {
    if let Some(kind) = &front_matter.kind {
        return Some(kind.value.clone());
    }
    let name = path
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .unwrap_or("")
        .to_lowercase();
    if name.ends_with(".handoff.md") {
        return Some("handoff".to_owned());
    }
    // The name first: a glob match costs more, and a document is classified on every lint.
    let by_glob = || path.is_some_and(|path| config.matches_document(path));
    (name.ends_with(".brief.md") || by_glob()).then(|| "brief".to_owned())
}

/// Whether a path names a document baton lints by name or glob alone (the CLI's walk).
pub fn is_named_baton_document(path: &Path, config: &Config) -> bool {
    classify(Some(path), &FrontMatter::default(), config).is_some()
}

fn too_large(document: &Document, path: Option<&Path>) -> Analysis {
    let name = path
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .unwrap_or("");
    let looks_like_brief = name.ends_with(".brief.md")
        || name.ends_with(".handoff.md")
        || document.slice(0..4) == "---\n";
    if !looks_like_brief {
        return Analysis::default();
    }
    let megabytes = document.len() as f64 / (1024.0 * 1024.0);
    let message = format!(
        "this document is {megabytes:.1} MiB, over baton's {} MiB limit, so it is not linted; split it into smaller documents",
        crate::document::MAX_LINTED_BYTES / (1024 * 1024)
    );
    let diagnostics = vec![Diagnostic::new(Code::TooLarge, 0..0, message)];
    Analysis {
        kind: Some("brief".to_owned()),
        diagnostics,
        ..Analysis::default()
    }
}
