//! `cycle`: brief links that loop back, so no brief in the loop could ever run first.

use crate::brief::diagnostic::{Code, Diagnostic};
use crate::brief::graph;
use crate::brief::lint::DocumentInput;

pub fn check(context: &DocumentInput<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let briefs = context.briefs;
    let edges = graph::local_edges(briefs.iter().map(|brief| &brief.links[..]), &context.titles);
    if edges.is_empty() {
        return;
    }
    let component = graph::components(briefs.len(), &edges);
    for &(from, link, to) in &edges {
        if component[from] != component[to] {
            continue;
        }
        let members: Vec<&str> = (0..briefs.len())
            .filter(|&brief| component[brief] == component[from])
            .map(|brief| briefs[brief].title.as_str())
            .collect();
        let message = message(&briefs[from].title, from == to, &members);
        diagnostics.push(Diagnostic::new(
            Code::Cycle,
            briefs[from].links[link].range.clone(),
            message,
        ));
    }
}

/// The `cycle` message for a link from `from` that closes a loop through `members` (the
/// briefs of the loop, `from` among them), or links `from` to itself (`to_itself`). Also what
/// a pipeline that meets the loop is refused with.
pub(crate) fn message(from: &str, to_itself: bool, members: &[&str]) -> String {
    if to_itself {
        format!("`{from}` links to itself, so it would need its own output before it runs")
    } else {
        format!(
            "this link closes a cycle between {}; a pipeline cannot run briefs that wait on each other",
            members.iter().map(|title| format!("`{title}`")).collect::<Vec<_>>().join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::brief::rules::fixture::render;

    #[test]
    fn every_link_in_a_loop_is_marked() {
        let text = "# A @writer\nUses [[B]].\n# B @writer\nUses [[A]].\n# C @writer\nUses [[A]] and [[C]].\n";
        expect![[r#"
            2: error[cycle]: this link closes a cycle between `A`, `B`; a pipeline cannot run briefs that wait on each other
              | Uses [[B]].
              |      ^^^^^
            4: error[cycle]: this link closes a cycle between `A`, `B`; a pipeline cannot run briefs that wait on each other
              | Uses [[A]].
              |      ^^^^^
            6: error[cycle]: `C` links to itself, so it would need its own output before it runs
              | Uses [[A]] and [[C]].
              |                ^^^^^
        "#]]
        .assert_eq(&render(text, "", &["cycle"]));
    }
}
