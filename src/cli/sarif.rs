//! `check --format sarif`: SARIF 2.1.0, the format code-scanning tools read (GitHub code
//! scanning, VS Code's SARIF viewer). Only the parts baton fills are modelled.

use std::path::{Component, Path};

use serde::Serialize;

use super::finding::{Finding, Rule};
use super::walk::relative;
use crate::brief::{Code, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The base the results' relative URIs resolve against: the folder `check` ran in.
const SOURCE_ROOT: &str = "%SRCROOT%";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    column_kind: &'static str,
    original_uri_base_ids: OriginalUriBaseIds,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct OriginalUriBaseIds {
    #[serde(rename = "%SRCROOT%")]
    source_root: ArtifactLocation,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    short_description: Message,
    /// The rule's section at `[docs] base_url`; none when no base is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: [Location; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

/// The SARIF log of `findings`, with file URIs relative to `cwd`.
/// `docs_base`: the `[docs] base_url` rules link to (`helpUri`), when one is configured.
pub fn render(findings: &[Finding], cwd: &Path, docs_base: Option<&str>) -> String {
    let rules: Vec<Rule> = Rule::all().collect();
    let results = findings
        .iter()
        .map(|finding| SarifResult {
            rule_id: finding.rule.as_str(),
            rule_index: rules.iter().position(|r| *r == finding.rule).unwrap_or(0),
            level: level(finding.severity),
            message: Message {
                text: finding.message.clone(),
            },
            locations: [Location {
                physical_location: PhysicalLocation {
                    artifact_location: ArtifactLocation {
                        uri: relative_uri(&relative(&finding.path, cwd)),
                        uri_base_id: Some(SOURCE_ROOT),
                    },
                    region: Region {
                        start_line: finding.start.line,
                        start_column: finding.start.column,
                        end_line: finding.end.line,
                        end_column: finding.end.column,
                    },
                },
            }],
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "baton",
                    version: env!("CARGO_PKG_VERSION"),
                    rules: (rules.iter())
                        .map(|rule| descriptor(*rule, docs_base))
                        .collect(),
                },
            },
            column_kind: "unicodeCodePoints",
            original_uri_base_ids: OriginalUriBaseIds {
                source_root: ArtifactLocation {
                    uri: folder_uri(cwd),
                    uri_base_id: None,
                },
            },
            results,
        }],
    };
    let mut out = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    out.push('\n');
    out
}

fn descriptor(rule: Rule, docs_base: Option<&str>) -> ReportingDescriptor {
    ReportingDescriptor {
        id: rule.as_str(),
        short_description: Message {
            text: description(rule).to_owned(),
        },
        help_uri: docs_base.map(|base| rule.docs_url(base)),
        default_configuration: Configuration {
            level: level(rule.severity()),
        },
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information | Severity::Hint => "note",
    }
}

/// One line per rule, as code-scanning tools list them.
fn description(rule: Rule) -> &'static str {
    let Rule::Lint(code) = rule else {
        return "A file or folder could not be read.";
    };
    match code {
        Code::MissingField => "A required field of the document's kind is absent.",
        Code::EmptyField => "A field has no content, or only a placeholder.",
        Code::DuplicateField => "The same field appears twice in one brief.",
        Code::UnknownAgent => "An @mention or agent setting names an agent that is not configured.",
        Code::UnknownKind => "Front matter `kind:` names no known kind.",
        Code::InvalidFrontMatter => {
            "The front matter is not valid YAML, or a key has the wrong type."
        }
        Code::UnknownKey => "The front matter has a key baton does not know.",
        Code::BrokenLink => "A brief link points at no brief.",
        Code::Cycle => "Brief links form a cycle.",
        Code::InvalidConfig => "A configuration file (baton.toml) has a problem.",
        Code::NotUtf8 => "The file is not valid UTF-8.",
        Code::TooLarge => "The document is too large to lint.",
        Code::StaleOutput => "The brief changed after its output was written.",
        Code::MissingKey => {
            "The environment variable holding the agent's API key is not set, or not named."
        }
        Code::UntrustedAgent => {
            "An agent (or fallback) that runs a program, or whose key or text could go where the workspace chooses, comes from an untrusted workspace."
        }
        Code::DispatchFailed => "The last run of the brief failed.",
        Code::OverBudget => "The brief, its thread and its inputs fill too much of the agent's context window.",
        Code::ConfidentialRemote => {
            "A brief bound for a remote agent is confidential or holds a privacy term, so it is not sent."
        }
    }
}

/// A relative path as a URI reference: `/` between segments, unsafe bytes percent-encoded.
fn relative_uri(path: &Path) -> String {
    let segments: Vec<String> = path
        .components()
        .map(|component| percent_encode(&component.as_os_str().to_string_lossy()))
        .collect();
    segments.join("/")
}

/// The `file://` URI of a folder, ending in `/` so relative URIs resolve inside it.
fn folder_uri(folder: &Path) -> String {
    let mut uri = "file://".to_owned();
    for component in folder.components() {
        if let Component::Normal(segment) = component {
            uri.push('/');
            uri.push_str(&percent_encode(&segment.to_string_lossy()));
        }
    }
    uri.push('/');
    uri
}

fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_with_forward_slashes_and_escapes() {
        assert_eq!(
            relative_uri(Path::new("my notes/plan ✓.brief.md")),
            "my%20notes/plan%20%E2%9C%93.brief.md"
        );
        assert_eq!(relative_uri(Path::new("../a.md")), "../a.md");
        assert_eq!(folder_uri(Path::new("/ws/x")), "file:///ws/x/");
    }

    #[test]
    fn every_rule_has_a_description() {
        for rule in Rule::all() {
            assert!(description(rule).ends_with('.'), "{rule:?}");
        }
    }
}
