//! The agent clients against loopback servers that speak each provider's documented wire
//! format, faults included (DESIGN §4 "Faults"). No test leaves 127.0.0.1 or needs a real key:
//! a test that sends a key makes up its own, in an environment variable of its own, and every
//! error and retry message a test sees is checked not to contain it.

#[path = "agents/server.rs"]
mod server;
#[path = "agents/streams.rs"]
mod streams;

use std::time::{Duration, Instant};

use baton::agent::{
    send_with, AgentError, Event, Finish, Message, Request, RetryPolicy, SendOptions,
    DEFAULT_MAX_OUTPUT_BYTES,
};
use baton::config::{AgentSpec, Provider};
use serde_json::json;
use server::{reply, stream, Server, Step};
use streams::{
    anthropic_delta, anthropic_end, anthropic_event, anthropic_start, data, ollama_done,
    ollama_line, openai_delta, openai_end, openai_ok, NDJSON, SSE,
};
use tokio_util::sync::CancellationToken;

/// What a call delivered and how it ended.
struct Outcome {
    text: String,
    retries: Vec<String>,
    result: Result<Finish, AgentError>,
    elapsed: Duration,
}

impl Outcome {
    fn error(&self) -> &AgentError {
        self.result.as_ref().expect_err("the call should fail")
    }
}

/// Options for fast tests: short backoff and idle timeout, the standard size bound.
fn options(retries: u32) -> SendOptions {
    SendOptions {
        retry: RetryPolicy {
            retries,
            base: Duration::from_millis(10),
            cap: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(5),
        },
        idle_timeout: Duration::from_secs(2),
        max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
    }
}

/// An agent of `provider` at `server`, with a made-up key in a variable named after `test`.
fn agent(provider: Provider, server: &Server, test: Option<&str>) -> (AgentSpec, Option<String>) {
    let mut spec = AgentSpec::new(provider);
    spec.model = Some("test-model".into());
    spec.base_url = Some(server.url.clone());
    let key = test.map(|test| {
        let env = format!("BATON_TEST_KEY_{}", test.to_uppercase());
        let key = format!("sk-test-{test}-{}-secret", std::process::id());
        std::env::set_var(&env, &key);
        spec.api_key_env = Some(env);
        key
    });
    (spec, key)
}

fn request() -> Request {
    Request {
        model: "test-model".into(),
        system: Some("You are terse.".into()),
        messages: vec![Message::user("Say hello.")],
    }
}

/// Sends the standard request, collecting text and retry messages; checks that no error or
/// retry message shows `key`.
async fn run(options: &SendOptions, spec: &AgentSpec, key: Option<&str>) -> Outcome {
    run_until(options, spec, key, &CancellationToken::new()).await
}

async fn run_until(
    options: &SendOptions,
    spec: &AgentSpec,
    key: Option<&str>,
    cancel: &CancellationToken,
) -> Outcome {
    let mut text = String::new();
    let mut retries = Vec::new();
    let mut on_event = |event: Event<'_>| match event {
        Event::Text(piece) => text.push_str(piece),
        Event::Retrying(retry) => retries.push(retry.to_string()),
    };
    let started = Instant::now();
    let result = send_with(
        options,
        "researcher",
        spec,
        &request(),
        &mut on_event,
        cancel,
    )
    .await;
    let elapsed = started.elapsed();
    if let (Some(key), Err(error)) = (key, &result) {
        let shown = format!("{error} {error:?} {}", retries.join(" "));
        assert!(!shown.contains(key), "the key leaked: {shown}");
    }
    Outcome {
        text,
        retries,
        result,
        elapsed,
    }
}

// OpenAI

#[tokio::test]
async fn openai_streams_the_answer_with_a_bearer_key() {
    // Events split across chunks anywhere, a multibyte character included.
    let events =
        [openai_delta("Hel"), openai_delta("lo, wörld 🌍")].concat() + &openai_end().concat();
    let bytes = events.as_bytes();
    let cuts = [0, 7, 60, bytes.len() - 20, bytes.len()];
    let emoji = events.find('🌍').unwrap() + 2;
    let mut steps = vec![Step::Stream(SSE)];
    let mut edges = cuts.to_vec();
    edges.push(emoji);
    edges.sort();
    for pair in edges.windows(2) {
        steps.push(Step::Chunk(bytes[pair[0]..pair[1]].to_vec()));
    }
    steps.push(Step::End);
    let server = Server::start(vec![steps]).await;
    let (mut spec, key) = agent(Provider::Openai, &server, Some("openai_stream"));
    spec.base_url = Some(format!("{}/v1/", server.url));

    let outcome = run(&options(0), &spec, key.as_deref()).await;

    assert_eq!(outcome.text, "Hello, wörld 🌍");
    let finish = outcome.result.unwrap();
    assert_eq!(
        finish,
        Finish {
            stop_reason: Some("stop".into()),
            input_tokens: Some(9),
            output_tokens: Some(2),
        }
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {}", key.unwrap()).as_str())
    );
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(
        sent.json(),
        json!({"model": "test-model", "stream": true, "stream_options": {"include_usage": true},
            "messages": [{"role": "system", "content": "You are terse."},
                         {"role": "user", "content": "Say hello."}]})
    );
}

#[tokio::test]
async fn openai_429_waits_as_retry_after_says_then_succeeds() {
    let limited = reply(
        429,
        &[("Retry-After", "1"), ("Content-Type", "application/json")],
        r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#,
    );
    let server = Server::start(vec![limited, openai_ok(&["ok"])]).await;
    let (spec, key) = agent(Provider::Openai, &server, Some("openai_429"));

    let outcome = run(&options(2), &spec, key.as_deref()).await;

    assert_eq!(outcome.text, "ok");
    assert!(outcome.result.is_ok());
    assert_eq!(outcome.retries, ["retrying in 1 s (429), attempt 1 of 2"]);
    assert!(
        outcome.elapsed >= Duration::from_secs(1),
        "{:?}",
        outcome.elapsed
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn openai_500_is_retried_with_backoff_then_succeeds() {
    let failing = reply(
        500,
        &[],
        r#"{"error":{"message":"The server had an error"}}"#,
    );
    let server = Server::start(vec![failing.clone(), failing, openai_ok(&["fine"])]).await;
    let (spec, _) = agent(Provider::Openai, &server, None);

    let outcome = run(&options(3), &spec, None).await;

    assert_eq!(outcome.text, "fine");
    assert!(outcome.result.is_ok());
    assert_eq!(outcome.retries.len(), 2);
    assert!(
        outcome.retries[1].ends_with("(500), attempt 2 of 3"),
        "{:?}",
        outcome.retries
    );
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn openai_401_names_the_key_variable_and_is_not_retried() {
    let echo = "Incorrect API key provided: sk-test-openai_401";
    let body = format!(
        r#"{{"error":{{"message":"{echo}-{}-secret","type":"invalid_request_error"}}}}"#,
        std::process::id()
    );
    let server = Server::start(vec![reply(401, &[], &body)]).await;
    let (spec, key) = agent(Provider::Openai, &server, Some("openai_401"));

    let outcome = run(&options(3), &spec, key.as_deref()).await;

    let error = outcome.error();
    assert!(matches!(
        error,
        AgentError::Unauthorized { status: 401, .. }
    ));
    assert_eq!(
        error.to_string(),
        "401 Unauthorized from researcher: check BATON_TEST_KEY_OPENAI_401 \
         (Incorrect API key provided: [REDACTED])"
    );
    assert!(outcome.retries.is_empty());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn openai_missing_key_fails_before_anything_is_sent() {
    let server = Server::start(vec![openai_ok(&["never"])]).await;
    let (mut spec, _) = agent(Provider::Openai, &server, None);
    spec.api_key_env = Some("BATON_TEST_KEY_THAT_IS_NEVER_SET".into());

    let outcome = run(&options(3), &spec, None).await;

    assert_eq!(
        outcome.error().to_string(),
        "researcher needs an API key: set the environment variable BATON_TEST_KEY_THAT_IS_NEVER_SET"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn openai_broken_stream_keeps_the_partial_answer_and_is_not_retried() {
    let broken = vec![
        Step::Stream(SSE),
        Step::Chunk(openai_delta("partial ").into_bytes()),
        Step::Chunk(openai_delta("answer").into_bytes()),
        Step::Pause(Duration::from_millis(50)),
        // No `End`: the socket is dropped mid-stream.
    ];
    let server = Server::start(vec![broken, openai_ok(&["again"])]).await;
    let (spec, key) = agent(Provider::Openai, &server, Some("openai_broken"));

    let outcome = run(&options(3), &spec, key.as_deref()).await;

    assert_eq!(
        outcome.text, "partial answer",
        "delivered once, not retried"
    );
    assert!(
        matches!(outcome.error(), AgentError::BrokenStream { .. }),
        "{}",
        outcome.error()
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn openai_stream_closed_without_done_is_broken() {
    let events = [openai_delta("cut"), "data: {\"choices\":[]}\n\n".into()];
    let server = Server::start(vec![stream(SSE, &events)]).await;
    let (spec, _) = agent(Provider::Openai, &server, None);

    let outcome = run(&options(0), &spec, None).await;

    assert_eq!(outcome.text, "cut");
    assert_eq!(
        outcome.error().to_string(),
        "the answer broke off: the stream ended before [DONE]"
    );
}

#[tokio::test]
async fn openai_malformed_chunk_is_reported_with_an_excerpt() {
    let events = [openai_delta("a"), "data: {\"choices\": [oops\n\n".into()];
    let server = Server::start(vec![stream(SSE, &events)]).await;
    let (spec, _) = agent(Provider::Openai, &server, None);

    let outcome = run(&options(0), &spec, None).await;

    assert_eq!(outcome.text, "a");
    let error = outcome.error();
    assert!(matches!(error, AgentError::Malformed { .. }));
    assert!(
        error.to_string().contains("`{\"choices\": [oops`"),
        "{error}"
    );
}

#[tokio::test]
async fn openai_error_object_mid_stream_is_a_provider_error() {
    let error =
        data(json!({"error": {"message": "The model is overloaded", "type": "server_error"}}));
    let server = Server::start(vec![stream(SSE, &[openai_delta("x"), error])]).await;
    let (spec, _) = agent(Provider::Openai, &server, None);

    let outcome = run(&options(2), &spec, None).await;

    assert_eq!(
        outcome.error().to_string(),
        "the provider reported server_error: The model is overloaded"
    );
    assert_eq!(
        server.requests().len(),
        1,
        "text was delivered, so no retry"
    );
}

#[tokio::test]
async fn openai_slow_trickle_outlives_the_idle_timeout() {
    let mut steps = vec![Step::Stream(SSE)];
    for n in 0..8 {
        steps.push(Step::Pause(Duration::from_millis(100)));
        steps.push(Step::Chunk(openai_delta(&n.to_string()).into_bytes()));
    }
    steps.extend(
        openai_end()
            .into_iter()
            .map(|event| Step::Chunk(event.into_bytes())),
    );
    steps.push(Step::End);
    let server = Server::start(vec![steps]).await;
    let (spec, _) = agent(Provider::Openai, &server, None);
    let mut options = options(0);
    options.idle_timeout = Duration::from_millis(300);

    let outcome = run(&options, &spec, None).await;

    assert_eq!(outcome.text, "01234567");
    assert!(outcome.result.is_ok(), "{:?}", outcome.result);
    assert!(outcome.elapsed > options.idle_timeout * 2);
    assert_eq!(
        server.requests()[0].header("authorization"),
        None,
        "no key configured, none sent"
    );
}

#[tokio::test]
async fn openai_silent_server_times_out() {
    let server = Server::start(vec![vec![Step::Silence]]).await;
    let (spec, _) = agent(Provider::Openai, &server, None);
    let mut options = options(2);
    options.idle_timeout = Duration::from_millis(200);

    let outcome = run(&options, &spec, None).await;

    assert!(matches!(outcome.error(), AgentError::Timeout { .. }));
    assert_eq!(
        outcome.error().to_string(),
        "no answer for 200 ms: the agent timed out"
    );
    assert!(
        outcome.elapsed < Duration::from_millis(600),
        "{:?}",
        outcome.elapsed
    );
    assert_eq!(server.requests().len(), 1, "a timeout is not retried");
}

#[tokio::test]
async fn openai_huge_answer_is_cut_at_the_bound() {
    let piece = "x".repeat(1000);
    let events: Vec<String> = (0..100).map(|_| openai_delta(&piece)).collect();
    let server = Server::start(vec![stream(SSE, &events)]).await;
    let (spec, _) = agent(Provider::Openai, &server, None);
    let mut options = options(2);
    options.max_output_bytes = 10_500;

    let outcome = run(&options, &spec, None).await;

    assert_eq!(outcome.text.len(), 10_500);
    assert!(matches!(
        outcome.error(),
        AgentError::TooLarge { limit: 10_500 }
    ));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn cancelling_ends_the_call_at_once() {
    let mut steps = vec![
        Step::Stream(SSE),
        Step::Chunk(openai_delta("before").into_bytes()),
    ];
    steps.push(Step::Silence);
    let server = Server::start(vec![steps]).await;
    let (spec, _) = agent(Provider::Openai, &server, None);
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        trigger.cancel();
    });

    let outcome = run_until(&options(3), &spec, None, &cancel).await;

    assert_eq!(outcome.text, "before");
    assert!(matches!(outcome.error(), AgentError::Cancelled));
    assert!(
        outcome.elapsed < Duration::from_millis(500),
        "{:?}",
        outcome.elapsed
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut spec = AgentSpec::new(Provider::Openai);
    spec.base_url = Some(url.clone());

    let outcome = run(&options(1), &spec, None).await;

    assert!(
        matches!(outcome.error(), AgentError::Connect { .. }),
        "{}",
        outcome.error()
    );
    assert!(outcome
        .error()
        .to_string()
        .starts_with(&format!("could not reach {url}/chat/completions: ")));
    assert_eq!(outcome.retries.len(), 1);
    assert!(outcome.retries[0].contains("(connection failed)"));
}

#[tokio::test]
async fn the_agents_proxy_carries_the_request() {
    let server = Server::start(vec![openai_ok(&["via proxy"])]).await;
    let mut spec = AgentSpec::new(Provider::Openai);
    spec.base_url = Some("http://api.example.invalid/v1".into());
    spec.proxy = Some(server.url.clone());

    let outcome = run(&options(0), &spec, None).await;

    assert_eq!(outcome.text, "via proxy");
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "http://api.example.invalid/v1/chat/completions");
    assert_eq!(sent.header("host"), Some("api.example.invalid"));
}

// Anthropic

#[tokio::test]
async fn anthropic_streams_the_answer_with_its_headers() {
    let mut events = anthropic_start();
    events.extend([anthropic_delta("Hello"), anthropic_delta(" there")]);
    events.extend(anthropic_end());
    let server = Server::start(vec![stream(SSE, &events)]).await;
    let (spec, key) = agent(Provider::Anthropic, &server, Some("anthropic_stream"));

    let outcome = run(&options(0), &spec, key.as_deref()).await;

    assert_eq!(outcome.text, "Hello there");
    assert_eq!(
        outcome.result.unwrap(),
        Finish {
            stop_reason: Some("end_turn".into()),
            input_tokens: Some(25),
            output_tokens: Some(15),
        }
    );
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), key.as_deref());
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(
        sent.json(),
        json!({"model": "test-model", "max_tokens": 4096, "system": "You are terse.",
            "messages": [{"role": "user", "content": "Say hello."}], "stream": true})
    );
}

#[tokio::test]
async fn anthropic_error_event_is_reported_and_keeps_the_text() {
    let mut events = anthropic_start();
    events.push(anthropic_delta("Half"));
    events.push(anthropic_event(json!({"type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"}})));
    let server = Server::start(vec![stream(SSE, &events)]).await;
    let (spec, key) = agent(Provider::Anthropic, &server, Some("anthropic_error"));

    let outcome = run(&options(2), &spec, key.as_deref()).await;

    assert_eq!(outcome.text, "Half");
    let error = outcome.error();
    assert_eq!(
        error.to_string(),
        "the provider reported overloaded_error: Overloaded"
    );
    assert!(
        error.is_retryable(),
        "overloaded is worth retrying in itself"
    );
    assert_eq!(
        server.requests().len(),
        1,
        "but not after text was delivered"
    );
}

#[tokio::test]
async fn anthropic_overloaded_529_is_retried() {
    let overloaded = reply(
        529,
        &[("Content-Type", "application/json")],
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    );
    let mut events = anthropic_start();
    events.push(anthropic_delta("done"));
    events.extend(anthropic_end());
    let server = Server::start(vec![overloaded, stream(SSE, &events)]).await;
    let (spec, _) = agent(Provider::Anthropic, &server, None);

    let outcome = run(&options(1), &spec, None).await;

    assert_eq!(outcome.text, "done");
    assert!(outcome.result.is_ok());
    assert_eq!(outcome.retries.len(), 1);
    assert!(outcome.retries[0].contains("(529)"));
}

#[tokio::test]
async fn anthropic_stream_without_message_stop_is_broken() {
    let mut events = anthropic_start();
    events.push(anthropic_delta("no end"));
    let server = Server::start(vec![stream(SSE, &events)]).await;
    let (spec, _) = agent(Provider::Anthropic, &server, None);

    let outcome = run(&options(0), &spec, None).await;

    assert_eq!(outcome.text, "no end");
    assert_eq!(
        outcome.error().to_string(),
        "the answer broke off: the stream ended before message_stop"
    );
}

// Ollama

#[tokio::test]
async fn ollama_streams_ndjson() {
    let lines = [
        ollama_line("Hi"),
        ollama_line(" from"),
        ollama_line(" llama"),
        ollama_done(),
    ];
    // Lines cut in the middle: every line's first half ends a chunk.
    let joined = lines.concat();
    let pieces: Vec<String> = joined
        .split_inclusive('\n')
        .flat_map(|line| {
            let half = line.len() / 2;
            [line[..half].to_owned(), line[half..].to_owned()]
        })
        .collect();
    let server = Server::start(vec![stream(NDJSON, &pieces)]).await;
    let (spec, _) = agent(Provider::Ollama, &server, None);

    let outcome = run(&options(0), &spec, None).await;

    assert_eq!(outcome.text, "Hi from llama");
    assert_eq!(
        outcome.result.unwrap(),
        Finish {
            stop_reason: Some("stop".into()),
            input_tokens: Some(26),
            output_tokens: Some(3),
        }
    );
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/api/chat");
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(
        sent.json(),
        json!({"model": "test-model", "stream": true,
            "messages": [{"role": "system", "content": "You are terse."},
                         {"role": "user", "content": "Say hello."}]})
    );
}

#[tokio::test]
async fn ollama_error_line_is_a_provider_error() {
    let lines = [
        ollama_line("a"),
        "{\"error\":\"out of memory\"}\n".to_owned(),
    ];
    let server = Server::start(vec![stream(NDJSON, &lines)]).await;
    let (spec, _) = agent(Provider::Ollama, &server, None);

    let outcome = run(&options(0), &spec, None).await;

    assert_eq!(outcome.text, "a");
    assert_eq!(
        outcome.error().to_string(),
        "the provider reported error: out of memory"
    );
}

#[tokio::test]
async fn ollama_malformed_line_and_http_error() {
    let lines = [ollama_line("a"), "{\"message\": 42}\n".to_owned()];
    let missing = reply(
        404,
        &[],
        r#"{"error":"model \"test-model\" not found, try pulling it first"}"#,
    );
    let server = Server::start(vec![stream(NDJSON, &lines), missing]).await;
    let (spec, _) = agent(Provider::Ollama, &server, None);

    let malformed = run(&options(0), &spec, None).await;
    assert!(
        matches!(malformed.error(), AgentError::Malformed { .. }),
        "{}",
        malformed.error()
    );

    let not_found = run(&options(2), &spec, None).await;
    assert_eq!(
        not_found.error().to_string(),
        "HTTP 404 Not Found: model \"test-model\" not found, try pulling it first"
    );
    assert_eq!(server.requests().len(), 2, "a 404 is not retried");
}

// Command

fn command(program: &[&str]) -> AgentSpec {
    let mut spec = AgentSpec::new(Provider::Command);
    spec.command = program.iter().map(|arg| (*arg).to_owned()).collect();
    spec
}

#[tokio::test]
async fn command_gets_the_payload_on_stdin_and_streams_stdout() {
    let outcome = run(&options(0), &command(&["cat"]), None).await;

    assert_eq!(outcome.text, "You are terse.\n\nSay hello.\n");
    assert_eq!(outcome.result.unwrap(), Finish::default());
}

#[tokio::test]
async fn command_failure_reports_the_exit_status_and_stderr() {
    let failed = run(&options(2), &command(&["false"]), None).await;
    assert_eq!(
        failed.error().to_string(),
        "the program exited with exit status: 1"
    );
    assert!(failed.retries.is_empty());

    let listed = run(
        &options(0),
        &command(&["ls", "/nonexistent-baton-path"]),
        None,
    )
    .await;
    let AgentError::Command {
        status,
        stderr_tail,
    } = listed.error()
    else {
        panic!("{}", listed.error());
    };
    assert!(!status.success());
    assert!(
        stderr_tail.contains("/nonexistent-baton-path"),
        "{stderr_tail}"
    );
}

#[tokio::test]
async fn command_missing_program_is_a_spawn_error() {
    let outcome = run(&options(2), &command(&["baton-no-such-program"]), None).await;

    let error = outcome.error();
    assert!(matches!(error, AgentError::Spawn { .. }), "{error}");
    assert!(error
        .to_string()
        .starts_with("could not start `baton-no-such-program`: "));
}

#[tokio::test]
async fn command_that_says_nothing_is_killed_at_the_timeout() {
    let mut options = options(0);
    options.idle_timeout = Duration::from_millis(200);

    let outcome = run(&options, &command(&["sleep", "30"]), None).await;

    assert!(
        matches!(outcome.error(), AgentError::Timeout { .. }),
        "{}",
        outcome.error()
    );
    assert!(
        outcome.elapsed < Duration::from_secs(2),
        "{:?}",
        outcome.elapsed
    );
}
