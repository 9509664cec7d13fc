//! HAR import: finds the OAuth/OIDC exchanges in a browser's HAR and replays them through the
//! SAME step and check functions a live run uses (`engine`, `oidc`, `lifecycle`, `checkup`'s
//! judges), so the diagram, the inspector and the findings of an imported run are those of a
//! live one. Where a live check needs what the app kept in memory (the pending login), it is
//! rebuilt here from what the HAR shows (the authorization request, the token request). PURE.

use crate::flow::checkup::{judge_no_store, judge_rotation, judge_s256, Verdict};
use crate::flow::engine::{self, mask_callback_query, mask_query, TokenCall};
use crate::flow::lifecycle;
use crate::flow::oidc::{self, IdTokenCheck, SignatureCheck};
use crate::flow::server_check::{self, Proof};
use crate::flow::timeline::{
    Actor, Channel, HttpExchange, Param, Step, StepId, StepKind, StepStatus, Timeline,
};
use crate::protocol::callback::{
    parse_callback, validate_callback, AuthorizedCallback, CallbackError,
};
use crate::protocol::discovery::ProviderMetadata;
use crate::protocol::error::sanitize_for_display;
use crate::protocol::har::{header, parse_har, Entry, HarError, NameValue};
use crate::protocol::http::HttpResponse;
use crate::protocol::jwt::{parse_jwks, ClaimRules, Jwks, NonceRule};
use crate::protocol::pending::PendingAuthorization;
use crate::protocol::pkce::CodeVerifier;
use crate::protocol::revocation::TokenKind;
use crate::protocol::secret::{mask, AccessToken, AuthorizationCode, ClientSecret, RefreshToken};
use crate::protocol::state::State;
use crate::protocol::token::{parse_token_response, TokenError, TokenRequest};
use crate::protocol::uri::parse_query;
use sha2::Digest as _;

mod back;
mod front;
pub mod wire;

/// How bad a finding is; findings are listed worst first.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Severity {
    /// Unsafe: a defence is missing or a check failed.
    Fail,
    /// Works, but deviates from the RFCs or weakens a defence.
    Warn,
}

impl Severity {
    /// `fail` or `warn`.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Fail => "fail",
            Severity::Warn => "warn",
        }
    }
}

/// One thing wrong with the imported login, on the step that shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Fail or warn.
    pub severity: Severity,
    /// The security checklist row (or RFC rule) it comes from.
    pub row: &'static str,
    /// Short title.
    pub title: String,
    /// What the HAR shows, in one or two sentences (masked; untrusted text sanitized).
    pub detail: String,
    /// The step (row of the diagram) it belongs to.
    pub step: StepId,
}

/// What an import produced.
#[derive(Clone)]
pub struct Imported {
    /// The rebuilt run, drawn by the ordinary diagram.
    pub timeline: Timeline,
    /// Findings, worst first.
    pub findings: Vec<Finding>,
    /// Entries that were not part of an OAuth exchange (images, scripts, analytics...).
    pub left_out: usize,
    /// Entries read.
    pub entries: usize,
    /// What could not be checked, and why.
    pub not_checked: Vec<String>,
    /// The tool that wrote the file.
    pub creator: String,
    /// The ID token's signature to verify with WebCrypto (the JWKS was in the HAR).
    pub signature: Option<(IdTokenCheck, SignatureCheck)>,
}

/// Most steps drawn from one file (a login is about twenty).
const MAX_STEPS: usize = 2_000;

/// Parameter names whose values are shown as they are in a form body or URL; any other value
/// is masked (a HAR may carry credentials under any name).
const PUBLIC_NAMES: &[&str] = &[
    "grant_type",
    "client_id",
    "redirect_uri",
    "scope",
    "response_type",
    "response_mode",
    "code_challenge",
    "code_challenge_method",
    "token_type_hint",
    "post_logout_redirect_uri",
    "prompt",
    "iss",
    "error",
    "error_description",
    "session_state",
];

/// Headers whose values are credentials.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "cookie",
    "set-cookie",
    "proxy-authorization",
];

/// Headers the browser sets itself (or that a page cannot set): they never cause a preflight.
const BROWSER_HEADERS: &[&str] = &[
    "accept-charset",
    "accept-encoding",
    "access-control-request-headers",
    "access-control-request-method",
    "connection",
    "content-length",
    "cookie",
    "date",
    "dnt",
    "host",
    "keep-alive",
    "origin",
    "referer",
    "te",
    "user-agent",
    "pragma",
    "cache-control",
    "priority",
];

/// CORS-safelisted request headers (Fetch standard), the ones a page may add without a
/// preflight (`content-type` only with a form or text value).
const SAFELISTED: &[&str] = &[
    "accept",
    "accept-language",
    "content-language",
    "content-type",
];

/// One authorization request seen in the HAR, with what a live run would have kept pending.
#[derive(Clone, Debug)]
struct Login {
    state: Option<String>,
    nonce: Option<String>,
    client_id: String,
    redirect_uri: String,
    scope: String,
    /// From the discovery document; `None` when the HAR holds none (then `iss` values are taken
    /// as given, and said so).
    issuer: Option<String>,
    started_ms: u64,
    iss_supported: bool,
    token_endpoint: String,
}

/// The pieces of a token request body the callback check needs from later in the HAR.
struct Redemption {
    code: String,
    verifier: Option<String>,
}

struct Importer {
    timeline: Timeline,
    findings: Vec<Finding>,
    not_checked: Vec<String>,
    metadata: Option<ProviderMetadata>,
    jwks: Option<Jwks>,
    logins: Vec<Login>,
    redemptions: Vec<Redemption>,
    seen_states: std::collections::BTreeSet<String>,
    last_callback: Option<String>,
    preflight: Option<String>,
    refresh: Option<String>,
    access_token: Option<String>,
    client_id: String,
    scope: String,
    signature: Option<(IdTokenCheck, SignatureCheck)>,
    masked_export: bool,
    /// Where the HAR holds a key set: the keys are known from the start, since a live run
    /// fetches them only after the token answer that needs them.
    jwks_urls: Vec<String>,
    /// Steps whose answer body the HAR did not keep: their failures say nothing about the app.
    no_body: Vec<StepId>,
}

/// Reads a HAR and rebuilds the login(s) it shows. Bad input gives a [`HarError`] whose text
/// says what went wrong and what to do; nothing in the file is fetched or navigated to.
pub fn import_har(text: &str) -> Result<Imported, HarError> {
    let har = parse_har(text)?;
    let creator = har
        .log
        .creator
        .as_ref()
        .map(|c| sanitize_for_display(&c.name, 60))
        .unwrap_or_default();
    let mut entries: Vec<&Entry> = har.log.entries.iter().collect();
    // Firefox and Chromium write entries in start order mostly; sort to be sure (stable).
    entries.sort_by_key(|e| e.started_ms());
    let mut importer = Importer {
        timeline: Timeline::new(),
        findings: Vec::new(),
        not_checked: Vec::new(),
        metadata: None,
        jwks: None,
        logins: Vec::new(),
        redemptions: entries.iter().filter_map(|e| redemption(e)).collect(),
        seen_states: std::collections::BTreeSet::new(),
        last_callback: None,
        preflight: None,
        refresh: None,
        access_token: None,
        client_id: String::new(),
        scope: String::new(),
        signature: None,
        masked_export: creator == "OAuth Flow Lab",
        jwks_urls: Vec::new(),
        no_body: Vec::new(),
    };
    for entry in &entries {
        if let Ok(jwks) = parse_jwks(&http_response(entry)) {
            if !jwks.kids().is_empty() || entry.request.url.contains("jwk") {
                importer.jwks_urls.push(base(&entry.request.url).to_owned());
                importer.jwks = Some(jwks);
            }
        }
    }
    if importer.masked_export {
        importer.not_checked.push(
            "This HAR was written by the lab's own export, whose secrets are masked: state, \
             code, verifier and token values cannot be compared."
                .into(),
        );
    }
    let mut left_out = 0;
    for entry in &entries {
        if importer.timeline.len() >= MAX_STEPS {
            // A hostile or huge file: the rest is counted, not drawn (bounded work per file).
            left_out += 1;
            continue;
        }
        importer.referer_leak(entry);
        if !importer.entry(entry) {
            left_out += 1;
        }
    }
    if importer.timeline.len() >= MAX_STEPS {
        importer.not_checked.push(format!(
            "Only the first {MAX_STEPS} steps are drawn: export a HAR of one login to see all of it."
        ));
    }
    if !importer.no_body.is_empty() {
        importer.not_checked.push(
            "Some response bodies are missing (a \"sanitized\" export, or bodies not kept): \
             what they contained was not checked."
                .into(),
        );
    }
    importer.unreported_failures();
    // Each gap is said once, however many logins the file holds.
    let mut said = Vec::new();
    importer.not_checked.retain(|n| {
        let first = !said.contains(n);
        said.push(n.clone());
        first
    });
    let mut findings = importer.findings;
    findings.sort_by_key(|f| (f.severity, f.step));
    Ok(Imported {
        timeline: importer.timeline,
        findings,
        left_out,
        entries: entries.len(),
        not_checked: importer.not_checked,
        creator,
        signature: importer.signature,
    })
}

/// A token request's code and verifier, found before the callback is checked.
fn redemption(entry: &Entry) -> Option<Redemption> {
    let form = entry.request.form();
    let get = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    (entry.request.method == "POST" && get("grant_type").as_deref() == Some("authorization_code"))
        .then(|| Redemption {
            code: get("code").unwrap_or_default(),
            verifier: get("code_verifier"),
        })
}

/// The query and fragment of a URL (without their `?` / `#`).
fn query_and_fragment(url: &str) -> (&str, &str) {
    let (rest, fragment) = url.split_once('#').unwrap_or((url, ""));
    let query = rest.split_once('?').map_or("", |(_, q)| q);
    (query, fragment)
}

/// A URL without its query and fragment.
fn base(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// The origin (`scheme://host[:port]`) of an absolute URL.
fn origin(url: &str) -> &str {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest
                .find(['/', '?', '#'])
                .map_or(url.len(), |i| scheme.len() + 3 + i);
            &url[..end]
        }
        None => "",
    }
}

/// A form body or query with every value masked except the known harmless ones.
fn masked_form(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| {
            let shown = if PUBLIC_NAMES.contains(&name.as_str()) {
                sanitize_for_display(value, 300)
            } else {
                mask(value)
            };
            format!("{}={shown}", sanitize_for_display(name, 64))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Headers as drawn: credentials masked, other values sanitized, at most 40.
fn masked_headers(headers: &[NameValue]) -> Vec<(String, String)> {
    headers
        .iter()
        .take(40)
        .map(|h| {
            let value = h.value.as_deref().unwrap_or("");
            let name = sanitize_for_display(&h.name, 64);
            let shown = if SECRET_HEADERS.contains(&h.name.to_ascii_lowercase().as_str()) {
                match value.split_once(' ') {
                    Some((scheme, credential)) if !h.name.eq_ignore_ascii_case("cookie") => {
                        format!("{} {}", sanitize_for_display(scheme, 20), mask(credential))
                    }
                    _ => mask(value),
                }
            } else {
                sanitize_for_display(value, 300)
            };
            (name, shown)
        })
        .collect()
}

/// The HTTP response a live fetch would have produced, from the HAR's entry.
fn http_response(entry: &Entry) -> HttpResponse {
    let headers = &entry.response.headers;
    HttpResponse {
        status: entry.status(),
        content_type: header(headers, "content-type")
            .map(str::to_owned)
            .or_else(|| {
                entry
                    .response
                    .content
                    .mime_type
                    .clone()
                    .filter(|m| !m.is_empty())
            }),
        body: entry.response.body_text().unwrap_or_default(),
        www_authenticate: header(headers, "www-authenticate").map(str::to_owned),
        cache_control: header(headers, "cache-control").map(str::to_owned),
        unread: None,
        dpop_nonce: header(headers, "dpop-nonce").map(str::to_owned),
    }
}

fn end_ms(entry: &Entry) -> u64 {
    entry.started_ms() + entry.duration_ms() as u64
}

fn callback_row(error: &CallbackError) -> &'static str {
    match error {
        CallbackError::ParameterTooLarge(_) => "C-24",
        CallbackError::DuplicateParameter(_) => "C-5",
        CallbackError::ImplicitOrHybridResponse => "C-17",
        CallbackError::UnsupportedResponseMode => "C-18",
        CallbackError::FragmentResponse => "C-19",
        CallbackError::MissingState => "C-2",
        CallbackError::MalformedState | CallbackError::StateMismatch => "C-3",
        CallbackError::NoPendingAuthorization => "C-3",
        CallbackError::Expired => "C-23",
        CallbackError::IssuerMismatch { .. } => "C-13",
        CallbackError::IssuerMissing => "C-14",
        CallbackError::AuthorizationError { .. } => "C-6",
        CallbackError::MissingCode => "C-10",
        CallbackError::MalformedCode => "C-12",
    }
}

fn token_row(error: &TokenError) -> &'static str {
    match error {
        TokenError::ErrorResponse { .. } => "T-3",
        TokenError::UnexpectedResponse { .. } => "T-7",
        TokenError::UnexpectedStatus(_) => "T-9",
        TokenError::NotJson | TokenError::NotUtf8 => "T-10",
        TokenError::NotAnObject => "T-13",
        TokenError::DuplicateField(_) => "T-28",
        TokenError::MissingAccessToken | TokenError::InvalidField(_) => "T-14",
        TokenError::MissingTokenType => "T-15",
        TokenError::UnsupportedTokenType(_) => "T-16b",
        TokenError::BodyTooLarge { .. } => "T-24",
    }
}

impl Importer {
    fn find(
        &mut self,
        severity: Severity,
        row: &'static str,
        title: &str,
        detail: String,
        step: StepId,
    ) {
        self.findings.push(Finding {
            severity,
            row,
            title: title.to_owned(),
            detail,
            step,
        });
    }

    /// Replaces the exchange an engine function drew (the request the lab would have sent)
    /// with what the HAR shows the app sent, masked.
    fn draw_request(&mut self, step: StepId, entry: &Entry) {
        let form = entry.request.form();
        let body = entry.request.post_data.as_ref().map(|_| {
            if form.is_empty() {
                sanitize_for_display(&entry.request.body_text().unwrap_or_default(), 2000)
            } else {
                masked_form(&form)
            }
        });
        if entry.response.content.text.is_none() {
            self.no_body.push(step);
        }
        if let Some(s) = self.timeline.step_mut(step) {
            let x = s.exchange.get_or_insert_with(HttpExchange::default);
            x.method = sanitize_for_display(&entry.request.method, 16);
            x.url = sanitize_for_display(&mask_callback_query(&entry.request.url), 2000);
            x.request_headers = masked_headers(&entry.request.headers);
            x.request_body = body;
        }
    }

    /// Handles one entry; `false` when it is not part of an OAuth exchange.
    fn entry(&mut self, entry: &Entry) -> bool {
        let url = entry.request.url.as_str();
        let method = entry.request.method.to_ascii_uppercase();
        let (query, _) = query_and_fragment(url);
        let params = parse_query(query);
        let has = |name: &str| params.iter().any(|(k, _)| k == name);
        let form = entry.request.form();
        let grant = form
            .iter()
            .find(|(k, _)| k == "grant_type")
            .map(|(_, v)| v.as_str());
        if method == "OPTIONS" {
            return self.preflight(entry);
        }
        if url.contains("/.well-known/openid-configuration")
            || url.contains("/.well-known/oauth-authorization-server")
        {
            self.discovery(entry);
            return true;
        }
        if self.metadata.as_ref().and_then(|m| m.jwks_uri.as_deref()) == Some(base(url))
            || self.jwks_urls.iter().any(|u| u == base(url))
        {
            self.jwks(entry);
            return true;
        }
        if has("response_type") && has("client_id") {
            self.authorization_request(entry, &params);
            return true;
        }
        if self.callback(entry) {
            return true;
        }
        if method == "POST" && grant == Some("authorization_code") {
            self.token_exchange(entry, &form);
            return true;
        }
        if method == "POST" && grant == Some("refresh_token") {
            self.refresh(entry, &form);
            return true;
        }
        let meta = self.metadata.clone().unwrap_or_default();
        if method == "POST"
            && form.iter().any(|(k, _)| k == "token")
            && (meta.revocation_endpoint.as_deref() == Some(base(url))
                || base(url).ends_with("/revoke")
                || base(url).ends_with("/token/revocation"))
        {
            self.revocation(entry, &form);
            return true;
        }
        if meta.end_session_endpoint.as_deref() == Some(base(url))
            || (has("id_token_hint") || has("post_logout_redirect_uri"))
        {
            self.end_session(entry, &params);
            return true;
        }
        let bearer = header(&entry.request.headers, "authorization")
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::to_owned);
        if let Some(token) = bearer {
            if meta.userinfo_endpoint.as_deref() == Some(base(url))
                || base(url).ends_with("/userinfo")
                || base(url).ends_with("/me")
            {
                self.userinfo(entry, &token);
            } else {
                self.resource(entry, &token);
            }
            return true;
        }
        if ["access_token", "id_token", "refresh_token"]
            .iter()
            .any(|n| has(n))
        {
            // A token in a URL that is none of the exchanges above (R9700-13, X-9).
            let step = self.timeline.push_done(
                Step::new(
                    StepKind::ResourceRequest,
                    Actor::ClientApp,
                    Actor::ResourceServer,
                    Channel::Front,
                    "A request with a token in its URL",
                    entry.started_ms(),
                ),
                entry.duration_ms(),
            );
            self.draw_request(step, entry);
            self.find(
                Severity::Fail,
                "R9700-13",
                "Token in a URL",
                "A token travelled in a URL's query: URLs end up in history, logs and Referer \
                 headers. Send it as Authorization: Bearer instead (RFC 6750 §2.1)."
                    .into(),
                step,
            );
            return true;
        }
        false
    }

    /// Every failed step and every tolerated deviation the live checks drew becomes a finding,
    /// when no more specific one was made for it.
    fn unreported_failures(&mut self) {
        let mut extra = Vec::new();
        for (id, step) in self.timeline.steps().iter().enumerate() {
            // A failure drawn because the HAR kept no body (the request step, its server
            // checks or its answer) is a gap in the file, said in "not checked".
            let covered = self.findings.iter().any(|f| f.step == id)
                || self.no_body.iter().any(|b| (*b..=*b + 2).contains(&id));
            if let StepStatus::Failed { reason } = &step.status {
                if !covered && step.kind != StepKind::ServerCheck {
                    extra.push((Severity::Fail, reason.clone(), id, step.label.clone()));
                }
            }
            for deviation in &step.deviations {
                extra.push((Severity::Warn, deviation.clone(), id, step.label.clone()));
            }
        }
        for (severity, detail, step, label) in extra {
            self.find(severity, "—", &label, detail, step);
        }
    }
}

/// Findings as Markdown, worst first, like the checkup's report: untrusted text escaped.
pub fn findings_markdown(imported: &Imported, file_name: &str) -> String {
    let mut md = String::from("# OAuth HAR import\n\n- File: ");
    crate::flow::checkup::report::code(&mut md, file_name);
    md.push_str("\n- Written by: ");
    crate::flow::checkup::report::code(&mut md, &imported.creator);
    md.push_str(&format!(
        "\n- Entries: {} read, {} left out (not OAuth)\n- {}\n\n",
        imported.entries,
        imported.left_out,
        crate::diagram::export::SECRETS_NOTE
    ));
    md.push_str("| Severity | Row | Step | Finding |\n|---|---|---|---|\n");
    if imported.findings.is_empty() {
        md.push_str("| ✓ | — | — | No problem found in what the HAR shows. |\n");
    }
    for f in &imported.findings {
        md.push_str(&format!(
            "| {} | {} | {} | ",
            f.severity.label(),
            f.row,
            f.step + 1
        ));
        crate::flow::checkup::report::esc(&mut md, &f.title);
        md.push_str(": ");
        crate::flow::checkup::report::esc(&mut md, &f.detail);
        md.push_str(" |\n");
    }
    if !imported.not_checked.is_empty() {
        md.push_str("\n## Not checked\n\n");
        for n in &imported.not_checked {
            md.push_str("- ");
            crate::flow::checkup::report::esc(&mut md, n);
            md.push('\n');
        }
    }
    md
}

#[cfg(test)]
mod tests;

/// Records WebCrypto's verdict on the imported ID token's signature (the one check the pure
/// import cannot make itself, the JWKS being in the HAR): a step, and a finding when it fails.
pub fn signature_verified(imported: &mut Imported, verdict: Result<bool, String>) {
    let Some((check, key)) = imported.signature.take() else {
        return;
    };
    let at = imported
        .timeline
        .last_of(StepKind::CheckIdTokenClaims)
        .map_or(0, |(_, s)| s.started_at_ms);
    if let Err(problem) = oidc::signature_checked(&mut imported.timeline, &check, &key, verdict, at)
    {
        imported.findings.push(Finding {
            severity: Severity::Fail,
            row: "OIDC Core §3.1.3.7",
            title: "ID token signature invalid".into(),
            detail: problem.what_happened,
            step: imported.timeline.len() - 1,
        });
        imported.findings.sort_by_key(|f| (f.severity, f.step));
    }
}
