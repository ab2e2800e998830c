//! A plan as the user sees it before it is sent: the payload for the journal, and "Preview
//! payload" as Markdown, the earlier turns of the thread labelled as such.

use super::{Plan, Request};

/// The payload exactly as a request carries it, for the journal and "Preview payload": the
/// system prompt and the messages, without headers (so never a key).
pub fn payload_json(request: &Request) -> serde_json::Value {
    serde_json::json!({
        "system": request.system,
        "messages": request.messages.iter().map(|message| serde_json::json!({
            "role": message.role.as_str(),
            "content": message.content,
        })).collect::<Vec<_>>(),
    })
}

/// "Preview payload": what the agent would receive, as Markdown.
pub fn preview(plan: &Plan) -> String {
    let first = &plan.attempts[0];
    let model = if first.request.model.is_empty() {
        "a program"
    } else {
        &first.request.model
    };
    let to = match first.spec.shown_host() {
        Some(host) => format!(" to {host}"),
        None => String::new(),
    };
    let mut out = format!(
        "<!-- baton: the payload for @{} ({model}), exactly as it would be sent{to}. Nothing was sent. -->\n\n",
        first.agent,
    );
    let messages = &first.request.messages;
    let earlier = messages.len().saturating_sub(1);
    if earlier > 0 {
        out.push_str(&format!(
            "<!-- baton: the first {earlier} messages are the earlier turns of this agent's thread; the last one is this brief. -->\n\n"
        ));
    }
    if let Some(system) = &first.request.system {
        out.push_str("## System\n\n");
        out.push_str(system.trim_end());
        out.push_str("\n\n");
    }
    for (index, message) in messages.iter().enumerate() {
        let role = message.role.as_str();
        if index < earlier {
            out.push_str(&format!("## Earlier in the thread ({role})\n\n"));
        } else {
            out.push_str(&format!("## Message ({role})\n\n"));
        }
        out.push_str(message.content.trim_end());
        out.push('\n');
    }
    if first.request.messages.is_empty() {
        out.push('\n');
    }
    out
}
