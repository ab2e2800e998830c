use super::*;

/// What a document means: its outline and the extent of its parts.
fn meaning(document: &Document) -> (Outline, Vec<Range<usize>>) {
    let parts = document.parts().map(|(range, _)| range).collect();
    (document.outline().clone(), parts)
}

const TEXT: &str = "---\nkind: brief\n---\n# One\n## Goal\nText.\n\n# Two\n```\n# not\n```\n";

#[test]
fn an_unparsed_document_holds_only_its_text_until_parsed() {
    let unparsed = Document::unparsed(TEXT);
    assert!(!unparsed.is_parsed());
    assert_eq!(unparsed.text(), TEXT);
    assert_eq!(unparsed.parts().count(), 0);
    assert!(unparsed.outline().headings.is_empty());
    assert_eq!(unparsed.outline().len, TEXT.len());

    let parsed = unparsed.parsed();
    assert!(parsed.is_parsed());
    assert_eq!(meaning(&parsed), meaning(&Document::new(TEXT)));
    assert!(
        !unparsed.is_parsed(),
        "`parsed` leaves the original as it was"
    );
}

proptest::proptest! {
    #[test]
    fn a_slice_is_the_text_between_the_character_starts_at_or_before_its_ends(
        start in 0..6000usize,
        len in 0..3000usize,
    ) {
        // Several chunks of text, with characters of every width.
        let text = "a é 中 🎉\n".repeat(400);
        let document = Document::new(&text);
        let floor = |mut at: usize| {
            at = at.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            at
        };
        let end = floor(start + len);
        let expected = &text[floor(start).min(end)..end];
        proptest::prop_assert_eq!(document.slice(start..start + len), expected);
    }
}

#[test]
fn an_empty_document_parses_to_one_part() {
    assert!(Document::new("").is_parsed());
    assert!(!Document::unparsed("").is_parsed());
    assert!(Document::unparsed("").parsed().is_parsed());
}

#[test]
fn an_edit_before_the_parse_gives_the_parse_of_the_final_text() {
    let edits: [(&str, &str); 4] = [
        ("# Two", "# Two\n## Context\nMore."),
        ("Text.\n\n", "Text.\n\n# Between\n"),
        ("```\n# not\n```\n", ""),
        ("---\nkind: brief\n---\n", ""),
    ];
    for (find, with) in edits {
        let start = TEXT.find(find).unwrap();
        let range = start..start + find.len();
        let mut expected = TEXT.to_owned();
        expected.replace_range(range.clone(), with);

        let mut document = Document::unparsed(TEXT);
        document.replace(range.clone(), with);
        assert!(document.is_parsed());
        assert_eq!(document.text(), expected);
        assert_eq!(meaning(&document), meaning(&Document::new(&expected)));

        let mut document = Document::unparsed(TEXT);
        let change = Change {
            range: Some((
                document.position_of(range.start, Encoding::Utf16),
                document.position_of(range.end, Encoding::Utf16),
            )),
            text: with,
        };
        document.apply_changes(&[change], Encoding::Utf16);
        assert_eq!(meaning(&document), meaning(&Document::new(&expected)));
    }
}

#[test]
fn prose_typed_before_the_parse_gives_the_parse_of_the_final_text() {
    let at = TEXT.find("Text").unwrap() + 4;
    let mut expected = TEXT.to_owned();
    expected.insert_str(at, " more words");
    let mut document = Document::unparsed(TEXT);
    document.replace(at..at, " more words");
    assert_eq!(meaning(&document), meaning(&Document::new(&expected)));
}

#[test]
fn a_whole_text_change_before_the_parse_parses_the_new_text() {
    let mut document = Document::unparsed("# Old\n");
    let change = Change {
        range: None,
        text: TEXT,
    };
    document.apply_changes(&[change], Encoding::Utf8);
    assert_eq!(meaning(&document), meaning(&Document::new(TEXT)));
}

#[test]
fn a_document_too_large_to_lint_is_never_parsed() {
    let text = format!("# Big\n{}", "x".repeat(MAX_LINTED_BYTES));
    let mut document = Document::unparsed(&text);
    assert!(document.is_too_large());
    assert!(document.is_parsed(), "nothing to parse");
    assert_eq!(document.parsed().parts().count(), 0);
    document.replace(0..1, "#");
    assert_eq!(document.parts().count(), 0);
    assert!(document.outline().headings.is_empty());
    // Cut below the bound, it is parsed in full.
    document.replace(6..text.len(), "");
    assert!(document.is_parsed());
    assert_eq!(meaning(&document), meaning(&Document::new("# Big\n")));
}
