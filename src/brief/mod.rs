//! The pure core: kinds and fields, the brief model, the lint rules and their fixes.
//! No IO, no async, no LSP.

pub mod answer;
pub mod cache;
pub mod complete;
pub mod diagnostic;
pub mod fix;
pub mod front_matter;
pub mod graph;
pub mod hover;
pub mod input;
pub mod kind;
pub mod link;
pub mod lint;
pub mod model;
pub mod navigate;
pub mod output;
pub mod payload;
pub mod rules;
pub mod suggest;
pub mod symbols;
pub mod target;

pub use diagnostic::{Code, Diagnostic, FixHint, Severity, TextRange};
pub use lint::{
    lint, Analysis, Context, LinkedDocument, Machine, NoOtherDocuments, OtherDocuments,
};
pub use target::target_agent;
