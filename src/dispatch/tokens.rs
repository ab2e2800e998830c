//! Tokens counted for real (DESIGN §6): offline BPE with the vocabularies embedded in
//! `tiktoken-rs`. `o200k_base` for current OpenAI models, `cl100k_base` for older ones; every
//! other provider gets the `o200k_base` count marked as an estimate (`≈`).
//!
//! A vocabulary is loaded once, lazily, on the first count that needs it: nothing here runs
//! while no budget has been asked for. Counts are cached by the hash of the text counted, so a
//! brief (or a thread turn) is counted once however often its budget is shown. Nothing here
//! is on the keystroke path: callers count when lenses or hovers are asked for, or at send time.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Mutex, OnceLock};

use tiktoken_rs::CoreBPE;

use crate::config::{AgentSpec, Provider};

/// The BPE vocabularies baton counts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// GPT-4o, GPT-4.1, GPT-4.5, GPT-5, o1/o3/o4 and every model baton does not know.
    O200k,
    /// GPT-4 and GPT-3.5.
    Cl100k,
}

/// How an agent's payload is counted: which vocabulary, and whether the number is the
/// provider's own (an OpenAI model) or an estimate (`≈`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter {
    pub encoding: Encoding,
    pub estimate: bool,
}

impl Counter {
    /// The counter for an agent: its provider and model decide.
    pub fn for_agent(spec: &AgentSpec) -> Counter {
        match spec.provider {
            Provider::Openai => Counter {
                encoding: encoding_for_model(spec.model.as_deref().unwrap_or("")),
                estimate: false,
            },
            Provider::Anthropic | Provider::Ollama | Provider::Command => Counter {
                encoding: Encoding::O200k,
                estimate: true,
            },
        }
    }

    /// The tokens of `text`, from the cache when it was counted before.
    pub fn count(self, text: &str) -> u64 {
        count(self.encoding, text)
    }

    /// The tokens of `text` if it was counted before; counts nothing.
    pub fn counted(self, text: &str) -> Option<u64> {
        counted(self.encoding, text)
    }
}

/// The vocabulary of an OpenAI model name: `cl100k_base` for `gpt-4` and `gpt-3.5` (and their
/// dated snapshots), `o200k_base` for everything newer and everything unknown.
pub fn encoding_for_model(model: &str) -> Encoding {
    let model = model.to_ascii_lowercase();
    let model = model.rsplit('/').next().unwrap_or("");
    let newer_gpt4 = ["gpt-4o", "gpt-4.1", "gpt-4.5"];
    if model.starts_with("gpt-3.5")
        || (model.starts_with("gpt-4") && !newer_gpt4.iter().any(|p| model.starts_with(p)))
    {
        Encoding::Cl100k
    } else {
        Encoding::O200k
    }
}

/// The tokens of `text` in `encoding`. Cached by the text's hash: a brief that did not change
/// is never counted twice.
pub fn count(encoding: Encoding, text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    let key = (encoding, hash(text));
    if let Some(&n) = cache().lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return n;
    }
    let n = bpe(encoding).encode_ordinary(text).len() as u64;
    let mut cache = cache().lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= CACHE_LIMIT {
        // Old briefs and turns that no longer exist; counting again is cheap next to keeping
        // every version of every brief typed in a long session.
        cache.clear();
    }
    cache.insert(key, n);
    n
}

/// The tokens of `text` in `encoding` if it was counted before: a cache lookup, never a count
/// (and never loads a vocabulary).
pub fn counted(encoding: Encoding, text: &str) -> Option<u64> {
    if text.is_empty() {
        return Some(0);
    }
    let key = (encoding, hash(text));
    cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .copied()
}

/// Whether a vocabulary was loaded (for the memory benchmark and its test).
pub fn loaded(encoding: Encoding) -> bool {
    match encoding {
        Encoding::O200k => O200K.get().is_some(),
        Encoding::Cl100k => CL100K.get().is_some(),
    }
}

const CACHE_LIMIT: usize = 20_000;

static O200K: OnceLock<CoreBPE> = OnceLock::new();
static CL100K: OnceLock<CoreBPE> = OnceLock::new();

fn bpe(encoding: Encoding) -> &'static CoreBPE {
    // The vocabularies are compiled into tiktoken-rs; loading them cannot fail short of a
    // broken build, which the tests below would catch.
    match encoding {
        Encoding::O200k => {
            O200K.get_or_init(|| tiktoken_rs::o200k_base().expect("embedded o200k_base"))
        }
        Encoding::Cl100k => {
            CL100K.get_or_init(|| tiktoken_rs::cl100k_base().expect("embedded cl100k_base"))
        }
    }
}

fn cache() -> &'static Mutex<HashMap<(Encoding, u64), u64>> {
    static CACHE: OnceLock<Mutex<HashMap<(Encoding, u64), u64>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The cache key of a text: a lens request hashes every brief of the document, up to a
/// megabyte, so the hash must run at memory speed. A collision would show one count for
/// another text; with 64 bits and a cache of 20,000 texts it is not a practical concern.
fn hash(text: &str) -> u64 {
    foldhash::quality::FixedState::with_seed(0x62_61_74_6f_6e).hash_one(text)
}

/// The tokens of an answer while it streams, estimated from its bytes: about four to a token
/// in English. Counting them for real at every tick would load the tokenizer and pass over the
/// whole answer again each time; the provider's own count arrives with its usage, at the end.
pub fn streamed(bytes: usize) -> usize {
    bytes.div_ceil(4)
}

/// A token count as a lens shows it: `980`, `12.4k`, `128k`, `1.2M`.
pub fn short(n: u64) -> String {
    fn one_decimal(n: u64, unit: u64, suffix: &str) -> String {
        let tenths = (n * 10 + unit / 2) / unit;
        if tenths >= 1000 {
            format!("{}{suffix}", (n + unit / 2) / unit)
        } else if tenths % 10 == 0 {
            format!("{}{suffix}", tenths / 10)
        } else {
            format!("{}.{}{suffix}", tenths / 10, tenths % 10)
        }
    }
    match n {
        0..=999 => n.to_string(),
        1_000..=999_499 => one_decimal(n, 1_000, "k"),
        _ => one_decimal(n, 1_000_000, "M"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference numbers from the tokenizers' own tests:
    // - tiktoken-rs `tests/tiktoken.rs` (`o200k_base_test`, `cl100k_base_test`):
    //   "This is a test         with a lot of spaces" is
    //   [2500, 382, 261, 1746, 269, 483, 261, 3261, 328, 18608] in o200k_base and
    //   [2028, 374, 264, 1296, 260, 449, 264, 2763, 315, 12908] in cl100k_base: 10 tokens each.
    // - openai/tiktoken `tests/test_encoding.py` (`test_simple`): "hello world" is
    //   [15339, 1917] in cl100k_base: 2 tokens.
    const SPACES: &str = "This is a test         with a lot of spaces";

    #[test]
    fn known_strings_count_as_the_tokenizers_own_tests_say() {
        assert_eq!(
            bpe(Encoding::O200k).encode_ordinary(SPACES),
            [2500, 382, 261, 1746, 269, 483, 261, 3261, 328, 18608]
        );
        assert_eq!(
            bpe(Encoding::Cl100k).encode_ordinary(SPACES),
            [2028, 374, 264, 1296, 260, 449, 264, 2763, 315, 12908]
        );
        assert_eq!(
            bpe(Encoding::Cl100k).encode_ordinary("hello world"),
            [15339, 1917]
        );
        assert_eq!(count(Encoding::O200k, SPACES), 10);
        assert_eq!(count(Encoding::Cl100k, SPACES), 10);
        assert_eq!(count(Encoding::Cl100k, "hello world"), 2);
        assert_eq!(count(Encoding::O200k, ""), 0);
        // A special token's text is counted as ordinary text, never as the special token.
        assert!(count(Encoding::O200k, "<|endoftext|>") > 1);
    }

    #[test]
    fn counts_are_cached_by_text() {
        let text = "A brief that is counted twice, the second time from the cache.";
        let first = count(Encoding::O200k, text);
        let key = (Encoding::O200k, hash(text));
        assert_eq!(cache().lock().unwrap().get(&key), Some(&first));
        assert_eq!(count(Encoding::O200k, text), first);
    }

    #[test]
    fn models_pick_their_vocabulary_and_other_providers_estimate() {
        for model in [
            "gpt-4o",
            "gpt-4o-mini",
            "gpt-4.1",
            "o1",
            "o3-mini",
            "o4-mini",
            "gpt-5",
            "",
        ] {
            assert_eq!(encoding_for_model(model), Encoding::O200k, "{model}");
        }
        for model in [
            "gpt-4",
            "gpt-4-turbo",
            "gpt-4-0613",
            "gpt-3.5-turbo",
            "openai/gpt-4",
        ] {
            assert_eq!(encoding_for_model(model), Encoding::Cl100k, "{model}");
        }
        let mut openai = AgentSpec::new(Provider::Openai);
        openai.model = Some("gpt-4".into());
        assert_eq!(
            Counter::for_agent(&openai),
            Counter {
                encoding: Encoding::Cl100k,
                estimate: false
            }
        );
        for provider in [Provider::Anthropic, Provider::Ollama, Provider::Command] {
            assert_eq!(
                Counter::for_agent(&AgentSpec::new(provider)),
                Counter {
                    encoding: Encoding::O200k,
                    estimate: true
                }
            );
        }
    }

    #[test]
    fn short_counts_read_like_a_lens() {
        let cases = [
            (0, "0"),
            (980, "980"),
            (1_000, "1k"),
            (12_400, "12.4k"),
            (12_449, "12.4k"),
            (128_000, "128k"),
            (999_499, "999k"),
            (999_500, "1M"),
            (1_250_000, "1.3M"),
        ];
        for (n, want) in cases {
            assert_eq!(short(n), want, "{n}");
        }
    }
}
