//! `baton init`: start a workspace with a commented `baton.toml`, an example brief and
//! handoff, and `.baton/.gitignore` so run journals stay out of version control.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

/// The files `init` writes, relative to the folder, with their contents. The templates live
/// beside this file so they can be read, and checked, as the files they become.
const FILES: [(&str, &str); 4] = [
    ("baton.toml", include_str!("templates/baton.toml")),
    (
        "welcome.brief.md",
        include_str!("templates/welcome.brief.md"),
    ),
    (
        "handover.handoff.md",
        include_str!("templates/handover.handoff.md"),
    ),
    (".baton/.gitignore", include_str!("templates/gitignore")),
];

pub fn run(dir: &Path) -> ExitCode {
    let existing: Vec<_> = FILES
        .iter()
        .map(|(name, _)| dir.join(name))
        .filter(|path| fs::symlink_metadata(path).is_ok())
        .collect();
    if !existing.is_empty() {
        for path in &existing {
            eprintln!("baton init: {} already exists", path.display());
        }
        eprintln!("baton init: nothing written; move those files away or pick another folder");
        return ExitCode::FAILURE;
    }
    for (name, contents) in FILES {
        let path = dir.join(name);
        if let Err(error) = write_new(&path, contents) {
            eprintln!("baton init: cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    println!(
        "next: `baton check {}`, then open welcome.brief.md in your editor",
        dir.display()
    );
    ExitCode::SUCCESS
}

/// Writes a file that must not exist yet, creating its folder: a file that appeared since the
/// check above is still not overwritten.
fn write_new(path: &Path, contents: &str) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(contents.as_bytes())
}
