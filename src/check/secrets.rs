//! Credential-looking strings in bundle files and agentctl.toml.
//!
//! A bundle is copied into every release and every clone of the repository,
//! so a credential that lands in one is leaked for good. Every detector is a
//! row of [`TABLE`]: the well-known token shapes, PEM blocks, JWTs,
//! `Authorization` headers, credentials in URLs, and `password:`/`*_API_KEY=`
//! style assignments whose value is a literal rather than a placeholder or a
//! reference. Rules run over a file's whole text, so a secret may span lines
//! (a PEM block); every finding carries the secret's span and
//! [`redact_text`] masks every line of it, so no output format shows more
//! than the first four characters of a secret.
//!
//! A deliberate false positive is marked with an inline comment on the same
//! line or the line above: `agentctl-allow-secret: <reason>`. It is then a
//! `secret-allowed` warning that names the reason (without a reason it is
//! still an error).

use crate::finding::{Finding, Position, Redaction, Severity};
use regex::{Regex, RegexSet};
use std::borrow::Cow;
use std::path::Path;
use std::sync::LazyLock;

/// How a match is judged before it becomes a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A token with a distinctive format: only placeholders are dropped.
    Token,
    /// A value assigned to a credential-sounding name: placeholders,
    /// references and values that do not look like a credential are dropped.
    Assignment,
}

/// One detector.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Unique id of this detector (named in messages and allow comments).
    pub id: &'static str,
    /// The stable finding rule id (a family of detectors, for SARIF).
    pub finding: &'static str,
    /// What was found, as the message says it.
    pub kind: &'static str,
    /// The regex. The secret is the first capture group that took part in
    /// the match, or the whole match when there is none.
    pub pattern: &'static str,
    /// How a match is judged.
    pub shape: Shape,
    /// What the rule catches.
    pub description: &'static str,
    /// A synthetic example, in pieces so no credential scanner flags this
    /// source file; the pieces joined must be found by this rule. The first
    /// piece is the fixed part of the format (tests randomise the rest).
    pub example: &'static [&'static str],
}

/// The value of an assignment: double-quoted, single-quoted or bare.
macro_rules! value {
    () => {
        r#"(?:"([^"\n]{1,300})"|'([^'\n]{1,300})'|([^\s"',;]{1,300}))"#
    };
}

/// `name: value`, `name = value`, `"name": "value"`, `name := value`.
macro_rules! assign {
    () => {
        r#"["']?[ \t]*(?::=|=>|[:=])[ \t]*"#
    };
}

const fn rule(
    id: &'static str,
    finding: &'static str,
    kind: &'static str,
    pattern: &'static str,
    description: &'static str,
    example: &'static [&'static str],
) -> Rule {
    Rule {
        id,
        finding,
        kind,
        pattern,
        shape: Shape::Token,
        description,
        example,
    }
}

const fn assignment(mut r: Rule) -> Rule {
    r.shape = Shape::Assignment;
    r
}

const PRIVATE_KEY: &str = "secret-private-key";
const CLOUD: &str = "secret-cloud-key";
const PROVIDER: &str = "secret-provider-key";
const VCS: &str = "secret-vcs-token";
const REGISTRY: &str = "secret-registry-token";
const CHAT: &str = "secret-chat-token";
const PAYMENT: &str = "secret-payment-key";
const SAAS: &str = "secret-saas-token";
const JWT: &str = "secret-jwt";
const AUTH_HEADER: &str = "secret-auth-header";
const URL: &str = "secret-url-credential";
const ASSIGNMENT: &str = "secret-assignment";

/// The finding rule id of an allowed secret.
pub const ALLOWED: &str = "secret-allowed";

/// The comment that marks a deliberate false positive.
pub const ALLOW_MARKER: &str = "agentctl-allow-secret:";

/// Every detector, most specific first: where two overlap, the earlier wins.
pub const TABLE: &[Rule] = &[
    rule(
        "gcp-service-account-key",
        PRIVATE_KEY,
        "a GCP service-account private key",
        r#""private_key"[ \t]*:[ \t]*"(-----BEGIN[^"]{20,})""#,
        "the `private_key` of a GCP service-account JSON key file",
        &[
            r#""private_key": "-----BEGIN PRIVATE "#,
            r#"KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n""#,
        ],
    ),
    rule(
        "pem-private-key",
        PRIVATE_KEY,
        "a private key block",
        r"(?s)-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\z)",
        "a PEM private key of any kind (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP), masked from BEGIN to END",
        &[
            "-----BEGIN RSA PRIVATE ",
            "KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----",
        ],
    ),
    rule(
        "anthropic-api-key",
        PROVIDER,
        "an Anthropic API key",
        r"\b(sk-ant-(?:api|admin|sid)?[0-9]{0,2}-?[A-Za-z0-9_\-]{20,})",
        "Anthropic API and admin keys (`sk-ant-api03-…`)",
        &["sk-ant-", "api03-Zq4mR8vT2nW6yB1cD5fG9hJ3kL7pX0sA"],
    ),
    rule(
        "openrouter-api-key",
        PROVIDER,
        "an OpenRouter API key",
        r"\b(sk-or-(?:v1-)?[A-Za-z0-9_\-]{20,})",
        "OpenRouter keys (`sk-or-v1-…`)",
        &["sk-or-", "v1-3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e"],
    ),
    rule(
        "openai-api-key",
        PROVIDER,
        "an OpenAI API key",
        r"\b(sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{20,}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|sk-[A-Za-z0-9]{32,})",
        "OpenAI user, project (`sk-proj-`), service-account (`sk-svcacct-`) and admin keys",
        &["sk-proj-", "Xa1Yb2Zc3Wd4Ve5Uf6Tg7Sh8Ri9Qj0"],
    ),
    rule(
        "google-api-key",
        PROVIDER,
        "a Google API key (Google AI / Gemini)",
        r"\b(AIza[0-9A-Za-z_\-]{35})",
        "Google API keys, as used for Gemini and Google AI Studio (`AIza…`)",
        &["AIza", "SyD3m9Qw7Er5Ty1Ui8Op2As4Df6Gh0Jk_Lz"],
    ),
    rule(
        "huggingface-token",
        PROVIDER,
        "a Hugging Face token",
        r"\b((?:hf_|api_org_)[A-Za-z0-9]{30,})",
        "Hugging Face user and organisation tokens (`hf_…`)",
        &["hf_", "QmWnEbRvTcYxUzIaOsPdLfKgJhMkNlBq"],
    ),
    rule(
        "groq-api-key",
        PROVIDER,
        "a Groq API key",
        r"\b(gsk_[A-Za-z0-9]{40,})",
        "Groq keys (`gsk_…`)",
        &["gsk_", "Lm3Nb4Vc5Xz6As7Dq8Wf9Eg0Rh1Tj2Yk3Ul4Ip5Oo6"],
    ),
    rule(
        "replicate-api-token",
        PROVIDER,
        "a Replicate API token",
        r"\b(r8_[A-Za-z0-9]{30,})",
        "Replicate tokens (`r8_…`)",
        &["r8_", "Wq2Er4Ty6Ui8Op0As1Df3Gh5Jk7Lz9Xc2Vb"],
    ),
    rule(
        "xai-api-key",
        PROVIDER,
        "an xAI API key",
        r"\b(xai-[A-Za-z0-9]{40,})",
        "xAI (Grok) keys (`xai-…`)",
        &["xai-", "Pq9Wo8Ei7Ru6Ty5Al4Sk3Dj2Fh1Gz0Xm9Cn8Vb7Nq6Ma5Lz4"],
    ),
    rule(
        "perplexity-api-key",
        PROVIDER,
        "a Perplexity API key",
        r"\b(pplx-[A-Za-z0-9]{32,})",
        "Perplexity keys (`pplx-…`)",
        &["pplx-", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"],
    ),
    rule(
        "langsmith-api-key",
        PROVIDER,
        "a LangSmith API key",
        r"\b(lsv2_(?:pt|sk)_[A-Za-z0-9]{32}_[A-Za-z0-9]{10}|ls__[A-Za-z0-9]{32})",
        "LangSmith personal and service keys (`lsv2_pt_…`, `lsv2_sk_…`)",
        &["lsv2_pt_", "4e1a9c7b3d5f2e8a6c0b4d9f1e3a7c5b_2d8f6a4c1e"],
    ),
    rule(
        "pinecone-api-key",
        PROVIDER,
        "a Pinecone API key",
        r"\b(pcsk_[A-Za-z0-9]{4,}_[A-Za-z0-9]{40,})",
        "Pinecone keys (`pcsk_…`)",
        &[
            "pcsk_",
            "3xYz9_Aq1Sw2De3Fr4Gt5Hy6Ju7Ki8Lo9Pa0Zs1Xd2Cf3Vg4Bh5Nj6",
        ],
    ),
    assignment(rule(
        "pinecone-legacy-key",
        PROVIDER,
        "a Pinecone API key",
        r#"(?i)\bpinecone[a-z0-9_\-]*["']?[ \t]*[:=][ \t]*["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"#,
        "legacy Pinecone keys (a UUID) assigned to a `pinecone…` name",
        &["PINECONE_API_KEY=", "5d2c8a1e-7b3f-4e9a-b6c1-0f8d2e4a6c9b"],
    )),
    assignment(rule(
        "cohere-api-key",
        PROVIDER,
        "a Cohere API key",
        r#"(?i)\b(?:cohere[a-z0-9_\-]*|co_api_key)["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9]{40})\b"#,
        "Cohere keys (40 characters) assigned to a `cohere…`/`co_…` name",
        &[
            "COHERE_API_KEY=",
            "Tq8Wz3Rk5Ym1Np7Xb4Vc9Ls2Hd6Jf0Ga3Ke8Uo5I",
        ],
    )),
    assignment(rule(
        "mistral-api-key",
        PROVIDER,
        "a Mistral API key",
        r#"(?i)\bmistral[a-z0-9_\-]*["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9]{32})\b"#,
        "Mistral keys (32 characters) assigned to a `mistral…` name",
        &["MISTRAL_API_KEY=", "pL4kJ7hG2fD9sA1qW6eR3tY8uI0oP5zX"],
    )),
    rule(
        "aws-access-key-id",
        CLOUD,
        "an AWS access key id",
        r"\b((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|A3T[A-Z0-9])[0-9A-Z]{16})\b",
        "AWS access key ids (`AKIA…`, `ASIA…`)",
        &["AKIA", "Q3VZ7RT2MX9PLK4W"],
    ),
    assignment(rule(
        "aws-secret-access-key",
        CLOUD,
        "an AWS secret access key",
        r#"(?im)\baws[_\-.]?(?:secret|sec)[_\-.]?(?:access[_\-.]?)?key(?:[_\-.]?id)?\b["']?[ \t]*(?::=|=>|[:=])[ \t]*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        "AWS secret access keys (40 characters) assigned to `aws_secret_access_key` and the like",
        &[
            "aws_secret_access_key = ",
            "wJa7Rx9Tq2Lm4Np6Vb8Zc1Xd3Fg5Hj7Kl9Mn0PqZ",
        ],
    )),
    rule(
        "azure-storage-connection-string",
        CLOUD,
        "an Azure connection string key",
        r"(?i)(?:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{30,}={0,2})",
        "the key of an Azure Storage, Service Bus or Event Hubs connection string",
        &[
            "DefaultEndpointsProtocol=https;AccountName=agentdata;AccountKey=",
            "q8Zr2Wt4Yv6Xu8Ws0Uq2Ro4Pm6Nk8Li0Jg2He4Fc6Da8Bz0Ax2Cv4Bn6Mm8Ll==;EndpointSuffix=core.windows.net",
        ],
    ),
    rule(
        "azure-sas-token",
        CLOUD,
        "an Azure SAS token",
        r"(?i)\bsv=\d{4}-\d{2}-\d{2}&[^\s\x22'<>]*?\bsig=([A-Za-z0-9%+/]{30,}(?:%3D|=){0,2})",
        "Azure shared access signatures (`sv=…&sig=…`)",
        &[
            "https://agentdata.blob.core.windows.net/docs?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&sig=",
            "Xq3Rw5Tz7Yb9Vc1Nd3Mf5Lg7Kh9Jj1Hk3Gl5Fm7En9Dp1%3D",
        ],
    ),
    rule(
        "github-token",
        VCS,
        "a GitHub token",
        r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,})",
        "GitHub classic, OAuth, user-to-server, server-to-server and refresh tokens",
        &["ghp_", "Rk4Lm7Np0Qs3Tv6Wx9Yz2Ab5Cd8Ef1Gh4Ij7"],
    ),
    rule(
        "github-fine-grained-token",
        VCS,
        "a GitHub fine-grained token",
        r"\b(github_pat_[A-Za-z0-9_]{22,})",
        "GitHub fine-grained personal access tokens (`github_pat_…`)",
        &[
            "github_pat_",
            "11ABCDE2F0hJkLmNpQrStUv_WxYz0123456789abcdefGHIJKLmnop",
        ],
    ),
    rule(
        "gitlab-token",
        VCS,
        "a GitLab token",
        r"\b(gl(?:pat|dt|ptt|rt|cbt|oas|ft|imt|agent|soat)-[A-Za-z0-9_\-]{20,})",
        "GitLab personal, deploy, trigger, runner and other tokens (`glpat-…`)",
        &["glpat-", "Xy7Wv5Ut3Sr1Qp9On7Ml"],
    ),
    rule(
        "npm-token",
        REGISTRY,
        "an npm token",
        r"\b(npm_[A-Za-z0-9]{36})\b",
        "npm access tokens (`npm_…`)",
        &["npm_", "Hx8Jy6Kz4Lw2Mv0Nu8Ot6Ps4Qr2Rq0Sp8To6"],
    ),
    assignment(rule(
        "npmrc-auth-token",
        REGISTRY,
        "an npm registry auth token",
        r#"(?i)_auth(?:Token)?[ \t]*=[ \t]*["']?([A-Za-z0-9_\-.+/=]{16,})"#,
        "`_authToken=` / `_auth=` lines of an .npmrc",
        &[
            "//registry.npmjs.org/:_authToken=",
            "a7c3e9f1-2b4d-4f6a-8c0e-1d3f5b7a9c2e",
        ],
    )),
    rule(
        "pypi-token",
        REGISTRY,
        "a PyPI token",
        r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{40,})",
        "PyPI API tokens (`pypi-AgEIcHlwaS5vcmc…`)",
        &[
            "pypi-AgEIcHlwaS5vcmc",
            "CJGQ4ZTk2LWJhNzItNDc3Zi05YzQ1LTg2ZDUxYjE3ZWQ0ZgACKlsz",
        ],
    ),
    rule(
        "slack-token",
        CHAT,
        "a Slack token",
        r"\b(xox[abposre]-[A-Za-z0-9\-]{10,}|xapp-\d-[A-Za-z0-9\-]{20,})",
        "Slack bot, user, app and configuration tokens (`xoxb-…`, `xapp-…`)",
        &["xoxb-", "2048193746-5647382910-Qm7Rn2Sx8Tz4Uv1Wy6Xa3Bc"],
    ),
    rule(
        "slack-webhook",
        CHAT,
        "a Slack webhook URL",
        r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]{20,})",
        "Slack incoming webhook URLs",
        &[
            "https://hooks.slack.com/services/",
            "T0A1B2C3D/B4E5F6G7H/Mn8Op9Qr0St1Uv2Wx3Yz4Ab5",
        ],
    ),
    rule(
        "discord-webhook",
        CHAT,
        "a Discord webhook URL",
        r"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{5,}/[A-Za-z0-9_\-]{30,})",
        "Discord webhook URLs",
        &[
            "https://discord.com/api/webhooks/",
            "112233445566778899/Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3_-Za",
        ],
    ),
    rule(
        "stripe-key",
        PAYMENT,
        "a Stripe secret key",
        r"\b((?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}|whsec_[A-Za-z0-9]{24,})",
        "Stripe secret and restricted keys (live and test) and webhook signing secrets",
        &["sk_live_", "51Hq2Wr4Et6Yu8Io0Pa2Sd4Fg6Hj8Kl"],
    ),
    rule(
        "sendgrid-api-key",
        SAAS,
        "a SendGrid API key",
        r"\b(SG\.[A-Za-z0-9_\-]{20,24}\.[A-Za-z0-9_\-]{39,50})",
        "SendGrid keys (`SG.….…`)",
        &[
            "SG.",
            "Qw3Er5Ty7Ui9Op1As3Df5G.hJ7kL9zX1cV3bN5mQ7wE9rT1yU3iO5pA7sD9fG1hJ3",
        ],
    ),
    rule(
        "twilio-api-key",
        SAAS,
        "a Twilio API key",
        r"\b(SK[0-9a-f]{32})\b",
        "Twilio API key SIDs (`SK` and 32 hex digits)",
        &["SK", "3f8a2c6e1b9d4f7a0c5e8b2d6f1a4c9e"],
    ),
    assignment(rule(
        "twilio-auth-token",
        SAAS,
        "a Twilio auth token",
        r#"(?i)\btwilio[a-z0-9_\-]*["']?[ \t]*[:=][ \t]*["']?([0-9a-f]{32})\b"#,
        "Twilio auth tokens (32 hex digits) assigned to a `twilio…` name",
        &["TWILIO_AUTH_TOKEN=", "9e4c1a7f3b8d2e6a0c5f9b1d4e8a2c7f"],
    )),
    rule(
        "jwt",
        JWT,
        "a JSON Web Token",
        r"\b(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})",
        "signed JWTs (`eyJ….eyJ….…`)",
        &[
            "eyJhbGciOiJIUzI1NiJ9.eyJ",
            "zdWIiOiJhZ2VudC0xIn0.Zk3Lq8Wm2Rn7Tp4Vs9Xu1Yb6Cd0Ef5Gh",
        ],
    ),
    assignment(rule(
        "authorization-header",
        AUTH_HEADER,
        "an Authorization header credential",
        r#"(?i)\b(?:authorization|proxy-authorization)["']?[ \t]*[:=][ \t]*["']?(?:bearer|basic|token|bot|apikey|digest)[ \t]+([A-Za-z0-9._~+/=\-]{8,})"#,
        "`Authorization: Bearer …` / `Basic …` / `token …` header values",
        &["Authorization: Bearer ", "d8Fq2Lm7Np3Rs9Tv4Wx6Yz1A"],
    )),
    assignment(rule(
        "bearer-token",
        AUTH_HEADER,
        "a bearer token",
        r"\b[Bb]earer[ \t]+([A-Za-z0-9._~+/\-]{24,}=*)",
        "a long `Bearer …` credential outside an Authorization header (curl -H, code)",
        &["-H 'x-auth: Bearer ", "Qz7Wx3Ec9Rv5Tb1Yn6Um2Ik8Ol4P'"],
    )),
    assignment(rule(
        "url-credentials",
        URL,
        "credentials in a URL",
        r#"\b[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s:/@"'<>]{1,100}:([^\s@/"'<>]{3,200})@[A-Za-z0-9\[]"#,
        "a password in a URL's user-info (`scheme://user:password@host`)",
        &["postgres://agent:", "Vq7!mZ2kR@db.internal:5432/app"],
    )),
    assignment(rule(
        "generic-assignment",
        ASSIGNMENT,
        "a credential assigned a literal value",
        concat!(
            r"(?i)\b[A-Za-z0-9_.\-]*?(?:api[_\-]?key|apikey|(?:access|secret|private|signing|encryption|master|auth|client|service|account|admin|app)[_\-]?key|(?:auth|access|refresh|bearer|api|bot|session|personal|id)[_\-]?token|token|secret|client[_\-]?secret|password|passwd|passphrase|pwd|credentials?)\b",
            assign!(),
            value!()
        ),
        "a `*_API_KEY`, `*_TOKEN`, `*_SECRET`, `password`, `passwd`, `client_secret` … name assigned a literal that is not a placeholder or a reference",
        &["db_password: ", "\"Tr0ub4dor&3-horse\""],
    )),
];

struct Compiled {
    set: RegexSet,
    regexes: Vec<Regex>,
}

static COMPILED: LazyLock<Compiled> = LazyLock::new(|| Compiled {
    set: RegexSet::new(TABLE.iter().map(|r| r.pattern))
        .expect("the rule table's patterns are valid"),
    regexes: TABLE
        .iter()
        .map(|r| Regex::new(r.pattern).expect("the rule table's patterns are valid"))
        .collect(),
});

/// Finding rule ids and summaries, for docs and SARIF.
pub const RULES: &[(&str, &str)] = &[
    (
        PRIVATE_KEY,
        "a private key block (PEM of any kind, a GCP service-account key) in a bundle file",
    ),
    (
        CLOUD,
        "a cloud credential: AWS access key id or secret access key, Azure connection string key or SAS token",
    ),
    (
        PROVIDER,
        "a model or AI provider API key: OpenAI, Anthropic, Google AI, Hugging Face, Groq, Replicate, xAI, Perplexity, OpenRouter, Cohere, Mistral, LangSmith, Pinecone",
    ),
    (VCS, "a GitHub (classic or fine-grained) or GitLab token"),
    (REGISTRY, "an npm or PyPI token"),
    (CHAT, "a Slack token or webhook, or a Discord webhook"),
    (PAYMENT, "a Stripe secret key or webhook secret"),
    (SAAS, "a SendGrid API key or Twilio API key / auth token"),
    (JWT, "a signed JSON Web Token"),
    (
        AUTH_HEADER,
        "an Authorization header (Bearer, Basic, token) with a literal credential",
    ),
    (URL, "a password in a URL (`scheme://user:password@host`)"),
    (
        ASSIGNMENT,
        "a password/api_key/*_TOKEN/*_SECRET-style assignment with a literal value",
    ),
    (
        ALLOWED,
        "a secret-shaped value marked `agentctl-allow-secret: <reason>` (reported, not blocking)",
    ),
];

/// Whether a finding is one of this module's (a secret, allowed or not).
pub fn is_secret_finding(f: &Finding) -> bool {
    f.rule == ALLOWED || TABLE.iter().any(|r| r.finding == f.rule)
}

/// One secret found in a text: where it is and which rule found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The detector.
    pub rule: &'static Rule,
    /// Byte range of the secret in the text.
    pub start: usize,
    /// End of the byte range.
    pub end: usize,
    /// The reason of an `agentctl-allow-secret:` comment covering it.
    pub allowed: Option<String>,
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Rule {}

/// Every secret in `text`, in order, without overlaps.
pub fn hits(text: &str) -> Vec<Hit> {
    let c = &*COMPILED;
    let mut out: Vec<Hit> = Vec::new();
    for i in c.set.matches(text).iter() {
        let rule = &TABLE[i];
        for caps in c.regexes[i].captures_iter(text) {
            let Some(m) = (1..caps.len())
                .find_map(|g| caps.get(g))
                .or_else(|| caps.get(0))
            else {
                continue;
            };
            let secret = m.as_str();
            let assigned = rule.shape == Shape::Assignment;
            if is_placeholder(secret, assigned)
                || (assigned && !looks_secret(secret, rule.finding == URL))
            {
                continue;
            }
            if out.iter().any(|h| m.start() < h.end && h.start < m.end()) {
                continue;
            }
            out.push(Hit {
                rule,
                start: m.start(),
                end: m.end(),
                allowed: None,
            });
        }
    }
    out.sort_by_key(|h| h.start);
    for h in &mut out {
        h.allowed = allow_reason(text, h.start);
    }
    out
}

/// The reason of an allow comment on the secret's line or the line above.
fn allow_reason(text: &str, at: usize) -> Option<String> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let prev_start = text[..line_start.saturating_sub(1)]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let candidates = [
        &text[line_start..line_end],
        if line_start > 0 {
            &text[prev_start..line_start - 1]
        } else {
            ""
        },
    ];
    for line in candidates {
        if let Some(i) = line.find(ALLOW_MARKER) {
            let reason = line[i + ALLOW_MARKER.len()..]
                .trim()
                .trim_end_matches("-->")
                .trim_end_matches("*/")
                .trim_end_matches("#}")
                .trim();
            if !reason.is_empty() {
                let reason: String = reason.chars().take(200).collect();
                return Some(redact_text(&reason).into_owned());
            }
        }
    }
    None
}

/// Values that stand for a credential rather than being one, judged by the
/// whole value.
pub fn is_placeholder(value: &str, assigned: bool) -> bool {
    static FILLER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[A-Za-z0-9_\-]{0,20}?[-_]?(?:[xX*.•…#]{3,}|0{8,})[-_xX*.•…#0]*$")
            .expect("valid")
    });
    static WORDY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^(?:your|my|the|insert|enter|put|replace|paste|add|set|some|fake|dummy|sample|test|example)[-_ ]?[a-z_ \-]*$")
            .expect("valid")
    });
    // `xoxb-your-token`, `sk-your-key-here`: a token prefix and lowercase words.
    static WORDY_TAIL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[a-z0-9]{1,12}[-_](?:[a-z0-9]{1,12}[-_])?(?:your|my|insert|enter|replace|paste|put|fake|dummy|sample|example|test)[-_ ][a-z_ \-]*$")
            .expect("valid")
    });
    static ENV_NAME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\$?[A-Z][A-Z0-9_]*$").expect("valid"));
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    let wrapped = |a: &str, b: &str| v.starts_with(a) && v.ends_with(b);
    wrapped("${", "}")
        || wrapped("{{", "}}")
        || wrapped("{%", "%}")
        || wrapped("<", ">")
        || wrapped("%(", ")s")
        || wrapped("[", "]")
        || wrapped("(", ")")
        || lower.starts_with("[redacted")
        || lower.starts_with("${{")
        || (assigned && ENV_NAME.is_match(v))
        || FILLER.is_match(v)
        || WORDY.is_match(v)
        || WORDY_TAIL.is_match(v)
        || v.chars().all(|c| !c.is_alphanumeric())
        || [
            "vault:",
            "env:",
            "secret:",
            "secrets:",
            "ref+",
            "arn:",
            "projects/",
            "op://",
            "sm://",
            "awssm:",
            "keyvault:",
            "azure-keyvault:",
            "gcp-secret:",
            "file:",
            "!vault",
            "!secret",
            "process.env",
            "os.environ",
            "os.getenv",
            "env.",
            "secrets.",
            "vars.",
            "var.",
            "getenv(",
            "${",
            "{{",
            "$(",
        ]
        .iter()
        .any(|p| lower.starts_with(p))
        || [
            "changeme",
            "change-me",
            "change_me",
            "changeit",
            "placeholder",
            "redacted",
            "required",
            "optional",
            "none",
            "null",
            "nil",
            "true",
            "false",
            "todo",
            "tbd",
            "fill-me",
            "fill_me",
            "fillme",
            "replace-me",
            "replaceme",
            "replace_me",
            "secret",
            "password",
            "passwd",
            "pass",
            "token",
            "apikey",
            "api_key",
            "api-key",
            "your-key",
            "string",
            "str",
            "env",
            "undefined",
            "empty",
            "hidden",
            "masked",
            "sk-...",
        ]
        .contains(&lower.as_str())
}

/// Whether an assigned literal looks like a credential: long enough, and
/// more than one kind of character (or long); a password in a URL only
/// needs four characters.
fn looks_secret(value: &str, in_url: bool) -> bool {
    let n = value.chars().count();
    if in_url {
        return n >= 4;
    }
    if n < 8 {
        return false;
    }
    let classes = [
        value.chars().any(|c| c.is_ascii_lowercase()),
        value.chars().any(|c| c.is_ascii_uppercase()),
        value.chars().any(|c| c.is_ascii_digit()),
        value.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if value.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    // A path or a URL is where a credential lives, not the credential.
    if value.starts_with('/') || value.starts_with("./") || value.contains("://") {
        return false;
    }
    classes >= 2 || n >= 16
}

/// How a secret is shown: its first four characters (printable only) and a length.
pub fn redact(secret: &str) -> String {
    let prefix: String = secret
        .chars()
        .take(4)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect();
    format!("{prefix}…[redacted, {} chars]", secret.chars().count())
}

/// Scan one file's text.
pub fn scan(text: &str, file: &Path) -> Vec<Finding> {
    let found = hits(text);
    if found.is_empty() {
        return Vec::new();
    }
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut out = Vec::new();
    for h in found {
        let line_idx = starts.partition_point(|&s| s <= h.start) - 1;
        let line_start = starts[line_idx];
        let line_end = text[h.start..]
            .find('\n')
            .map_or(text.len(), |i| h.start + i);
        let column = text[line_start..h.start].chars().count() + 1;
        let secret = &text[h.start..h.end];
        let on_line = text[h.start..h.end.min(line_end)].chars().count();
        let position = Position {
            line: u32::try_from(line_idx + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        };
        let mut f = match &h.allowed {
            Some(reason) => Finding {
                severity: Severity::Warning,
                ..Finding::error(
                    ALLOWED,
                    file,
                    format!(
                        "{} ({}) allowed by an inline comment: {reason}: {}",
                        h.rule.kind,
                        h.rule.id,
                        redact(secret)
                    ),
                )
            }
            .hint("allowed secrets still ship with the bundle: make sure it is not a live credential"),
            None => Finding::error(
                h.rule.finding,
                file,
                format!("{} ({}): {}", h.rule.kind, h.rule.id, redact(secret)),
            )
            .hint(format!(
                "remove it, rotate it (it is in git history now), and reference it from your secret store instead (e.g. `credentials: vault:secret/agents/NAME`); a deliberate false positive takes a comment on its line or the line above: `{ALLOW_MARKER} <reason>`"
            )),
        }
        .at(Some(position));
        f.redaction = Some(Redaction {
            column: position.column,
            length: u32::try_from(on_line).unwrap_or(u32::MAX),
        });
        out.push(f);
    }
    out
}

/// `text` with every detected secret (allowed ones included) replaced by
/// `[REDACTED]` on every line it spans; line breaks are kept so line
/// numbers stay valid.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let found = hits(text);
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for h in found {
        out.push_str(&text[at..h.start]);
        let mut first = true;
        for piece in text[h.start..h.end].split('\n') {
            if !first {
                out.push('\n');
            }
            first = false;
            let carriage = piece.ends_with('\r');
            if !piece.trim().is_empty() {
                out.push_str("[REDACTED]");
            }
            if carriage {
                out.push('\r');
            }
        }
        at = h.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Largest file scanned (a larger bundle file is refused by `validate` anyway).
pub const MAX_SCAN_BYTES: u64 = 8 * 1024 * 1024;

/// Scan one file of any content: bytes that are not UTF-8 (binary files,
/// NUL bytes) are scanned as replacement characters; files over
/// [`MAX_SCAN_BYTES`] are not read.
pub fn scan_file(path: &Path) -> Vec<Finding> {
    let Ok(bytes) = crate::files::read_no_follow(path, MAX_SCAN_BYTES) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    scan(&text, path)
}

/// Scan every file of a bundle directory, named by the manifest or not.
pub fn scan_dir(dir: &Path) -> Vec<Finding> {
    let Ok(files) = crate::digest::list_files(dir) else {
        return Vec::new();
    };
    files.iter().flat_map(|(_, full)| scan_file(full)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_finds_its_example_and_names_its_kind() {
        let wrong: Vec<String> = TABLE
            .iter()
            .filter_map(|r| {
                let found: Vec<&str> = hits(&r.example.concat())
                    .iter()
                    .map(|h| h.rule.id)
                    .collect();
                (found != [r.id]).then(|| format!("{}: {found:?}", r.id))
            })
            .collect();
        assert!(
            wrong.is_empty(),
            "rules that miss their example: {wrong:#?}"
        );
        for r in TABLE {
            let example = r.example.concat();
            let found = hits(&example);
            let f = scan(&example, Path::new("f"));
            assert_eq!(f[0].rule, r.finding, "{}", r.id);
            assert!(f[0].message.starts_with(r.kind), "{}", f[0].message);
            let masked = redact_text(&example);
            let secret = &example[found[0].start..found[0].end];
            for w in secret.as_bytes().windows(8) {
                let w = String::from_utf8_lossy(w);
                assert!(
                    !masked.contains(w.as_ref()),
                    "{} leaks {w} in {masked}",
                    r.id
                );
                assert!(!f[0].message.contains(w.as_ref()), "{}", f[0].message);
            }
        }
    }

    #[test]
    fn rule_ids_are_unique_and_families_documented() {
        let mut ids: Vec<&str> = TABLE.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), TABLE.len());
        for r in TABLE {
            assert!(
                RULES.iter().any(|(id, _)| *id == r.finding),
                "{}",
                r.finding
            );
        }
    }

    #[test]
    fn finds_and_redacts_known_shapes() {
        let text = "ok line\naws: AKIAIOSFODNN7EXAMPLF\nkey = sk-ant-api03-abcdefghijklmnopqrstuvwxyz\n-----BEGIN OPENSSH PRIVATE KEY-----\npassword: hunter22secret\n";
        let f = scan(text, Path::new("p.md"));
        let rules: Vec<_> = f
            .iter()
            .map(|f| (f.rule, f.position.map(|p| p.line)))
            .collect();
        // The unterminated PEM block runs to the end of the file.
        assert_eq!(
            rules,
            [
                ("secret-cloud-key", Some(2)),
                ("secret-provider-key", Some(3)),
                ("secret-private-key", Some(4)),
            ]
        );
        assert_eq!(f[1].position.map(|p| p.column), Some(7));
        let masked = redact_text(text);
        assert!(!masked.contains("hunter22secret"), "{masked}");
    }

    #[test]
    fn openrouter_is_not_openai() {
        let f = scan(
            &["k: sk-or-", "v1-0123456789abcdef0123456789abcdef"].concat(),
            Path::new("f"),
        );
        assert!(
            f[0].message.starts_with("an OpenRouter API key"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn pem_blocks_are_masked_on_every_line() {
        let text = "a: 1\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\nb: 2\n";
        let masked = redact_text(text);
        assert_eq!(
            masked,
            "a: 1\n[REDACTED]\n[REDACTED]\n[REDACTED]\n[REDACTED]\nb: 2\n"
        );
    }

    #[test]
    fn quoted_values_are_masked_to_the_closing_quote() {
        let masked = redact_text("password: \"correct horse battery staple\"\n");
        assert_eq!(masked, "password: \"[REDACTED]\"\n");
    }

    #[test]
    fn references_and_placeholders_are_not_secrets() {
        for text in [
            "credentials: vault:secret/agents/x",
            "api_key: ${API_KEY}",
            "password: <your password>",
            "token: FILL-ME",
            "api_key: {{ vars.key }}",
            "OPENAI_API_KEY=sk-...",
            "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxx",
            "password: changeme",
            "api_key: xxxxxxxxxxxx",
            "token: ${{ secrets.GITHUB_TOKEN }}",
            "api_key: OPENAI_API_KEY",
            "Never print the API key or the password to the user.",
            "max_tokens: 4096",
            "password: \"[REDACTED]\"",
        ] {
            assert!(hits(text).is_empty(), "{text}: {:?}", hits(text));
        }
    }

    #[test]
    fn a_word_inside_a_value_does_not_make_it_a_placeholder() {
        for text in [
            "password: example-Pa55word!",
            "api_key: my9Secret_example_key",
            "token = \"redacted-but-not-really-7Hq2\"",
        ] {
            assert_eq!(hits(text).len(), 1, "{text}");
        }
    }

    #[test]
    fn allow_comment_with_reason_makes_a_warning() {
        let text = "# agentctl-allow-secret: documented test vector\npassword: hunter22secret\npassword: an0ther-one # agentctl-allow-secret:\n";
        let f = scan(text, Path::new("f"));
        assert_eq!(f[0].rule, ALLOWED);
        assert!(
            f[0].message.contains("documented test vector"),
            "{}",
            f[0].message
        );
        assert_eq!(
            f[1].rule, ASSIGNMENT,
            "an allow comment without a reason allows nothing"
        );
    }
}
