use super::*;

fn turn(run: &str, user: &str, answer: &str) -> Turn {
    Turn {
        run: Some(run.to_owned()),
        user: user.to_owned(),
        assistant: Some(answer.to_owned()),
    }
}

#[test]
fn a_documents_own_thread_a_named_one_and_none() {
    let root = Path::new("/work/space");
    let doc = root.join("notes/a.brief.md");
    let own = ThreadKey::of(&doc, root, Choice::of(None), "researcher").unwrap();
    assert!(own.file_name().starts_with("doc-notes_a_brief_md-"));
    assert!(own.file_name().ends_with(".researcher.jsonl"));
    // Another agent, another thread; another document, another thread.
    assert_ne!(
        Some(own.clone()),
        ThreadKey::of(&doc, root, Choice::Own, "writer")
    );
    let other = root.join("notes/b.brief.md");
    assert_ne!(
        Some(own),
        ThreadKey::of(&other, root, Choice::Own, "researcher")
    );
    // A named thread is the same from every document.
    let named = Choice::of(Some("launch"));
    assert_eq!(named, Choice::Named("launch"));
    assert_eq!(
        ThreadKey::of(&doc, root, named, "researcher"),
        ThreadKey::of(&other, root, named, "researcher")
    );
    assert_eq!(
        ThreadKey::of(&doc, root, named, "researcher")
            .unwrap()
            .file_name(),
        "thread-launch.researcher.jsonl"
    );
    assert_eq!(
        ThreadKey::of(&doc, root, Choice::of(Some("None")), "r"),
        None
    );
}

#[test]
fn names_that_differ_only_in_unsafe_characters_stay_apart() {
    let root = Path::new("/w");
    let key = |name: &str| ThreadKey::of(root, root, Choice::Named(name), "a").unwrap();
    assert_ne!(key("a/b"), key("a:b"));
    assert!(!key("../../etc").file_name().contains('/'));
}

#[test]
fn turns_since_the_last_new_start_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let threads = Threads::new(dir.path());
    let key = ThreadKey::of(&dir.path().join("a.brief.md"), dir.path(), Choice::Own, "r").unwrap();
    assert_eq!(threads.turns(&key), []);
    assert!(!threads.has_turns(&key));
    threads.append(&key, turn("01A", "first?", "one")).unwrap();
    assert!(threads.has_turns(&key));
    threads.append(&key, turn("01B", "second?", "two")).unwrap();
    assert_eq!(
        threads.turns(&key),
        [turn("01A", "first?", "one"), turn("01B", "second?", "two")]
    );
    let seed = Turn {
        run: None,
        user: "# Handoff\n\n## Current State\n\nDone.".to_owned(),
        assistant: None,
    };
    threads.start_new(&key, Some(seed.clone())).unwrap();
    threads
        .append(&key, turn("01C", "third?", "three"))
        .unwrap();
    assert_eq!(
        threads.turns(&key),
        [seed.clone(), turn("01C", "third?", "three")]
    );
    let messages: Vec<_> = threads
        .turns(&key)
        .iter()
        .flat_map(Turn::messages)
        .collect();
    assert_eq!(
        messages.len(),
        3,
        "a seeded turn has no answer: {messages:?}"
    );
    // A torn last line (a crash mid-write) is skipped.
    let file = threads.file(&key);
    let mut text = fs::read_to_string(&file).unwrap();
    text.push_str("{\"type\":\"turn\",\"user\":\"to");
    fs::write(&file, text).unwrap();
    assert_eq!(threads.turns(&key).len(), 2);
    assert!(
        threads.has_turns(&key),
        "the torn line is not the last that parses"
    );
    threads.start_new(&key, None).unwrap();
    assert_eq!(threads.turns(&key), []);
    assert!(!threads.has_turns(&key));
}

#[cfg(unix)]
#[test]
fn a_planted_link_at_the_thread_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let threads = Threads::new(dir.path());
    let key = ThreadKey::of(dir.path(), dir.path(), Choice::Named("x"), "r").unwrap();
    let victim = dir.path().join("victim.txt");
    fs::create_dir_all(dir.path().join(".baton/threads")).unwrap();
    std::os::unix::fs::symlink(&victim, threads.file(&key)).unwrap();
    assert!(threads.append(&key, turn("01A", "u", "a")).is_err());
    assert!(!victim.exists());
}
