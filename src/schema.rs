//! The JSON Schema of the manifest, generated from the Rust types.
//!
//! `schemas/agent.schema.json` is this function's output, committed so that
//! editors (via the `# yaml-language-server: $schema=` line) and other tools
//! can use it without agentctl. A test fails when the committed file is stale;
//! `agentctl schema > schemas/agent.schema.json` refreshes it.

use crate::bundle::Manifest;

/// The `$id` of the published schema.
pub const SCHEMA_ID: &str = "https://agentctl.dev/schemas/agent.schema.json";

/// The manifest's JSON Schema (draft 2020-12) as pretty JSON with a final newline.
pub fn manifest_schema_json() -> String {
    let mut schema = schemars::schema_for!(Manifest);
    schema.insert("$id".into(), SCHEMA_ID.into());
    let mut text =
        serde_json::to_string_pretty(&schema).expect("a generated schema always serializes");
    text.push('\n');
    text
}
