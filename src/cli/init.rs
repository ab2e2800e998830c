//! `baton init`: start a workspace with a commented `baton.toml`, an example brief and
//! handoff, and `.baton/.gitignore` so run journals stay out of version control. Every file is
//! created new, through `fs_safe`: nothing is overwritten, and no link is written through.

use std::path::Path;
use std::process::ExitCode;

use crate::fs_safe::{self, SafeDir, WriteError};

/// The files `init` writes in the folder, with their contents. The templates live beside this
/// file so they can be read, and checked, as the files they become.
const FILES: [(&str, &str); 3] = [
    ("baton.toml", include_str!("templates/baton.toml")),
    (
        "welcome.brief.md",
        include_str!("templates/welcome.brief.md"),
    ),
    (
        "handover.handoff.md",
        include_str!("templates/handover.handoff.md"),
    ),
];

/// The `.gitignore` of `.baton`, written by `fs_safe::baton_dir` from `templates/gitignore`.
const GITIGNORE: &str = ".baton/.gitignore";

pub fn run(dir: &Path) -> ExitCode {
    let existing: Vec<_> = FILES
        .iter()
        .map(|(name, _)| *name)
        .chain([GITIGNORE])
        .map(|name| dir.join(name))
        .filter(|path| std::fs::symlink_metadata(path).is_ok())
        .collect();
    if !existing.is_empty() {
        for path in &existing {
            eprintln!("baton init: {} already exists", path.display());
        }
        eprintln!("baton init: nothing written; move those files away or pick another folder");
        return ExitCode::FAILURE;
    }
    let written = write_all(dir);
    for name in &written.names {
        println!("wrote {}", dir.join(name).display());
    }
    if let Some(error) = written.error {
        eprintln!("baton init: {error}");
        return ExitCode::FAILURE;
    }
    println!(
        "next: `baton check {}`, then open welcome.brief.md in your editor",
        dir.display()
    );
    ExitCode::SUCCESS
}

/// What `write_all` wrote, and what stopped it.
struct Written {
    /// The files written, `.baton/.gitignore` listed last.
    names: Vec<&'static str>,
    error: Option<WriteError>,
}

/// Writes the files, `.baton` first: a `.baton` planted as a link, or not the user's, stops
/// `init` before anything else is written.
fn write_all(dir: &Path) -> Written {
    let mut names = Vec::new();
    let mut baton_written = false;
    let result = (|| {
        let folder = SafeDir::chosen(dir)?;
        fs_safe::baton_dir(dir)?;
        baton_written = true;
        for (name, contents) in FILES {
            folder.write_new(name, contents.as_bytes())?;
            names.push(name);
        }
        Ok(())
    })();
    if baton_written {
        names.push(GITIGNORE);
    }
    Written {
        names,
        error: result.err(),
    }
}
