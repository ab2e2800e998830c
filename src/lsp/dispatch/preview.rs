//! `baton.preview`: the exact payload a send would carry, written under the workspace's
//! `.baton/preview/` (through `fs_safe`, no link followed) and shown to the user.

use std::path::Path;

use serde_json::{json, Value};
use tower_lsp_server::ls_types as lsp;

use super::{Args, Dispatcher, PREVIEW_DIR};
use crate::dispatch::plan;
use crate::fs_safe;
use crate::lsp::refused::{refused, Outcome};
use crate::lsp::to_proto;

impl Dispatcher {
    /// `baton.preview`: the exact payload, written under `.baton/preview/` and shown.
    pub(super) async fn preview(&self, args: Args) -> Outcome<Value> {
        let uri = args.uri()?.to_owned();
        let snapshot = self.snapshot(&uri)?;
        let plan = self.contained_plan(&snapshot, &args)?;
        let stem = snapshot
            .context
            .path
            .as_deref()
            .and_then(Path::file_stem)
            .and_then(|stem| stem.to_str())
            .unwrap_or("brief");
        let name = format!(
            "{}-{}-{}.md",
            slug(stem),
            slug(&plan.brief_title),
            slug(plan.agent())
        );
        let text = plan::preview(&plan);
        // Only inside the workspace's real `.baton/preview/`: a repository may have planted a
        // link at `.baton`, at `preview` or at this very name (`fs_safe`).
        let path = fs_safe::baton_dir(&plan.journal_root)
            .and_then(|baton| baton.subdir(PREVIEW_DIR))
            .and_then(|dir| dir.replace(&name, text.as_bytes()))
            .map_err(|error| refused(format!("baton did not write the preview: {error}")))?;
        let Some(file_uri) = to_proto::file_uri(&path) else {
            return Err(refused(format!("no URI for {}", path.display())));
        };
        if self.state.session().show_document {
            let show = lsp::ShowDocumentParams {
                uri: file_uri.clone(),
                external: Some(false),
                take_focus: Some(true),
                selection: None,
            };
            let client = self.client.clone();
            // Not awaited here: the client may wait for this command's answer first.
            tokio::spawn(async move {
                if let Err(error) = client.show_document(show).await {
                    tracing::warn!("window/showDocument failed: {error}");
                }
            });
        }
        Ok(json!({ "uri": file_uri.as_str() }))
    }
}

fn slug(text: &str) -> String {
    let slug: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches('-').to_owned();
    let mut out = String::new();
    for part in slug.split('-').filter(|part| !part.is_empty()) {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(part);
    }
    if out.is_empty() {
        "brief".to_owned()
    } else {
        out.chars().take(60).collect()
    }
}
