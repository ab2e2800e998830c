//! [`send`]: one call to an agent, from its spec to the last byte, with its timeout and retries.
//!
//! Fallback agents are the dispatcher's business: when `send` fails with an error for which
//! [`AgentError::calls_for_fallback`] holds and no text was delivered, it tries the next agent.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::retry;
use super::{
    AgentError, Anthropic, Event, Finish, Ollama, OpenAi, Program, Request, Retry, RetryPolicy,
    Sink, Wire, DEFAULT_MAX_OUTPUT_BYTES,
};
use crate::config::{AgentSpec, Provider};

/// How `send` runs a call; [`SendOptions::for_agent`] gives the agent's configured values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendOptions {
    pub retry: RetryPolicy,
    /// How long to wait for the response, and then for each piece of the answer, before giving
    /// up. An idle timeout rather than a deadline: a long answer that keeps arriving is never
    /// cut short, while an endpoint that goes silent is abandoned after this long.
    pub idle_timeout: Duration,
    /// The most answer text delivered; past it the answer is cut ([`AgentError::TooLarge`]).
    pub max_output_bytes: usize,
}

impl SendOptions {
    /// The agent's `retries` and `timeout_secs`, and the standard backoff and size bound.
    pub fn for_agent(spec: &AgentSpec) -> SendOptions {
        SendOptions {
            retry: RetryPolicy::for_agent(spec),
            idle_timeout: Duration::from_secs(spec.timeout_secs().max(1)),
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
        }
    }
}

/// Sends `request` to the agent `agent_name` of `spec` and streams the answer to `on_event`,
/// with the agent's own timeout and retries.
///
/// Text is reported as it arrives ([`Event::Text`]); a retry is announced before its pause
/// ([`Event::Retrying`]). An attempt is retried only when its error
/// [is retryable](AgentError::is_retryable) and it delivered no text: once text has reached
/// the caller, another attempt would deliver it twice, so the partial answer is kept and the
/// error returned. Cancelling `cancel` ends the call at once with [`AgentError::Cancelled`],
/// killing a `command` agent's program.
pub async fn send(
    agent_name: &str,
    spec: &AgentSpec,
    request: &Request,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
    cancel: &CancellationToken,
) -> Result<Finish, AgentError> {
    let options = SendOptions::for_agent(spec);
    send_with(&options, agent_name, spec, request, on_event, cancel).await
}

/// [`send`] with `options` in place of the agent's configured timeout, retries and bound.
pub async fn send_with(
    options: &SendOptions,
    agent_name: &str,
    spec: &AgentSpec,
    request: &Request,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
    cancel: &CancellationToken,
) -> Result<Finish, AgentError> {
    let wire = AnyWire::new(agent_name, spec, options.idle_timeout)?;
    let mut attempt = 0;
    loop {
        let mut on_text = |text: &str| on_event(Event::Text(text));
        let mut sink = Sink::new(&mut on_text, options.max_output_bytes);
        let result = wire.stream(request, &mut sink, cancel).await;
        // Whatever the wire decoded before it returned (the last read, an error) is the
        // caller's too.
        sink.flush();
        let delivered = sink.delivered();
        let error = match result {
            Ok(finish) => return Ok(finish),
            // A provider asking for a longer pause than baton waits is treated as down now,
            // not waited for (nor for a shorter stretch, which would only fail again).
            Err(error) => retry::beyond_cap(error, options.retry.max_retry_after),
        };
        if attempt >= options.retry.retries || delivered > 0 || !error.is_retryable() {
            tracing::debug!(agent = agent_name, error = %error, delivered, "agent call failed");
            return Err(error);
        }
        attempt += 1;
        let delay = options.retry.delay(attempt, error.retry_after());
        let retry = Retry {
            attempt,
            retries: options.retry.retries,
            delay,
            error: &error,
        };
        tracing::info!(agent = agent_name, "{retry}");
        on_event(Event::Retrying(retry));
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(AgentError::Cancelled),
            () = tokio::time::sleep(delay) => {}
        }
    }
}

/// The wire of each provider, chosen once per call.
enum AnyWire {
    OpenAi(OpenAi),
    Anthropic(Anthropic),
    Ollama(Ollama),
    Program(Program),
}

impl AnyWire {
    fn new(agent: &str, spec: &AgentSpec, idle: Duration) -> Result<AnyWire, AgentError> {
        Ok(match spec.provider {
            Provider::Openai => AnyWire::OpenAi(OpenAi::new(agent, spec, idle)?),
            Provider::Anthropic => AnyWire::Anthropic(Anthropic::new(agent, spec, idle)?),
            Provider::Ollama => AnyWire::Ollama(Ollama::new(agent, spec, idle)?),
            Provider::Command => AnyWire::Program(Program::new(agent, spec, idle)?),
        })
    }

    async fn stream(
        &self,
        request: &Request,
        sink: &mut Sink<'_>,
        cancel: &CancellationToken,
    ) -> Result<Finish, AgentError> {
        match self {
            AnyWire::OpenAi(wire) => wire.stream(request, sink, cancel).await,
            AnyWire::Anthropic(wire) => wire.stream(request, sink, cancel).await,
            AnyWire::Ollama(wire) => wire.stream(request, sink, cancel).await,
            AnyWire::Program(wire) => wire.stream(request, sink, cancel).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Message;

    /// The dispatcher spawns calls on the runtime, so the future must be `Send`.
    #[test]
    fn a_call_can_be_spawned() {
        fn spawnable<T: Send>(_: &T) {}
        let spec = AgentSpec::new(Provider::Ollama);
        let request = Request {
            model: "m".into(),
            system: None,
            messages: vec![Message::user("hi")],
        };
        let mut on_event = |_: Event<'_>| {};
        let cancel = CancellationToken::new();
        spawnable(&send("local", &spec, &request, &mut on_event, &cancel));
    }
}
