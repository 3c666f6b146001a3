//! How each manifest field takes part in the semantic diff: compared by
//! some rules, or not compared for a stated reason. A test walks
//! `schemas/agent.schema.json` and fails on a field missing here.

use super::rules::Rule;

/// How a manifest field takes part in the diff.
#[derive(Debug, Clone, Copy)]
pub enum Coverage {
    /// Compared; these rules report its changes.
    Compared(&'static [Rule]),
    /// Not compared, for this reason.
    NotCompared(&'static str),
}

use Rule as R;

/// Every manifest field (its JSON Schema path, `[]` for list items) and how
/// the diff treats it. A test walks `schemas/agent.schema.json` and fails
/// on a field missing here.
pub const FIELDS: &[(&str, Coverage)] = &[
    (
        "apiVersion",
        Coverage::NotCompared(
            "it has one valid value, `agentctl/v1`; anything else does not parse and is `manifest-unparseable`",
        ),
    ),
    (
        "kind",
        Coverage::NotCompared(
            "it has one valid value, `Agent`; anything else does not parse and is `manifest-unparseable`",
        ),
    ),
    (
        "name",
        Coverage::NotCompared(
            "agents are paired by name: another name is another agent (`agent-added` / `agent-removed`)",
        ),
    ),
    ("version", Coverage::Compared(&[R::Version])),
    ("description", Coverage::Compared(&[R::Description])),
    (
        "owners",
        Coverage::Compared(&[R::OwnerRemoved, R::OwnerAdded, R::OwnerAddedSigner]),
    ),
    ("owners[].name", Coverage::Compared(&[R::OwnerRenamed])),
    (
        "owners[].email",
        Coverage::Compared(&[R::OwnerEmailChanged]),
    ),
    ("owners[].role", Coverage::Compared(&[R::OwnerRoleChanged])),
    ("escalation", Coverage::Compared(&[R::EscalationRemoved])),
    (
        "escalation.channel",
        Coverage::Compared(&[R::EscalationChanged]),
    ),
    (
        "escalation.when",
        Coverage::Compared(&[R::EscalationChanged, R::EscalationWhenAdded]),
    ),
    (
        "escalation.contacts",
        Coverage::Compared(&[
            R::EscalationContactRemoved,
            R::EscalationContactAdded,
            R::EscalationOrderChanged,
        ]),
    ),
    (
        "escalation.contacts[].name",
        Coverage::Compared(&[R::ItemRenamed]),
    ),
    (
        "escalation.contacts[].role",
        Coverage::Compared(&[R::EscalationContactRoleChanged]),
    ),
    (
        "escalation.contacts[].email",
        Coverage::Compared(&[R::EscalationContactChanged]),
    ),
    (
        "escalation.contacts[].phone",
        Coverage::Compared(&[R::EscalationContactChanged]),
    ),
    (
        "scope",
        Coverage::Compared(&[R::ScopeWidened, R::OutOfScopeRemoved]),
    ),
    ("scope.purpose", Coverage::Compared(&[R::ScopeWidened])),
    (
        "scope.in_scope",
        Coverage::Compared(&[R::ScopeWidened, R::ScopeNarrowed]),
    ),
    (
        "scope.out_of_scope",
        Coverage::Compared(&[R::OutOfScopeRemoved, R::OutOfScopeAdded]),
    ),
    (
        "model",
        Coverage::Compared(&[R::ModelReachChanged, R::ModelChanged]),
    ),
    (
        "model.provider",
        Coverage::Compared(&[R::ModelReachChanged]),
    ),
    ("model.name", Coverage::Compared(&[R::ModelChanged])),
    ("model.region", Coverage::Compared(&[R::ModelReachChanged])),
    ("model.hosting", Coverage::Compared(&[R::ModelReachChanged])),
    (
        "model.parameters",
        Coverage::Compared(&[R::ModelParameterChanged]),
    ),
    (
        "model.fallback",
        Coverage::Compared(&[R::ModelReachChanged, R::ModelChanged]),
    ),
    (
        "model.fallback.provider",
        Coverage::Compared(&[R::ModelReachChanged]),
    ),
    (
        "model.fallback.name",
        Coverage::Compared(&[R::ModelChanged]),
    ),
    (
        "model.fallback.region",
        Coverage::Compared(&[R::ModelReachChanged]),
    ),
    (
        "prompts",
        Coverage::Compared(&[
            R::PromptAdded,
            R::PromptRemoved,
            R::PromptTextChanged,
            R::PromptGuardrailWeakened,
        ]),
    ),
    (
        "prompts[].name",
        Coverage::Compared(&[R::PromptAdded, R::PromptRemoved]),
    ),
    (
        "prompts[].file",
        Coverage::Compared(&[R::PromptChanged, R::PromptTextChanged]),
    ),
    (
        "prompts[].description",
        Coverage::Compared(&[R::PromptDescriptionChanged]),
    ),
    (
        "tools",
        Coverage::Compared(&[
            R::ToolAdded,
            R::ToolAddedWrite,
            R::ToolAddedPii,
            R::ToolRemoved,
        ]),
    ),
    ("tools[].name", Coverage::Compared(&[R::ToolRenamed])),
    (
        "tools[].description",
        Coverage::Compared(&[R::ToolDescriptionChanged]),
    ),
    (
        "tools[].access",
        Coverage::Compared(&[R::ToolAccessWidened, R::ToolAccessNarrowed]),
    ),
    (
        "tools[].approval",
        Coverage::Compared(&[R::ToolApprovalRemoved, R::ToolApprovalAdded]),
    ),
    (
        "tools[].approvers",
        Coverage::Compared(&[R::ToolApproversAdded, R::ToolApproversRemoved]),
    ),
    (
        "tools[].timeout",
        Coverage::Compared(&[
            R::ToolTimeoutLoosened,
            R::ToolTimeoutTightened,
            R::DestructiveToolTimeoutLoosened,
        ]),
    ),
    (
        "tools[].retry",
        Coverage::Compared(&[R::ToolRetriesLoosened, R::ToolRetriesTightened]),
    ),
    (
        "tools[].retry.max_attempts",
        Coverage::Compared(&[
            R::ToolRetriesLoosened,
            R::ToolRetriesTightened,
            R::DestructiveToolRetriesLoosened,
        ]),
    ),
    (
        "tools[].retry.backoff",
        Coverage::Compared(&[
            R::ToolRetryBackoffChanged,
            R::DestructiveToolRetriesLoosened,
        ]),
    ),
    (
        "tools[].retry.initial_delay",
        Coverage::Compared(&[
            R::ToolRetryDelayShortened,
            R::ToolRetryDelayLengthened,
            R::DestructiveToolRetriesLoosened,
        ]),
    ),
    (
        "tools[].on_failure",
        Coverage::Compared(&[R::ToolOnFailureChanged]),
    ),
    (
        "knowledge",
        Coverage::Compared(&[
            R::KnowledgeAdded,
            R::KnowledgeAddedConfidential,
            R::KnowledgeRemoved,
        ]),
    ),
    ("knowledge[].name", Coverage::Compared(&[R::ItemRenamed])),
    (
        "knowledge[].uri",
        Coverage::Compared(&[R::KnowledgeChanged]),
    ),
    (
        "knowledge[].owner",
        Coverage::Compared(&[R::KnowledgeChanged]),
    ),
    (
        "knowledge[].refresh",
        Coverage::Compared(&[R::KnowledgeChanged]),
    ),
    (
        "knowledge[].classification",
        Coverage::Compared(&[
            R::KnowledgeClassificationRaised,
            R::KnowledgeClassificationLowered,
        ]),
    ),
    ("rules", Coverage::Compared(&[R::RuleAdded, R::RuleRemoved])),
    ("rules[].id", Coverage::Compared(&[R::ItemRenamed])),
    ("rules[].description", Coverage::Compared(&[R::RuleChanged])),
    (
        "rules[].action",
        Coverage::Compared(&[R::RuleActionChanged, R::RuleActionTightened]),
    ),
    ("evals", Coverage::Compared(&[R::EvalThresholdLowered])),
    (
        "evals.min_pass_rate",
        Coverage::Compared(&[R::EvalThresholdLowered, R::EvalThresholdRaised]),
    ),
    (
        "evals.suites",
        Coverage::Compared(&[
            R::EvalSuiteAdded,
            R::EvalSuiteRemoved,
            R::EvalSuiteChanged,
            R::EvalSuiteExtended,
        ]),
    ),
    ("evals.suites[].name", Coverage::Compared(&[R::ItemRenamed])),
    (
        "evals.suites[].file",
        Coverage::Compared(&[R::EvalSuiteRepointed]),
    ),
    ("monitoring", Coverage::Compared(&[R::MonitoringRemoved])),
    (
        "monitoring.alerts",
        Coverage::Compared(&[R::AlertAdded, R::AlertRemoved]),
    ),
    (
        "monitoring.alerts[].name",
        Coverage::Compared(&[R::ItemRenamed]),
    ),
    (
        "monitoring.alerts[].condition",
        Coverage::Compared(&[R::AlertChanged]),
    ),
    (
        "monitoring.alerts[].notify",
        Coverage::Compared(&[R::AlertChanged]),
    ),
    (
        "monitoring.alerts[].message",
        Coverage::Compared(&[R::AlertTextChanged]),
    ),
    (
        "monitoring.alerts[].action",
        Coverage::Compared(&[R::AlertActionChanged]),
    ),
    ("reliability", Coverage::Compared(&[R::HumanHandoffRemoved])),
    (
        "reliability.fallback",
        Coverage::Compared(&[R::ReliabilityChanged]),
    ),
    (
        "reliability.human_handoff",
        Coverage::Compared(&[R::HumanHandoffRemoved]),
    ),
    (
        "reliability.human_handoff.channel",
        Coverage::Compared(&[R::ReliabilityChanged]),
    ),
    (
        "reliability.human_handoff.when",
        Coverage::Compared(&[R::ReliabilityChanged]),
    ),
    (
        "security",
        Coverage::Compared(&[R::SecurityRemoved, R::SecurityReviewStale]),
    ),
    (
        "security.reviewed_by",
        Coverage::Compared(&[R::SecurityReviewerChanged]),
    ),
    (
        "security.reviewed_at",
        Coverage::Compared(&[R::SecurityReviewed]),
    ),
    (
        "security.data_handling",
        Coverage::Compared(&[R::DataAccessWidened]),
    ),
    (
        "security.data_handling.reads",
        Coverage::Compared(&[R::DataAccessWidened, R::DataAccessNarrowed]),
    ),
    (
        "security.data_handling.writes",
        Coverage::Compared(&[R::DataAccessWidened, R::DataAccessNarrowed]),
    ),
    (
        "security.data_handling.pii",
        Coverage::Compared(&[R::PiiEnabled, R::PiiChanged]),
    ),
    (
        "security.data_handling.retention_days",
        Coverage::Compared(&[R::RetentionRaised, R::RetentionChanged]),
    ),
    (
        "security.authentication",
        Coverage::Compared(&[R::AuthenticationChanged]),
    ),
    (
        "security.authentication.method",
        Coverage::Compared(&[R::AuthenticationChanged]),
    ),
    (
        "security.authentication.identity",
        Coverage::Compared(&[R::AuthenticationChanged]),
    ),
    (
        "security.authentication.scopes",
        Coverage::Compared(&[R::AuthenticationChanged, R::AuthenticationScopeRemoved]),
    ),
    (
        "security.authentication.credentials",
        Coverage::Compared(&[R::AuthenticationChanged]),
    ),
    (
        "security.provider_review",
        Coverage::Compared(&[R::ProviderReviewChanged]),
    ),
    (
        "security.provider_review.provider",
        Coverage::Compared(&[R::ProviderReviewChanged]),
    ),
    (
        "security.provider_review.model",
        Coverage::Compared(&[R::ProviderReviewChanged]),
    ),
    (
        "security.provider_review.hosting",
        Coverage::Compared(&[R::ProviderReviewChanged]),
    ),
    (
        "security.provider_review.data_policy",
        Coverage::Compared(&[R::ProviderReviewChanged]),
    ),
    (
        "security.compliance",
        Coverage::Compared(&[R::ComplianceAdded, R::ComplianceRemoved]),
    ),
    (
        "security.checklist",
        Coverage::Compared(&[R::ChecklistItemAdded, R::ChecklistItemRemoved]),
    ),
    (
        "security.checklist[].item",
        Coverage::Compared(&[R::ChecklistItemReworded]),
    ),
    (
        "security.checklist[].status",
        Coverage::Compared(&[R::ChecklistStatusWeakened, R::ChecklistStatusPassed]),
    ),
    (
        "security.checklist[].evidence",
        Coverage::Compared(&[
            R::ChecklistEvidenceAdded,
            R::ChecklistEvidenceChanged,
            R::ChecklistEvidenceRemoved,
        ]),
    ),
    ("docs", Coverage::Compared(&[R::DocsChanged])),
    ("docs.runbook", Coverage::Compared(&[R::DocsChanged])),
    ("docs.faq", Coverage::Compared(&[R::DocsChanged])),
];
