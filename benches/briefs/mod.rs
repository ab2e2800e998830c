//! The document the budget benches count: 1 MiB, 200 briefs for one OpenAI agent.

/// The agent every brief is for, on `url` (never reached: nothing is sent).
pub fn agents(url: &str) -> String {
    format!(
        "[agents.researcher]\nprovider = \"openai\"\nmodel = \"gpt-4o\"\nbase_url = \"{url}/v1\"\n\
         role = \"You research competitors and cite sources.\"\n"
    )
}

/// 200 briefs of about 5 KiB each: prose with emoji, CJK and links, each brief linking the
/// one before it (a pipeline of 200).
pub fn document() -> String {
    let mut text = String::from("---\nkind: brief\n---\n\n");
    for n in 1..=200 {
        text.push_str(&format!(
            "# Study the roadmap {n} @researcher\n\n## Objective\n\n"
        ));
        let earlier = match n {
            1 => "the notes".to_owned(),
            _ => format!("[[Study the roadmap {}]]", n - 1),
        };
        while text.len() < n * 5 * 1024 {
            text.push_str(&format!(
                "Find out what the 顧客 of segment {n} want and why 🎉, with sources for every \
                 claim; compare with {earlier} and the café dashboard feedback.\n"
            ));
        }
        text.push_str("\n## Context\n\nc\n\n## Constraints\n\nd\n\n## Expected Output\n\ne\n\n");
    }
    text
}
