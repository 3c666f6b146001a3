//! The diff's rules as types: each rule's id and risk are stated once, in
//! the `rules!` table, and every change is emitted through its [`Rule`].
//!
//! The risk model (README, "Reviewing: agentctl diff"): **high** when access
//! or data reach widens or a safety, evaluation or oversight control
//! weakens; **medium** when behaviour changes; **low** for tightening and
//! words for people. Context that makes the same edit reach further is a
//! rule of its own (`destructive-tool-*`, `tool-added-pii`,
//! `knowledge-added-confidential`), so no rule has two risks.

use serde::Serialize;
use std::fmt;

/// How much a change deserves a reviewer's attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Tightening, and words for people.
    Low,
    /// Behaviour changes.
    Medium,
    /// Wider access or data reach, or a weaker control.
    High,
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` honours width and alignment (`{:<6}`).
        f.pad(match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        })
    }
}

macro_rules! rules {
    ($($variant:ident = $id:literal, $risk:ident, $doc:literal;)*) => {
        /// A diff rule: its id and risk are stated once, here.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule {
            $(#[doc = $doc] $variant,)*
        }

        impl Rule {
            /// Every rule.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The stable id reports carry.
            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            /// The risk of every change this rule reports.
            pub fn risk(self) -> Risk {
                match self { $(Rule::$variant => Risk::$risk,)* }
            }

            /// What the rule reports, in words.
            pub fn doc(self) -> &'static str {
                match self { $(Rule::$variant => $doc,)* }
            }
        }

        /// Every rule id with its level, for docs and tests; generated from
        /// the same table as [`Rule`].
        pub const RISK_RULES: &[(&str, Risk)] = &[$(($id, Risk::$risk)),*];
    };
}

rules! {
    // high: access or data reach widens
    ToolAddedWrite = "tool-added-write", High, "a new write or destructive tool";
    ToolAddedPii = "tool-added-pii", High, "a new tool in an agent that handles personal data (pii: true)";
    ToolAccessWidened = "tool-access-widened", High, "a tool's access widened (read → write → destructive)";
    DataAccessWidened = "data-access-widened", High, "the security review lists new data read or written";
    RetentionRaised = "retention-raised", High, "data kept longer, or with no limit";
    PiiEnabled = "pii-enabled", High, "the agent now handles personal data";
    ModelReachChanged = "model-reach-changed", High, "the model's (or its fallback's) provider, region or hosting changed: data goes somewhere else";
    KnowledgeAddedConfidential = "knowledge-added-confidential", High, "a confidential or restricted (or unclassified) knowledge source added";
    KnowledgeClassificationRaised = "knowledge-classification-raised", High, "a knowledge source's classification raised: the agent reads more sensitive data";
    AuthenticationChanged = "authentication-changed", High, "how the agent authenticates, as whom, with which credentials, or with more scopes";
    OutOfScopeRemoved = "out-of-scope-removed", High, "something the agent had to refuse is no longer out of scope";
    AgentAddedWrite = "agent-added-write", High, "a new agent with write or destructive tools";
    // high: a control weakens
    ToolApprovalRemoved = "tool-approval-removed", High, "a tool no longer needs human approval";
    ToolApproversAdded = "tool-approvers-added", High, "more people or groups may approve a tool's calls";
    DestructiveToolTimeoutLoosened = "destructive-tool-timeout-loosened", High, "a destructive tool's timeout raised or removed";
    DestructiveToolRetriesLoosened = "destructive-tool-retries-loosened", High, "a destructive tool retries more, or sooner";
    OwnerRemoved = "owner-removed", High, "an owner removed";
    OwnerRoleChanged = "owner-role-changed", High, "an owner's role changed (who can sign as owner)";
    OwnerAddedSigner = "owner-added-signer", High, "a production or backup owner added: they gain the owner signing role";
    OwnerEmailChanged = "owner-email-changed", High, "an owner's email (their signing principal) changed";
    EvalThresholdLowered = "eval-threshold-lowered", High, "the eval pass threshold lowered or removed";
    EvalSuiteRemoved = "eval-suite-removed", High, "an eval suite removed";
    EvalSuiteRepointed = "eval-suite-repointed", High, "an eval suite now runs another file";
    EvalSuiteChanged = "eval-suite-changed", High, "an eval suite's content changed other than by adding lines (cases or assertions removed or replaced)";
    RuleRemoved = "rule-removed", High, "a hard rule removed";
    RuleActionChanged = "rule-action-changed", High, "a rule's action weakened (deny → escalate → require-approval)";
    RuleChanged = "rule-changed", High, "a rule's wording changed: what the runtime enforces changed";
    PromptGuardrailWeakened = "prompt-guardrail-weakened", High, "a prompt's rendered text lost a negation or prohibition (never, not, must not, do not …)";
    ComplianceRemoved = "compliance-removed", High, "a compliance regime removed";
    SecurityRemoved = "security-removed", High, "the security section removed";
    ChecklistItemRemoved = "checklist-item-removed", High, "a security checklist item removed";
    ChecklistStatusWeakened = "checklist-status-weakened", High, "a checklist item's status changed to anything but pass";
    ChecklistEvidenceRemoved = "checklist-evidence-removed", High, "a checklist item's evidence removed";
    MonitoringRemoved = "monitoring-removed", High, "the monitoring section removed";
    AlertRemoved = "alert-removed", High, "an alert removed";
    AlertChanged = "alert-changed", High, "an alert's condition or recipient changed (when it fires, who is paged)";
    EscalationRemoved = "escalation-removed", High, "the escalation section removed";
    EscalationChanged = "escalation-changed", High, "the escalation channel changed, or a situation to escalate removed";
    EscalationContactRemoved = "escalation-contact-removed", High, "an escalation contact removed";
    EscalationContactChanged = "escalation-contact-changed", High, "an escalation contact's email or phone changed: who is paged";
    HumanHandoffRemoved = "human-handoff-removed", High, "the human hand-off (or the reliability section) removed";
    ManifestUnparseable = "manifest-unparseable", High, "an agent.yaml does not parse, so its changes cannot be assessed";
    PromptUnrenderable = "prompt-unrenderable", High, "a side's prompts do not render, so what the model reads cannot be compared";
    // medium: behaviour
    ModelChanged = "model-changed", Medium, "the model or its fallback model changed (same provider and region)";
    ModelParameterChanged = "model-parameter-changed", Medium, "a sampling parameter changed";
    ToolAdded = "tool-added", Medium, "a new read tool";
    ToolRenamed = "tool-renamed", Medium, "a tool renamed, nothing else changed: the runtime binds another name";
    ToolTimeoutLoosened = "tool-timeout-loosened", Medium, "a tool's timeout raised or removed";
    ToolRetriesLoosened = "tool-retries-loosened", Medium, "a tool retries more often";
    ToolRetryBackoffChanged = "tool-retry-backoff-changed", Medium, "a tool's retry backoff changed";
    ToolRetryDelayShortened = "tool-retry-delay-shortened", Medium, "a tool retries sooner";
    ToolOnFailureChanged = "tool-on-failure-changed", Medium, "what happens when a tool fails changed";
    PromptChanged = "prompt-changed", Medium, "a prompt now comes from another file";
    PromptAdded = "prompt-added", Medium, "a prompt added";
    PromptRemoved = "prompt-removed", Medium, "a prompt removed";
    PromptTextChanged = "prompt-text-changed", Medium, "a prompt's rendered text changed (its template, an included file, or a manifest value it shows)";
    KnowledgeAdded = "knowledge-added", Medium, "a public or internal knowledge source added";
    KnowledgeRemoved = "knowledge-removed", Medium, "a knowledge source removed";
    KnowledgeChanged = "knowledge-changed", Medium, "a knowledge source's location, owner, refresh, or a lowered classification";
        AlertActionChanged = "alert-action-changed", Medium, "what operators do when an alert fires changed";
    ScopeWidened = "scope-widened", Medium, "a task added to the scope, or the purpose changed";
    ReliabilityChanged = "reliability-changed", Medium, "the fallback or the human hand-off changed";
    ProviderReviewChanged = "provider-review-changed", Medium, "the AI provider review changed";
    SecurityReviewerChanged = "security-reviewer-changed", Medium, "who did the security review changed";
    SecurityReviewStale = "security-review-stale", Medium, "a security review older than a high-risk change";
    ChecklistEvidenceChanged = "checklist-evidence-changed", Medium, "a checklist item's evidence changed";
    ChecklistItemReworded = "checklist-item-reworded", Medium, "a checklist item's wording changed, its status and evidence did not";
    AgentAdded = "agent-added", Medium, "a new agent without write tools";
    AgentRemoved = "agent-removed", Medium, "an agent removed";
    // low: tightening and words
    Version = "version", Low, "the version changed";
    Description = "description", Low, "the description changed";
    OwnerAdded = "owner-added", Low, "a reviewer owner added (reviewers do not sign as owner)";
    OwnerRenamed = "owner-renamed", Low, "an owner's name changed, their email and role did not";
    ToolRemoved = "tool-removed", Low, "a tool removed";
    ToolAccessNarrowed = "tool-access-narrowed", Low, "a tool's access narrowed";
    ToolApprovalAdded = "tool-approval-added", Low, "a tool now needs human approval";
    ToolApproversRemoved = "tool-approvers-removed", Low, "fewer people or groups may approve a tool's calls";
    ToolTimeoutTightened = "tool-timeout-tightened", Low, "a tool's timeout set or lowered";
    ToolRetriesTightened = "tool-retries-tightened", Low, "a tool retries less often";
    ToolRetryDelayLengthened = "tool-retry-delay-lengthened", Low, "a tool waits longer before retrying";
    ToolDescriptionChanged = "tool-description-changed", Low, "a tool's description changed";
    PromptDescriptionChanged = "prompt-description-changed", Low, "a prompt's description changed";
    RuleAdded = "rule-added", Low, "a hard rule added";
    RuleActionTightened = "rule-action-tightened", Low, "a rule's action strengthened (require-approval → escalate → deny)";
    ItemRenamed = "item-renamed", Low, "a rule, knowledge source, eval suite, alert, contact or checklist item renamed, nothing else changed";
    KnowledgeClassificationLowered = "knowledge-classification-lowered", Low, "a knowledge source's classification lowered";
    EscalationOrderChanged = "escalation-order-changed", Low, "the same escalation contacts in another order";
    EscalationContactAdded = "escalation-contact-added", Low, "an escalation contact added";
    EscalationContactRoleChanged = "escalation-contact-role-changed", Low, "an escalation contact's role description changed";
    EscalationWhenAdded = "escalation-when-added", Low, "a situation to escalate added";
    ScopeNarrowed = "scope-narrowed", Low, "a task removed from the scope";
    OutOfScopeAdded = "out-of-scope-added", Low, "something added to what the agent must refuse";
    EvalThresholdRaised = "eval-threshold-raised", Low, "the eval pass threshold raised or set";
    EvalSuiteAdded = "eval-suite-added", Low, "an eval suite added";
    EvalSuiteExtended = "eval-suite-extended", Low, "an eval suite's file only gained lines (new cases)";
    AlertAdded = "alert-added", Low, "an alert added";
    AlertTextChanged = "alert-text-changed", Low, "an alert's message for operators changed";
    RetentionChanged = "retention-changed", Low, "data kept for less time";
    PiiChanged = "pii-changed", Low, "the agent no longer handles personal data";
    DataAccessNarrowed = "data-access-narrowed", Low, "the security review lists less data read or written";
    AuthenticationScopeRemoved = "authentication-scope-removed", Low, "a scope removed from the agent's identity";
    ComplianceAdded = "compliance-added", Low, "a compliance regime added";
    SecurityReviewed = "security-reviewed", Low, "the security review date changed";
    ChecklistItemAdded = "checklist-item-added", Low, "a checklist item added";
    ChecklistStatusPassed = "checklist-status-passed", Low, "a checklist item now passes";
    ChecklistEvidenceAdded = "checklist-evidence-added", Low, "a checklist item gained evidence";
    DocsChanged = "docs-changed", Low, "the runbook or FAQ moved or changed";
    FileChanged = "file-changed", Low, "a bundle file no prompt, suite or doc reaches changed";
}

/// One semantic change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Risk level (the rule's).
    pub risk: Risk,
    /// Stable id of the rule that set the risk, e.g. `tool-access-widened`.
    pub rule: &'static str,
    /// Where, as a dotted path (`tools.helpdesk.add_tag.approval`).
    pub path: String,
    /// What happened, in words.
    pub summary: String,
    /// Value before, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Value after, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl Change {
    /// A change reported by `rule`, at the rule's risk.
    pub fn new(
        rule: Rule,
        path: impl Into<String>,
        summary: impl Into<String>,
        before: Option<String>,
        after: Option<String>,
    ) -> Change {
        Change {
            risk: rule.risk(),
            rule: rule.id(),
            path: path.into(),
            summary: summary.into(),
            before,
            after,
        }
    }
}
