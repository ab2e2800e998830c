//! Recorded streams in each provider's documented wire format, as the loopback server plays
//! them: OpenAI chat completion chunks, Anthropic Messages events, Ollama NDJSON lines.

use serde_json::json;

use super::server::{stream, Step};

pub const SSE: &str = "text/event-stream";
pub const NDJSON: &str = "application/x-ndjson";

pub fn data(json: serde_json::Value) -> String {
    format!("data: {json}\n\n")
}

pub fn openai_delta(text: &str) -> String {
    data(
        json!({"id": "c1", "object": "chat.completion.chunk", "model": "test-model",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}], "usage": null}),
    )
}

/// The end of an OpenAI stream: the finish reason, the usage, `[DONE]`.
pub fn openai_end() -> Vec<String> {
    vec![
        data(json!({"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})),
        data(json!({"id": "c1", "choices": [],
            "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}})),
        "data: [DONE]\n\n".into(),
    ]
}

/// An OpenAI stream of `pieces`, each after `pause`; `end`: whether it ends (else the agent
/// falls silent, keeping the connection open). For the run tests; tests/agents.rs needs none.
#[allow(dead_code)]
pub fn openai_paced<P: AsRef<str>>(
    pieces: &[P],
    pause: std::time::Duration,
    end: bool,
) -> Vec<Step> {
    let mut steps = vec![Step::Stream(SSE)];
    for piece in pieces {
        steps.push(Step::Pause(pause));
        steps.push(Step::Chunk(openai_delta(piece.as_ref()).into_bytes()));
    }
    if end {
        steps.extend(
            openai_end()
                .into_iter()
                .map(|e| Step::Chunk(e.into_bytes())),
        );
        steps.push(Step::End);
    } else {
        steps.push(Step::Silence);
    }
    steps
}

pub fn openai_ok(pieces: &[&str]) -> Vec<Step> {
    let mut events: Vec<String> = pieces.iter().map(|piece| openai_delta(piece)).collect();
    events.extend(openai_end());
    stream(SSE, &events)
}

pub fn anthropic_event(json: serde_json::Value) -> String {
    let name = json["type"].as_str().unwrap().to_owned();
    format!("event: {name}\n{}", data(json))
}

pub fn anthropic_delta(text: &str) -> String {
    anthropic_event(json!({"type": "content_block_delta", "index": 0,
        "delta": {"type": "text_delta", "text": text}}))
}

pub fn anthropic_start() -> Vec<String> {
    vec![
        anthropic_event(json!({"type": "message_start", "message": {"id": "msg_1",
            "type": "message", "role": "assistant", "content": [], "model": "test-model",
            "stop_reason": null, "usage": {"input_tokens": 25, "output_tokens": 1}}})),
        anthropic_event(json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}})),
        anthropic_event(json!({"type": "ping"})),
    ]
}

pub fn anthropic_end() -> Vec<String> {
    vec![
        anthropic_event(json!({"type": "content_block_stop", "index": 0})),
        anthropic_event(json!({"type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": {"output_tokens": 15}})),
        anthropic_event(json!({"type": "message_stop"})),
    ]
}

pub fn ollama_line(text: &str) -> String {
    format!(
        "{}\n",
        json!({"model": "test-model", "created_at": "2024-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": text}, "done": false})
    )
}

pub fn ollama_done() -> String {
    format!(
        "{}\n",
        json!({"model": "test-model", "message": {"role": "assistant", "content": ""},
            "done": true, "done_reason": "stop", "prompt_eval_count": 26, "eval_count": 3})
    )
}
