//! Writing a run's block into a file on disk, for `baton send`, `baton run` and a pipeline's
//! documents the editor does not hold open: the file as it is now is read again, the block
//! placed by `dispatch::place` (as the editor does), and the file replaced atomically by
//! `fs_safe` (a temp file, then a rename; a link is refused).

use std::fs;
use std::path::Path;

use crate::brief::output::Marker;
use crate::dispatch::place::{self, Gone};
use crate::document::Document;
use crate::fs_safe;

/// Writes the block of `marker`'s run, holding `body` (already `place::body`), under the brief
/// `title` of `file` as it is now, in place of the run's own block or the agent's earlier one.
/// Returns the text the file held before. `Err` says what went wrong, in the user's words.
pub fn write_block(
    file: &Path,
    title: &str,
    marker: &Marker,
    body: &str,
) -> Result<String, String> {
    let shown = file.display().to_string();
    let current = read_text(file, &shown)?;
    let document = Document::new(&current);
    let edit = match place::replace(&document, &current, title, marker, body) {
        Ok(edit) => edit,
        Err(Gone::Brief | Gone::Block) => {
            return Err(format!("the brief \"{title}\" is no longer in {shown}"))
        }
    };
    let updated = place::apply(&current, &edit);
    fs_safe::replace_atomically(file, updated.as_bytes()).map_err(|error| error.to_string())?;
    Ok(current)
}

/// The text of `file` (`shown` as the user named it), which must be UTF-8.
pub fn read_text(file: &Path, shown: &str) -> Result<String, String> {
    let bytes = fs::read(file).map_err(|error| format!("cannot read {shown}: {error}"))?;
    String::from_utf8(bytes)
        .map_err(|_| format!("{shown} is not valid UTF-8; baton reads UTF-8 only"))
}
