//! `broken-link`: a brief link that points at no brief, here or in the named document, or at
//! a document outside the workspace, which baton never reads or sends (DESIGN §7).

use crate::brief::diagnostic::{Code, Diagnostic, FixHint};
use crate::brief::link::{Link, Target};
use crate::brief::lint::{DocumentInput, LinkedDocument};
use crate::brief::suggest;

pub fn check(context: &DocumentInput<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for link in context.briefs.iter().flat_map(|brief| &brief.links) {
        let Some(file) = link.target.file() else {
            if context.titles.resolve(&link.target).is_none() {
                let message = format!(
                    "no brief titled `{}` in this document; link to an existing brief's title (the quick fix offers the closest)",
                    wanted(&link.target)
                );
                let diagnostic = Diagnostic::new(Code::BrokenLink, link.range.clone(), message);
                diagnostics.push(diagnostic.with_fix(FixHint::ClosestLink));
            }
            continue;
        };
        if let Some(message) = problem_in_other_document(context, link, file) {
            diagnostics.push(Diagnostic::new(
                Code::BrokenLink,
                link.range.clone(),
                message,
            ));
        }
    }
}

fn problem_in_other_document(
    context: &DocumentInput<'_>,
    link: &Link,
    file: &str,
) -> Option<String> {
    let titles = match context.others.find(file) {
        LinkedDocument::Found(titles) => titles,
        LinkedDocument::Missing => {
            return Some(format!(
                "`{file}` is not a document baton can find (paths are relative to this file)"
            ))
        }
        LinkedDocument::Outside { workspace } => {
            return Some(format!(
                "`{file}` is outside this workspace ({workspace}); baton reads and sends only documents inside it"
            ))
        }
    };
    if titles.iter().any(|title| link.target.matches_title(title)) {
        return None;
    }
    let closest = suggest::closest(&wanted(&link.target), titles.iter().map(String::as_str));
    Some(format!(
        "`{file}` has no brief `{}`{}",
        wanted(&link.target),
        suggest::did_you_mean(&closest, "")
    ))
}

/// The brief a link names, as the user wrote it.
pub fn wanted(target: &Target) -> String {
    match target {
        Target::Title { title, .. } => title.clone(),
        Target::Slug { slug, .. } => format!("#{slug}"),
        Target::File { file } => file.clone(),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::brief::rules::fixture::render;

    #[test]
    fn links_must_reach_a_brief() {
        let text = "# Market scan @researcher\nsee [[Market Scan]] and [x](#market-scan)\n# Write up @writer\nUses [[Market scn]], [[other.brief.md#Plan]], [[other.brief.md#Plna]], [[gone.brief.md#X]] and [y](#marketscan).\n# Leak @writer\nUses [[../other/secret.brief.md#Payroll plan]] and [t](/srv/x.brief.md#a).\n";
        expect![[r#"
            4: error[broken-link]: no brief titled `Market scn` in this document; link to an existing brief's title (the quick fix offers the closest)
              | Uses [[Market scn]], [[other.brief.md#Plan]], [[other.brief.md#Plna]], [[gone.brief.md#X]] and [y](#marketscan).
              |      ^^^^^^^^^^^^^^
              fix: {"fix":"closest-link"}
            4: error[broken-link]: `other.brief.md` has no brief `Plna` (did you mean `Plan`?)
              | Uses [[Market scn]], [[other.brief.md#Plan]], [[other.brief.md#Plna]], [[gone.brief.md#X]] and [y](#marketscan).
              |                                               ^^^^^^^^^^^^^^^^^^^^^^^
            4: error[broken-link]: `gone.brief.md` is not a document baton can find (paths are relative to this file)
              | Uses [[Market scn]], [[other.brief.md#Plan]], [[other.brief.md#Plna]], [[gone.brief.md#X]] and [y](#marketscan).
              |                                                                        ^^^^^^^^^^^^^^^^^^^
            4: error[broken-link]: no brief titled `#marketscan` in this document; link to an existing brief's title (the quick fix offers the closest)
              | Uses [[Market scn]], [[other.brief.md#Plan]], [[other.brief.md#Plna]], [[gone.brief.md#X]] and [y](#marketscan).
              |                                                                                                ^^^^^^^^^^^^^^^^
              fix: {"fix":"closest-link"}
            6: error[broken-link]: `../other/secret.brief.md` is outside this workspace (/ws); baton reads and sends only documents inside it
              | Uses [[../other/secret.brief.md#Payroll plan]] and [t](/srv/x.brief.md#a).
              |      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
            6: error[broken-link]: `/srv/x.brief.md` is outside this workspace (/ws); baton reads and sends only documents inside it
              | Uses [[../other/secret.brief.md#Payroll plan]] and [t](/srv/x.brief.md#a).
              |                                                    ^^^^^^^^^^^^^^^^^^^^^^
        "#]]
        .assert_eq(&render(text, "", &["broken-link"]));
    }
}
