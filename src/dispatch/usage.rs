//! The tokens a run used (DESIGN §6), as its provider reported them beside what baton counted
//! as sent: journalled with the run ([`super::run_file`]), the source of the correction of an
//! agent's estimates ([`super::budget::correction`]) and of the warning that the agent saw only
//! part of the payload.

use serde::{Deserialize, Serialize};

/// The tokens a run used, as its provider reported them, beside the prompt tokens baton counted
/// in the payload it sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u64>,
    /// The prompt tokens baton counted as sent (an estimate for other than OpenAI models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counted: Option<u64>,
}

/// Under this share of the counted prompt tokens, the agent saw only part of the payload.
pub const TRUNCATED_BELOW: f64 = 0.7;

impl Usage {
    /// The warning when the provider reported far fewer prompt tokens than were sent: it cut
    /// the payload (Ollama truncates a prompt longer than its context and still answers).
    pub fn truncation(&self) -> Option<String> {
        let (reported, counted) = (self.prompt_tokens?, self.counted?);
        if counted == 0 || reported as f64 >= counted as f64 * TRUNCATED_BELOW {
            return None;
        }
        Some(format!(
            "the agent saw only part of the payload: it reported {reported} prompt tokens of \
             about {counted} sent ({}%); raise its context (Ollama: num_ctx) or send less",
            reported * 100 / counted
        ))
    }

    /// Prompt tokens reported per token counted, the correction for this agent's estimates.
    pub fn ratio(&self) -> Option<f64> {
        let (reported, counted) = (self.prompt_tokens?, self.counted?);
        (counted > 0 && reported > 0).then(|| reported as f64 / counted as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_seventy_percent_of_the_counted_prompt_is_a_truncation() {
        let usage = |reported, counted| Usage {
            prompt_tokens: Some(reported),
            completion_tokens: None,
            counted: Some(counted),
        };
        assert_eq!(usage(700, 1000).truncation(), None);
        assert_eq!(
            usage(2048, 9000).truncation().unwrap(),
            "the agent saw only part of the payload: it reported 2048 prompt tokens of about \
             9000 sent (22%); raise its context (Ollama: num_ctx) or send less"
        );
        assert_eq!(Usage::default().truncation(), None);
        assert_eq!(usage(1200, 1000).ratio(), Some(1.2));
    }
}
