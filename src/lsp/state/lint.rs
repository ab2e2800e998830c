//! A document's analysis: linted as it is stored (with what its cache kept from earlier
//! versions), remembered per version, and read by every feature as a [`Snapshot`]; and the
//! parse of a document that opened unparsed, made by whoever reads it first.

use std::path::Path;
use std::sync::{Arc, OnceLock, PoisonError};

use super::{Analyzed, Snapshot, State};
use crate::brief::cache::{Findings, LintCache};
use crate::brief::{self, Context, NoOtherDocuments};
use crate::document::store::OpenDocument;
use crate::document::Document;
use crate::lsp::context::DocumentContext;
use crate::lsp::guard::{contain, Panicked};

impl State {
    /// Lints `open` (the version of `uri` just stored) and remembers the result. `None` when
    /// the document is no longer open, or when `open` is not parsed yet: whoever parses a
    /// document that opened lints it (see `lsp/openings.rs`).
    pub fn analyze(
        &self,
        uri: &str,
        open: &OpenDocument,
    ) -> Option<Result<Arc<Analyzed>, Panicked>> {
        if !open.document.is_parsed() {
            return None;
        }
        let context = self.contexts.get(uri).map(|entry| entry.clone())?;
        let findings = match contain("linting", || {
            self.lint_while_typing(uri, &open.document, &context)
        }) {
            Ok(findings) => findings,
            Err(panicked) => {
                // The cache may be half-updated: start afresh next time.
                *context.cache.lock().unwrap_or_else(PoisonError::into_inner) =
                    LintCache::default();
                return Some(Err(panicked));
            }
        };
        let analyzed = Arc::new(Analyzed {
            version: open.version,
            findings,
            full: OnceLock::new(),
        });
        let newer = self
            .analyses
            .get(uri)
            .is_some_and(|cached| cached.version > open.version);
        if !newer {
            self.analyses.insert(uri.to_owned(), analyzed.clone());
        }
        Some(Ok(analyzed))
    }

    /// Lints with what the document's cache kept from earlier versions.
    fn lint_while_typing(
        &self,
        uri: &str,
        document: &Document,
        context: &DocumentContext,
    ) -> Findings {
        let mut cache = context.cache.lock().unwrap_or_else(PoisonError::into_inner);
        self.with_lint_context(uri, context, |lint_context| {
            cache.lint(document, lint_context)
        })
    }

    /// The context a document at `uri` is linted with: its own, and the briefs whose last
    /// run failed (for `dispatch-failed`).
    fn with_lint_context<T>(
        &self,
        uri: &str,
        context: &DocumentContext,
        lint: impl FnOnce(&Context<'_>) -> T,
    ) -> T {
        let settings = &context.settings;
        let open_at = |path: &Path| self.open_document_at(path);
        let linked = context.linked(&open_at);
        let others: &dyn brief::OtherDocuments = match &linked {
            Some(linked) => linked,
            None => &NoOtherDocuments,
        };
        lint(&Context {
            config: &settings.config,
            kinds: &settings.kinds,
            path: context.path.as_deref(),
            others,
            machine: &context.machine,
            failed_runs: &self.runs.failures(uri),
            over_budget: &self.verdicts.of(uri),
        })
    }

    /// The open document at `uri` with its current analysis (linted now if the cached one
    /// is older). `None` when the document is not open.
    pub fn snapshot(&self, uri: &str) -> Option<Result<Snapshot, Panicked>> {
        let open = match self.parsed(uri)? {
            Ok(open) => open,
            Err(panicked) => return Some(Err(panicked)),
        };
        let context = self.contexts.get(uri).map(|entry| entry.clone())?;
        let cached = self
            .analyses
            .get(uri)
            .map(|entry| entry.clone())
            .filter(|analyzed| analyzed.version == open.version);
        let analyzed = match cached {
            Some(analyzed) => analyzed,
            None => match self.analyze(uri, &open)? {
                Ok(analyzed) => analyzed,
                Err(panicked) => return Some(Err(panicked)),
            },
        };
        let analysis = match analyzed.full.get() {
            Some(analysis) => analysis.clone(),
            None => match contain("analysing", || analyzed.findings.analysis()) {
                Ok(analysis) => analyzed.full.get_or_init(|| Arc::new(analysis)).clone(),
                Err(panicked) => return Some(Err(panicked)),
            },
        };
        Some(Ok(Snapshot {
            open,
            context,
            analysis,
        }))
    }

    /// The open document at `uri`, parsed. A document is stored unparsed when it opens and
    /// parsed off the handler thread; a reader that comes first parses it here and installs
    /// the parse, so no feature or lint ever reads the empty outline of a document not parsed
    /// yet. `None` when the document is not open.
    pub fn parsed(&self, uri: &str) -> Option<Result<Arc<OpenDocument>, Panicked>> {
        loop {
            let open = self.store.get(uri)?;
            if open.document.is_parsed() {
                return Some(Ok(open));
            }
            let document = match contain("parsing a document", || open.document.parsed()) {
                Ok(document) => document,
                Err(panicked) => return Some(Err(panicked)),
            };
            // Installed, or a change (or another reader) came first: read what is stored now.
            self.store.install_parsed(uri, &open, document);
        }
    }
}
