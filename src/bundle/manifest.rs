//! The bundle manifest, `agents/<name>/agent.yaml`, format v1.
//!
//! The types here are the single source of truth: `schemas/agent.schema.json`
//! is generated from them (see `crate::schema`), and the loader deserializes
//! into them. Fields a release cannot do without but that a half-written
//! manifest may lack (owners, security, a tool's access …) are `Option` or
//! default to empty, so that the readiness checks can report every missing
//! piece at once with a hint instead of stopping at the first one.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// An agent bundle manifest (`agent.yaml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "agentctl agent bundle manifest v1")]
pub struct Manifest {
    /// Format version; always `agentctl/v1`.
    pub api_version: ApiVersion,
    /// Kind of document; always `Agent`.
    pub kind: Kind,
    /// The agent's name: lowercase letters, digits and dashes; equals its directory name.
    pub name: String,
    /// Semantic version (`1.4.0`). Every change to the bundle's content needs a new one.
    pub version: String,
    /// One or two sentences on what the agent does, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who owns the agent. A release needs at least one `production` owner with an email.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Owner>,
    /// Who to call, in order, when the agent misbehaves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Escalation>,
    /// What the agent is for and what it must not do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// The model the agent runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Model>,
    /// Prompt templates (minijinja), by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompts: Vec<Prompt>,
    /// The tools the agent may call, with their permissions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// Grounding sources the agent reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub knowledge: Vec<KnowledgeSource>,
    /// Hard rules the runtime enforces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// Offline evaluation suites and the pass rate a release must reach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evals: Option<Evals>,
    /// Alerts for the operating team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<Monitoring>,
    /// What happens when things fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reliability: Option<Reliability>,
    /// The security review. Every part is required for a release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<Security>,
    /// Operator documentation shipped with the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<Docs>,
}

/// The manifest format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ApiVersion {
    /// Version 1 of the format.
    #[serde(rename = "agentctl/v1")]
    V1,
}

/// The document kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Kind {
    /// An agent bundle.
    Agent,
}

/// A person accountable for the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    /// Full name.
    pub name: String,
    /// Email; also the SSH signing principal that earns the `owner` role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// What this person owns.
    pub role: OwnerRole,
}

/// An owner's responsibility.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum OwnerRole {
    /// Accountable for the agent in production; at least one is required.
    Production,
    /// Stands in for the production owner.
    Backup,
    /// Reviews changes.
    Reviewer,
}

/// The escalation path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    /// Where escalations go first (a chat channel, a queue, a pager service).
    pub channel: String,
    /// The situations that must be escalated, in plain words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<String>,
    /// People to contact, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
}

/// One person on the escalation path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Full name.
    pub name: String,
    /// What they do in an escalation (e.g. "on-call engineer").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone or pager number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// What the agent is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// The agent's purpose in one sentence.
    pub purpose: String,
    /// Tasks the agent handles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_scope: Vec<String>,
    /// Tasks the agent must refuse or hand off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub out_of_scope: Vec<String>,
}

/// The model an agent runs on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Provider (e.g. `anthropic`, `openai`, `azure-openai`, `self-hosted`).
    pub provider: String,
    /// Model name as the provider spells it.
    pub name: String,
    /// Region the model is served from (e.g. `eu-west-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Where it is hosted (e.g. `provider-api`, `aws-bedrock`, `on-prem`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosting: Option<String>,
    /// Sampling parameters (temperature, max_tokens …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, Parameter>,
    /// The model to use when this one is unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<FallbackModel>,
}

/// A model parameter value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Parameter {
    /// A flag.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A number.
    Float(f64),
    /// A string.
    Text(String),
}

impl fmt::Display for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Parameter::Bool(b) => write!(f, "{b}"),
            Parameter::Int(i) => write!(f, "{i}"),
            Parameter::Float(x) => write!(f, "{x}"),
            Parameter::Text(s) => write!(f, "{s}"),
        }
    }
}

/// A fallback model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FallbackModel {
    /// Provider.
    pub provider: String,
    /// Model name.
    pub name: String,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// A prompt template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Prompt {
    /// Name the runtime loads it by (e.g. `system`).
    pub name: String,
    /// Path inside the bundle (e.g. `prompts/system.md.j2`).
    pub file: String,
    /// What the prompt is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A tool the agent may call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// Tool name as the runtime registers it (e.g. `helpdesk.add_tag`).
    pub name: String,
    /// What the tool does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The most the tool can do to the system it touches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
    /// Whether a human must approve each call. Required for write and destructive tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    /// Who may approve calls (people, groups or channels).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    /// Per-call timeout, e.g. `10s`, `500ms`, `2m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Retry policy for failed calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
    /// What the agent does when the call finally fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<OnFailure>,
}

/// A tool's access level.
// Variants in order of reach: `diff` compares accesses with the derived `Ord`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Reads only.
    Read,
    /// Creates or changes data.
    Write,
    /// Deletes, voids, sends or otherwise cannot be undone.
    Destructive,
}

impl Access {
    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Destructive => "destructive",
        }
    }
}

/// Whether a tool call needs a human's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Approval {
    /// Calls run without approval.
    None,
    /// Every call waits for an approver.
    Required,
}

impl Approval {
    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Approval::None => "none",
            Approval::Required => "required",
        }
    }
}

/// A retry policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Total attempts including the first; 1 means no retry. At most 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// How the delay grows between attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
    /// Delay before the first retry, e.g. `1s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_delay: Option<Duration>,
}

/// Backoff between retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Backoff {
    /// The same delay each time.
    Fixed,
    /// The delay doubles each time.
    Exponential,
}

/// What happens when a tool call fails for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OnFailure {
    /// Hand the case to a human on the escalation path.
    Escalate,
    /// Use the reliability fallback.
    Fallback,
    /// Stop and report an error.
    Fail,
}

/// A grounding source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeSource {
    /// Name.
    pub name: String,
    /// Where it lives (URL, bucket, table).
    pub uri: String,
    /// Who keeps it correct (name or email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// How often it is refreshed (e.g. `daily`, `24h`, `on-change`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
    /// Data classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
}

/// Data classification of a knowledge source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Classification {
    /// Public.
    Public,
    /// Internal.
    Internal,
    /// Confidential.
    Confidential,
    /// Restricted.
    Restricted,
}

/// A hard rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id (e.g. `no-refund-promises`).
    pub id: String,
    /// The rule in plain words.
    pub description: String,
    /// What the runtime does when the rule is hit.
    pub action: RuleAction,
}

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RuleAction {
    /// Refuse.
    Deny,
    /// Ask a human first.
    RequireApproval,
    /// Hand off to the escalation path.
    Escalate,
}

impl RuleAction {
    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleAction::Deny => "deny",
            RuleAction::RequireApproval => "require-approval",
            RuleAction::Escalate => "escalate",
        }
    }
}

/// Evaluation gates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evals {
    /// Minimum pass rate (0..1) a release's recorded results must reach.
    pub min_pass_rate: f64,
    /// The suites to run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suites: Vec<EvalSuite>,
}

/// An offline evaluation suite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvalSuite {
    /// Suite name.
    pub name: String,
    /// Path inside the bundle (e.g. `evals/triage.yaml`).
    pub file: String,
}

/// Monitoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Alerts for the operating team.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<Alert>,
}

/// An alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// Name.
    pub name: String,
    /// The threshold, in your monitoring system's terms (e.g. `escalation_rate > 0.2 for 15m`).
    pub condition: String,
    /// Where the alert goes (the channel the operating team reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<String>,
    /// What the alert means, in plain words for operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What the operator should do when it fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// Reliability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reliability {
    /// What the agent does when the model or a tool is unavailable.
    pub fallback: String,
    /// How a case reaches a human.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_handoff: Option<HumanHandoff>,
}

/// Hand-off to a human.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HumanHandoff {
    /// Where handed-off cases go (a queue or channel).
    pub channel: String,
    /// When the agent hands off.
    pub when: String,
}

/// The security review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// Who reviewed (name and email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<String>,
    /// When (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<String>,
    /// What data the agent reads and writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_handling: Option<DataHandling>,
    /// How the agent authenticates and how its access is scoped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<Authentication>,
    /// Review of the AI provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_review: Option<ProviderReview>,
    /// Compliance regimes that apply (e.g. `GDPR`, `SOC 2`); `[]` when none do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<Vec<String>>,
    /// The review checklist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checklist: Vec<ChecklistItem>,
}

/// Data handling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataHandling {
    /// Data the agent reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reads: Option<Vec<String>>,
    /// Data the agent writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writes: Option<Vec<String>>,
    /// Whether personal data passes through the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pii: Option<bool>,
    /// How long conversation logs and outputs are kept, in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

/// Authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Authentication {
    /// How the agent authenticates (e.g. `oauth2-client-credentials`, `workload-identity`).
    pub method: String,
    /// The identity it runs as (service account, app registration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The scopes or roles granted to that identity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Where credentials are kept (never the credentials themselves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
}

/// AI provider review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderReview {
    /// Provider reviewed.
    pub provider: String,
    /// Model reviewed.
    pub model: String,
    /// Where it is hosted (region, cloud, on-prem).
    pub hosting: String,
    /// The provider's data policy as reviewed (retention, training use).
    pub data_policy: String,
}

/// A checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    /// What was checked.
    pub item: String,
    /// The outcome.
    pub status: CheckStatus,
    /// Where the proof is (ticket, document, test run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// A checklist outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CheckStatus {
    /// Checked and fine.
    #[serde(rename = "pass")]
    Pass,
    /// Checked and not fine; blocks release.
    #[serde(rename = "fail")]
    Fail,
    /// Does not apply.
    #[serde(rename = "n/a")]
    NotApplicable,
}

/// Operator documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Docs {
    /// Path of the runbook inside the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    /// Path of the FAQ inside the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faq: Option<String>,
}

/// A duration written as a number and a unit: `500ms`, `10s`, `2m`, `1h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub std::time::Duration);

impl Duration {
    /// The pattern the schema enforces.
    pub const PATTERN: &'static str = "^[0-9]{1,9}(ms|s|m|h)$";

    /// Parse `500ms`, `10s`, `2m`, `1h`.
    pub fn parse(s: &str) -> Option<Duration> {
        let split = s.find(|c: char| !c.is_ascii_digit())?;
        let (digits, unit) = s.split_at(split);
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        let n: u64 = digits.parse().ok()?;
        let d = match unit {
            "ms" => std::time::Duration::from_millis(n),
            "s" => std::time::Duration::from_secs(n),
            "m" => std::time::Duration::from_secs(n * 60),
            "h" => std::time::Duration::from_secs(n * 3600),
            _ => return None,
        };
        Some(Duration(d))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms.is_multiple_of(3_600_000) && ms > 0 {
            write!(f, "{}h", ms / 3_600_000)
        } else if ms.is_multiple_of(60_000) && ms > 0 {
            write!(f, "{}m", ms / 60_000)
        } else if ms.is_multiple_of(1000) {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

impl Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Duration::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid duration `{s}`: write a number and a unit, e.g. `500ms`, `10s`, `2m` or `1h`"
            ))
        })
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration: a number and a unit (ms, s, m, h), e.g. `10s`.",
            "type": "string",
            "pattern": Duration::PATTERN,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print() {
        for (text, ms) in [
            ("500ms", 500),
            ("10s", 10_000),
            ("2m", 120_000),
            ("1h", 3_600_000),
        ] {
            let d = Duration::parse(text).expect(text);
            assert_eq!(d.0.as_millis(), ms);
            assert_eq!(d.to_string(), text);
        }
        for bad in ["", "10", "s", "10 s", "1.5s", "-1s", "10d", "1234567890s"] {
            assert!(Duration::parse(bad).is_none(), "{bad} should not parse");
        }
    }
}
