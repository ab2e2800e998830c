//! The document the budget benches count: 1 MiB, 200 briefs for one OpenAI agent.

/// The agent every brief is for, on `url` (never reached: nothing is sent).
pub fn agents(url: &str) -> String {
    format!(
        "[agents.researcher]\nprovider = \"openai\"\nmodel = \"gpt-4o\"\nbase_url = \"{url}/v1\"\n\
         role = \"You research competitors and cite sources.\"\n"
    )
}

/// 200 briefs of about 5 KiB each: prose with emoji, CJK and links.
pub fn document() -> String {
    let mut text = String::from("---\nkind: brief\n---\n\n");
    for n in 1..=200 {
        text.push_str(&format!(
            "# Study the roadmap {n} @researcher\n\n## Objective\n\n"
        ));
        while text.len() < n * 5 * 1024 {
            text.push_str(&format!(
                "Find out what the 顧客 of segment {n} want and why 🎉, with sources for every \
                 claim; compare with [[Study the roadmap {}]] and the café dashboard feedback.\n",
                n.max(2) - 1
            ));
        }
        text.push_str("\n## Context\n\nc\n\n## Constraints\n\nd\n\n## Expected Output\n\ne\n\n");
    }
    text
}
