//! `baton check`: lint files and folders and print the diagnostics.
//!
//! The same core as the server: each file's folder gets its configuration from
//! `workspace::Settings` (found once per folder), and `brief::lint` decides what is a baton
//! document. What only a terminal meets is handled here: files that are not UTF-8, files that
//! cannot be read, and the problems of the configuration files themselves.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::string::FromUtf8Error;

use ropey::Rope;

use super::finding::{Finding, LineColumn, Rule};
use super::walk::{self, Candidate, Walk};
use super::{render, sarif};
use crate::brief::lint::{is_named_baton_document, lint, Context};
use crate::brief::{front_matter, Code, Severity};
use crate::config::{trust_store, ConfigProblem};
use crate::dispatch::budgets::Budgets;
use crate::document::Document;
use crate::workspace::{no_open_documents, Boundary, LinkedDocuments, Machine, Settings};

/// How `check` prints its findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

/// The exit status for a path that does not exist, like clap's own usage errors.
const USAGE_ERROR: u8 = 2;

/// `keys`: whether to report `missing-key` (`--keys`).
pub fn run(paths: &[PathBuf], format: Format, keys: bool) -> ExitCode {
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(error) => {
            eprintln!("baton check: cannot read the current folder: {error}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let current = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &current[..]
    } else {
        paths
    };
    let walk = match walk::walk(paths, &cwd) {
        Ok(walk) => walk,
        Err(missing) => {
            for path in missing {
                eprintln!("baton check: {}: no such file or folder", path.display());
            }
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let report = check(&walk, &cwd, keys);
    let output = match format {
        Format::Human => render::human(&report.findings),
        Format::Json => render::json(&report.findings),
        Format::Sarif => sarif::render(&report.findings, &cwd, report.docs_base.as_deref()),
    };
    // A closed pipe (`baton check | head`) is not a failure of the check.
    let _ = io::stdout().lock().write_all(output.as_bytes());
    if format == Format::Human {
        if let Some(summary) = render::summary(&report.findings, report.documents) {
            eprintln!("{summary}");
        }
    }
    let failed = report
        .findings
        .iter()
        .any(|finding| finding.severity == Severity::Error);
    ExitCode::from(u8::from(failed))
}

/// Everything `check` found.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// How many baton documents were checked.
    pub documents: usize,
    /// The first `[docs] base_url` among the configurations in force, for SARIF's links.
    pub docs_base: Option<String>,
}

/// Checks what a walk found. Findings come file by file in the walk's order; a configuration
/// file's problems come once, before the first document it applies to. `keys`: whether
/// `missing-key` is reported.
pub fn check(walk: &Walk, cwd: &Path, keys: bool) -> Report {
    let mut checker = Checker {
        cwd,
        keys,
        settings: HashMap::new(),
        reported: HashSet::new(),
        report: Report::default(),
    };
    for (candidate, error) in &walk.errors {
        let message = format!("cannot read this folder: {error}");
        checker.push(Finding::at_start(candidate, Rule::IoError, message));
    }
    for folder in &walk.folders {
        checker.settings(&folder.path);
    }
    for file in &walk.files {
        checker.check_file(file);
    }
    checker.report
}

struct Checker<'a> {
    cwd: &'a Path,
    /// Whether `missing-key` is reported (`--keys`): the environment of a check (CI, say) is
    /// seldom the one briefs are sent from.
    keys: bool,
    /// Settings by folder, with the machine as they see it (which of their agents' key
    /// variables are set, whether their workspace is trusted): every file of a folder shares
    /// them.
    settings: HashMap<PathBuf, (Settings, Machine)>,
    /// Configuration problems already reported, by file, offset and message: a file applies to
    /// many folders, and the user's file to all of them.
    reported: HashSet<(PathBuf, usize, String)>,
    report: Report,
}

impl Checker<'_> {
    fn push(&mut self, finding: Finding) {
        self.report.findings.push(finding);
    }

    /// The settings for files in `folder` and the machine they are checked on, reporting the
    /// problems of its configuration files the first time they are met. The workspace is
    /// trusted as `baton send` trusts it: `BATON_TRUST_WORKSPACE=1`, or `baton trust`.
    fn settings(&mut self, folder: &Path) -> (Settings, Machine) {
        if let Some(found) = self.settings.get(folder) {
            return found.clone();
        }
        let (settings, problems) = Settings::discover(folder);
        if self.report.docs_base.is_none() {
            self.report.docs_base = settings.config.docs_base().map(str::to_owned);
        }
        for problem in problems {
            self.config_problem(problem);
        }
        let trusted = trust_store::workspace_trusted(settings.config.root.as_deref());
        let mut machine = Machine::detect(&settings.config, trusted);
        machine.check_keys = self.keys;
        let found = (settings, machine);
        self.settings.insert(folder.to_path_buf(), found.clone());
        found
    }

    fn config_problem(&mut self, problem: ConfigProblem) {
        let key = (
            problem.path.clone(),
            problem.error.range.start,
            problem.error.message.clone(),
        );
        if !self.reported.insert(key) {
            return;
        }
        let file = Candidate {
            display: config_display(&problem.path, self.cwd),
            path: problem.path,
            explicit: false,
        };
        let rope = Rope::from_str(&problem.text);
        let rule = Rule::Lint(Code::InvalidConfig);
        let finding = Finding::in_text(
            &file,
            &rope,
            &problem.error.range,
            problem.severity,
            rule,
            problem.error.message,
        );
        self.push(finding);
    }

    fn check_file(&mut self, file: &Candidate) {
        let folder = file.path.parent().unwrap_or(Path::new("/"));
        let (settings, machine) = self.settings(folder);
        let bytes = match fs::read(&file.path) {
            Ok(bytes) => bytes,
            Err(error) => {
                let message = format!("cannot read this file: {error}");
                return self.push(Finding::at_start(file, Rule::IoError, message));
            }
        };
        let named = is_named_baton_document(&file.path, &settings.config);
        // Front matter starts at the first byte; a file without it, not named like a brief and
        // not asked for, is plain Markdown, and is not worth parsing.
        if !(named || file.explicit || bytes.starts_with(b"---")) {
            return;
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(error) => return self.not_utf8(file, named, error),
        };
        let document = Document::new(&text);
        let boundary = Boundary::of_document(settings.config.root.as_deref(), folder, &[]);
        let others = LinkedDocuments::new(&file.path, boundary.clone(), &no_open_documents);
        let mut context = Context {
            config: &settings.config,
            kinds: &settings.kinds,
            path: Some(&file.path),
            others: &others,
            machine: &machine,
            failed_runs: &[],
            over_budget: &[],
        };
        let mut analysis = lint(&document, &context);
        if !analysis.is_baton_document() {
            return;
        }
        // Budgets are counted only where a brief is long enough to be over (DESIGN §6).
        let linked = LinkedDocuments::new(&file.path, boundary.clone(), &no_open_documents);
        let over = Budgets::new(&document, &analysis, &settings, &file.path, Some(linked))
            .map(|mut budgets| budgets.over())
            .unwrap_or_default();
        if !over.is_empty() {
            context.over_budget = &over;
            analysis = lint(&document, &context);
        }
        self.report.documents += 1;
        for diagnostic in analysis.diagnostics {
            let rule = Rule::Lint(diagnostic.code);
            self.push(Finding::in_text(
                file,
                document.rope(),
                &diagnostic.range,
                diagnostic.severity,
                rule,
                diagnostic.message.to_string(),
            ));
        }
    }

    /// A file that is not UTF-8 is reported when it is meant as a baton document: named on the
    /// command line, named like one, or with `kind:` in its front matter once decoded lossily.
    fn not_utf8(&mut self, file: &Candidate, named: bool, error: FromUtf8Error) {
        let valid_up_to = error.utf8_error().valid_up_to();
        let bytes = error.into_bytes();
        let meant = file.explicit || named || has_kind(&String::from_utf8_lossy(&bytes));
        if !meant {
            return;
        }
        self.report.documents += 1;
        let valid = std::str::from_utf8(&bytes[..valid_up_to]).unwrap_or_default();
        let at = LineColumn::of(&Rope::from_str(valid), valid.len());
        let message = format!(
            "file is not valid UTF-8 (first bad byte at line {}, column {}); baton reads UTF-8 only",
            at.line, at.column
        );
        self.push(Finding::at_start(file, Rule::Lint(Code::NotUtf8), message));
    }
}

/// Whether the front matter of `text` names a kind.
fn has_kind(text: &str) -> bool {
    front_matter::read(&Document::new(text)).0.kind.is_some()
}

/// A configuration file's path for messages: relative to the current folder when it lies
/// under it (or just above, `../baton.toml`), else absolute, as the user's own file is.
fn config_display(path: &Path, cwd: &Path) -> String {
    let relative = walk::relative(path, cwd);
    let climbs = relative
        .components()
        .take_while(|component| *component == std::path::Component::ParentDir)
        .count();
    let shown = if climbs <= 1 { &relative } else { path };
    shown.to_string_lossy().into_owned()
}
