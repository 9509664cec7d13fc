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

/// How bad a finding is; findings are listed worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
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

    /// A code or token in the Referer of a request to another origin leaked there (R9700-12).
    fn referer_leak(&mut self, entry: &Entry) {
        let Some(referer) = header(&entry.request.headers, "referer") else {
            return;
        };
        let (query, fragment) = query_and_fragment(referer);
        let leaked: Vec<String> = parse_query(query)
            .into_iter()
            .chain(parse_query(fragment))
            .filter(|(k, _)| {
                ["code", "access_token", "id_token", "refresh_token"].contains(&k.as_str())
            })
            .map(|(k, _)| k)
            .collect();
        if leaked.is_empty() || origin(referer) == origin(&entry.request.url) {
            return;
        }
        let step = self
            .timeline
            .last_of(StepKind::RedirectBack)
            .map_or(0, |(id, _)| id);
        self.find(
            Severity::Fail,
            "R9700-12",
            "Code or token leaked in Referer",
            format!(
                "The page still had {} in its URL when it loaded {}: the value went out in the \
                 Referer header. Remove it from the address bar right away (history.replaceState) \
                 and send Referrer-Policy: no-referrer.",
                leaked.join(", "),
                sanitize_for_display(origin(&entry.request.url), 200)
            ),
            step,
        );
    }

    fn preflight(&mut self, entry: &Entry) -> bool {
        let url = base(&entry.request.url);
        let to_token = self
            .metadata
            .as_ref()
            .is_some_and(|m| m.token_endpoint == url)
            || self.logins.iter().any(|l| l.token_endpoint == url)
            || url.ends_with("/token");
        if !to_token {
            return false;
        }
        let asked = header(&entry.request.headers, "access-control-request-headers")
            .unwrap_or("")
            .to_owned();
        self.preflight = Some(sanitize_for_display(&asked, 200));
        true
    }

    fn discovery(&mut self, entry: &Entry) {
        let url = &entry.request.url;
        let at = entry.started_ms();
        let (issuer, attempt) =
            if let Some((issuer, _)) = url.split_once("/.well-known/openid-configuration") {
                (issuer.to_owned(), 0)
            } else {
                let (host, path) = url
                    .split_once("/.well-known/oauth-authorization-server")
                    .unwrap_or((url, ""));
                (format!("{host}{}", base(path)), 1)
            };
        let step = engine::discovery_started(&mut self.timeline, url, attempt, at);
        if entry.response.content.text.is_none() {
            self.timeline.complete(step, end_ms(entry));
            self.not_checked.push(
                "The discovery document's body is not in the HAR: the provider's metadata \
                 (issuer, iss support, PKCE methods) was not checked."
                    .into(),
            );
            return;
        }
        if let Ok(metadata) = engine::discovery_finished(
            &mut self.timeline,
            step,
            &issuer,
            Ok(http_response(entry)),
            false,
            end_ms(entry),
        ) {
            let (verdict, detail) = judge_s256(Some(&metadata.code_challenge_methods_supported));
            if verdict != Verdict::Pass {
                self.find(
                    if verdict == Verdict::Fail {
                        Severity::Fail
                    } else {
                        Severity::Warn
                    },
                    "D-10",
                    "PKCE S256 not advertised",
                    detail,
                    step,
                );
            }
            self.metadata = Some(metadata);
        }
    }

    fn jwks(&mut self, entry: &Entry) {
        let step =
            oidc::jwks_fetch_started(&mut self.timeline, &entry.request.url, entry.started_ms());
        if entry.response.content.text.is_none() {
            self.timeline.complete(step, end_ms(entry));
            return;
        }
        if let Ok(jwks) = oidc::jwks_fetch_finished(
            &mut self.timeline,
            step,
            Ok(http_response(entry)),
            end_ms(entry),
        ) {
            self.jwks = Some(jwks);
        }
    }

    fn authorization_request(&mut self, entry: &Entry, params: &[(String, String)]) {
        let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let at = entry.started_ms();
        let chips = params
            .iter()
            .map(|(name, value)| match name.as_str() {
                "state" | "nonce" => Param::secret(name, mask(value), value),
                n if PUBLIC_NAMES.contains(&n) => Param::public(
                    &sanitize_for_display(n, 64),
                    &sanitize_for_display(value, 300),
                ),
                n => Param::masked(&sanitize_for_display(n, 64), mask(value)),
            })
            .collect();
        let url = &entry.request.url;
        let step = self.timeline.push_done(
            Step::new(
                StepKind::RedirectToAuthorize,
                Actor::ClientApp,
                Actor::AuthorizationServer,
                Channel::Front,
                "Send the browser to the provider's authorization endpoint",
                at,
            )
            .with_params(chips)
            .with_exchange(HttpExchange {
                method: "NAVIGATE".into(),
                url: sanitize_for_display(
                    &mask_query(url, &["state", "nonce", "login_hint", "id_token_hint"]),
                    2000,
                ),
                request_headers: masked_headers(&entry.request.headers),
                ..HttpExchange::default()
            })
            .with_note(
                "Imported from the HAR: the app's navigation to the authorization endpoint. \
                 Everything here rides in the URL, visible in history and server logs.",
            ),
            entry.duration_ms(),
        );
        // What the app asked for, checked against what a public client must send.
        let response_type = get("response_type").unwrap_or_default();
        if response_type
            .split(' ')
            .any(|t| t == "token" || t == "id_token")
        {
            self.find(
                Severity::Fail,
                "R9700-9",
                "Implicit or hybrid grant",
                format!(
                    "response_type={}: tokens come back in the URL. Use response_type=code with \
                     PKCE (RFC 9700 §2.1.2).",
                    sanitize_for_display(&response_type, 60)
                ),
                step,
            );
        }
        match get("code_challenge_method").as_deref() {
            _ if get("code_challenge").is_none()
                && response_type.split(' ').any(|t| t == "code") =>
            {
                self.find(
                    Severity::Fail,
                    "R9700-5",
                    "PKCE missing",
                    "The authorization request has no code_challenge: a stolen code can be \
                     redeemed by anyone (RFC 7636, RFC 9700 §2.1.1)."
                        .into(),
                    step,
                )
            }
            Some("S256") | None if get("code_challenge").is_none() => {}
            Some("S256") => {}
            None => self.find(
                Severity::Fail,
                "P-4",
                "PKCE method not sent",
                "code_challenge without code_challenge_method: the server assumes plain, which \
                 exposes the verifier in the URL (RFC 7636 §4.3)."
                    .into(),
                step,
            ),
            Some(other) => self.find(
                Severity::Fail,
                "R9700-7",
                "PKCE plain",
                format!(
                    "code_challenge_method={}: the challenge is the verifier itself, so whoever \
                     sees the URL can redeem the code. Use S256.",
                    sanitize_for_display(other, 20)
                ),
                step,
            ),
        }
        let state = get("state").filter(|s| !s.is_empty());
        match &state {
            None => self.find(
                Severity::Fail,
                "R9700-3",
                "state missing",
                "The authorization request carries no state: nothing ties the answer to this \
                 browser (login CSRF, RFC 6749 §10.12)."
                    .into(),
                step,
            ),
            Some(s) if self.seen_states.contains(s) && !self.masked_export => self.find(
                Severity::Fail,
                "A-4",
                "state reused",
                "This state was already sent with an earlier login: it must be fresh and \
                 single-use for every request (RFC 9700 §2.1.1)."
                    .into(),
                step,
            ),
            Some(s) => {
                self.seen_states.insert(s.clone());
            }
        }
        let meta = self.metadata.clone();
        let issuer = meta.as_ref().map(|m| m.issuer.clone());
        if meta.is_none() {
            self.not_checked.push(
                "No usable discovery document in the HAR: the issuer is unknown, so the iss of \
                 the answer and of the ID token were taken as given, and iss support is unknown."
                    .into(),
            );
        }
        self.client_id = get("client_id").unwrap_or_default();
        self.scope = get("scope").unwrap_or_default();
        self.logins.push(Login {
            state,
            nonce: get("nonce"),
            client_id: self.client_id.clone(),
            redirect_uri: get("redirect_uri").unwrap_or_default(),
            scope: self.scope.clone(),
            issuer,
            started_ms: at,
            iss_supported: meta.as_ref().is_some_and(|m| m.iss_parameter_supported),
            token_endpoint: meta.map(|m| m.token_endpoint).unwrap_or_default(),
        });
        // The answer may be a redirect straight back (an error, a session already there).
        if let Some(location) = self.location(entry) {
            self.callback_url(&location, entry, end_ms(entry));
        }
    }

    /// The `Location` a redirect answer points to, if any.
    fn location(&self, entry: &Entry) -> Option<String> {
        if !(300..400).contains(&entry.status()) {
            return None;
        }
        entry
            .response
            .redirect_url
            .clone()
            .filter(|u| !u.is_empty())
            .or_else(|| header(&entry.response.headers, "location").map(str::to_owned))
    }

    /// The redirect back: a request to a login's redirect URI carrying the answer, or a 302 to
    /// one (the only place a fragment answer is visible), or a `form_post` to it.
    fn callback(&mut self, entry: &Entry) -> bool {
        if let Some(location) = self.location(entry) {
            if self.callback_url(&location, entry, end_ms(entry)) {
                return true;
            }
        }
        let url = &entry.request.url;
        if entry.request.method.eq_ignore_ascii_case("POST") && self.is_redirect_uri(url) {
            // response_mode=form_post: the answer is the form body.
            let body = entry.request.body_text().unwrap_or_default();
            return self.callback_parts(&body, "", url, entry.started_ms());
        }
        self.callback_url(url, entry, entry.started_ms())
    }

    fn is_redirect_uri(&self, url: &str) -> bool {
        self.logins
            .iter()
            .any(|l| !l.redirect_uri.is_empty() && base(url) == base(&l.redirect_uri))
    }

    fn callback_url(&mut self, url: &str, _entry: &Entry, at: u64) -> bool {
        // A relative URL is the lab's own export (it keeps only the query of the callback).
        if !(self.is_redirect_uri(url) || url.starts_with('?') && !self.logins.is_empty()) {
            return false;
        }
        if self.last_callback.as_deref() == Some(url) {
            // The document request that followed the 302 already drawn.
            return true;
        }
        let (query, fragment) = query_and_fragment(url);
        self.callback_parts(query, fragment, url, at)
    }

    fn callback_parts(&mut self, query: &str, fragment: &str, url: &str, at: u64) -> bool {
        if matches!(parse_callback(query, fragment), Ok(None)) {
            return false;
        }
        self.last_callback = Some(url.to_owned());
        let parsed = engine::callback_received(&mut self.timeline, query, fragment, at);
        let back = self
            .timeline
            .last_of(StepKind::RedirectBack)
            .map_or(0, |(id, _)| id);
        let form_post = !url.contains('?') && !url.contains('#') && !query.is_empty();
        if let Some(s) = self.timeline.step_mut(back) {
            if let Some(x) = &mut s.exchange {
                let shown = sanitize_for_display(&mask_callback_query(base(url)), 2000);
                if form_post {
                    // response_mode=form_post: the answer rode in a POST body, not the URL.
                    x.method = "POST".into();
                    x.request_body = Some(x.url.trim_start_matches('?').to_owned());
                    x.url = shown;
                } else {
                    x.url = shown + &x.url;
                }
            }
        }
        let params = match parsed {
            Ok(Some(params)) => params,
            Ok(None) => return true,
            Err(_) => {
                if let Err(error) = parse_callback(query, fragment) {
                    let check = self.timeline.len() - 1;
                    self.callback_finding(&error, check, query);
                }
                return true;
            }
        };
        // The pending login a live run would have kept for this state (its `PendingSet::take`),
        // rebuilt from the HAR's authorization request and token request.
        let code = params.code.clone();
        let typed = validate_callback(
            params.clone(),
            self.lookup(&params.state, code.as_deref(), params.iss.as_deref()),
            at,
        );
        let pending = self.lookup(&params.state, code.as_deref(), params.iss.as_deref());
        let outcome = engine::check_callback(&mut self.timeline, params, pending, at);
        if let (Err(error), Err(_)) = (&typed, &outcome) {
            let check = self.timeline.len() - 1;
            self.callback_finding(error, check, query);
        }
        true
    }

    /// The live `PendingSet::take`: the login whose state equals the answer's.
    fn lookup(
        &self,
        state: &State,
        code: Option<&str>,
        iss: Option<&str>,
    ) -> Option<PendingAuthorization> {
        self.logins
            .iter()
            .rev()
            .find(|l| l.state.as_deref() == Some(state.secret()))
            .and_then(|l| self.pending_for(l, code, iss))
    }

    fn pending_for(
        &self,
        login: &Login,
        code: Option<&str>,
        iss: Option<&str>,
    ) -> Option<PendingAuthorization> {
        let state = State::parse(login.state.as_deref()?).ok()?;
        let verifier = self
            .redemptions
            .iter()
            .find(|r| Some(r.code.as_str()) == code)
            .and_then(|r| r.verifier.as_deref())
            .and_then(|v| CodeVerifier::parse(v).ok());
        Some(PendingAuthorization {
            state,
            verifier,
            issuer: login
                .issuer
                .clone()
                .or_else(|| iss.map(str::to_owned))
                .unwrap_or_default(),
            client_id: login.client_id.clone(),
            redirect_uri: login.redirect_uri.clone(),
            token_endpoint: login.token_endpoint.clone(),
            scope: login.scope.clone(),
            created_at_ms: login.started_ms,
            iss_parameter_supported: login.iss_supported,
            nonce: login.nonce.clone(),
        })
    }

    fn callback_finding(&mut self, error: &CallbackError, step: StepId, query: &str) {
        let code = parse_query(query)
            .into_iter()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v);
        let redeemed = code
            .as_ref()
            .is_some_and(|c| self.redemptions.iter().any(|r| r.code == *c));
        let mut detail = crate::protocol::error::Explain::what_happened(error);
        if redeemed && !self.masked_export {
            detail.push_str(
                " The app redeemed the code anyway: it does not check the answer before \
                 trusting it.",
            );
        }
        let severity = if matches!(error, CallbackError::AuthorizationError { .. }) {
            Severity::Warn
        } else {
            Severity::Fail
        };
        if self.masked_export && matches!(error, CallbackError::MalformedState) {
            return;
        }
        self.find(
            severity,
            callback_row(error),
            "Callback check failed",
            detail,
            step,
        );
    }

    fn token_exchange(&mut self, entry: &Entry, form: &[(String, String)]) {
        let get = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let at = entry.started_ms();
        let code = get("code").unwrap_or_default();
        let login = self.logins.last().cloned();
        let secret = get("client_secret").filter(|s| !s.is_empty());
        let basic = header(&entry.request.headers, "authorization")
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("basic "));
        let verifier = get("code_verifier").and_then(|v| CodeVerifier::parse(&v).ok());
        let pending = PendingAuthorization {
            state: State::parse("imported").expect("a valid state literal"),
            verifier,
            issuer: login
                .as_ref()
                .and_then(|l| l.issuer.clone())
                .unwrap_or_default(),
            client_id: get("client_id")
                .or_else(|| login.as_ref().map(|l| l.client_id.clone()))
                .unwrap_or_default(),
            redirect_uri: get("redirect_uri").unwrap_or_default(),
            token_endpoint: base(&entry.request.url).to_owned(),
            scope: login.as_ref().map(|l| l.scope.clone()).unwrap_or_default(),
            created_at_ms: at,
            iss_parameter_supported: false,
            nonce: login.as_ref().and_then(|l| l.nonce.clone()),
        };
        let authorized = AuthorizedCallback {
            code: AuthorizationCode::new(code.clone()),
            pending,
            iss: None,
        };
        let client_secret = secret.clone().map(ClientSecret::new);
        let call = match engine::token_request_started(
            &mut self.timeline,
            authorized,
            client_secret.as_ref(),
            at,
        ) {
            Ok(call) => call,
            Err(_) => self.token_request_without_proof(entry, &code, login.as_ref(), at),
        };
        self.draw_request(call.step, entry);
        if secret.is_some() || basic {
            self.find(
                Severity::Fail,
                "BBA-3",
                "Client secret sent from the browser",
                "The token request carries a client secret: anything shipped to a browser is \
                 public. Register the app as a public client with PKCE."
                    .into(),
                call.step,
            );
        }
        self.custom_headers(entry, call.step);
        let response = http_response(entry);
        let cache_control = response.cache_control.clone();
        let unkept = entry.response.content.text.is_none();
        let typed = parse_token_response(&response, &call.requested_scope, call.openid_requested);
        let outcome =
            engine::token_response_received(&mut self.timeline, &call, Ok(response), end_ms(entry));
        let answer = self.timeline.len() - 1;
        if let Err(error) = &typed {
            if !unkept {
                self.find(
                    Severity::Fail,
                    token_row(error),
                    "Token request failed",
                    crate::protocol::error::Explain::what_happened(error),
                    answer,
                );
            }
        }
        if entry.status() == 200 {
            let (verdict, detail) = judge_no_store(cache_control.as_deref());
            if verdict == Verdict::Fail {
                self.find(
                    Severity::Fail,
                    "RFC 6749 §5.1",
                    "Token response may be cached",
                    detail,
                    answer,
                );
            }
        }
        if let Ok(tokens) = outcome {
            self.access_token = Some(tokens.access_token.secret().to_owned());
            self.refresh = tokens.refresh_token.as_ref().map(|r| r.secret().to_owned());
            if let Some(id_token) = &tokens.id_token {
                self.id_token(id_token, &call, tokens.access_token.secret(), end_ms(entry));
            }
        } else if unkept {
            self.not_checked.push(
                "The token response's body is not in the HAR: the tokens, the ID token and \
                 its claims were not checked."
                    .into(),
            );
        }
    }

    /// A code redeemed with neither verifier nor secret: the live engine never sends one, so
    /// the step is drawn here, with the server's check noted as "no verifier".
    fn token_request_without_proof(
        &mut self,
        entry: &Entry,
        code: &str,
        login: Option<&Login>,
        at: u64,
    ) -> TokenCall {
        let step = self.timeline.push(
            Step::new(
                StepKind::TokenRequest,
                Actor::ClientApp,
                Actor::AuthorizationServer,
                Channel::Back,
                "Exchange the code (no verifier, no secret) for tokens",
                at,
            )
            .with_params(vec![
                Param::public("grant_type", "authorization_code"),
                Param::secret("code", mask(code), code),
            ])
            .with_exchange(HttpExchange::default()),
        );
        let checks = server_check::code_checks(&mut self.timeline, Proof::NoVerifier, at);
        let scope = login.map(|l| l.scope.clone()).unwrap_or_default();
        TokenCall {
            step,
            request: TokenRequest {
                url: entry.request.url.clone(),
                body: String::new(),
            },
            openid_requested: scope.split_whitespace().any(|s| s == "openid"),
            requested_scope: scope,
            issuer: login.and_then(|l| l.issuer.clone()).unwrap_or_default(),
            client_id: login.map(|l| l.client_id.clone()).unwrap_or_default(),
            nonce: login.and_then(|l| l.nonce.clone()),
            checks,
        }
    }

    /// Headers the app added that are neither set by the browser nor CORS-safelisted force a
    /// preflight (T-26, BBA §6.3.3.4).
    fn custom_headers(&mut self, entry: &Entry, step: StepId) {
        let custom: Vec<String> = entry
            .request
            .headers
            .iter()
            .map(|h| h.name.to_ascii_lowercase())
            .filter(|n| {
                !n.starts_with(':')
                    && !n.starts_with("sec-")
                    && !BROWSER_HEADERS.contains(&n.as_str())
                    && !SAFELISTED.contains(&n.as_str())
            })
            .map(|n| sanitize_for_display(&n, 64))
            .collect();
        let preflight = self.preflight.take();
        if custom.is_empty() && preflight.is_none() {
            return;
        }
        let names = if custom.is_empty() {
            preflight.unwrap_or_default()
        } else {
            custom.join(", ")
        };
        self.find(
            Severity::Warn,
            "T-26",
            "CORS preflight on the token request",
            format!(
                "The app added {names} to the token request, which makes the browser send an \
                 OPTIONS preflight first: one more round trip, and a failure point with \
                 providers that do not answer it. Send only Content-Type and Accept."
            ),
            step,
        );
    }

    fn id_token(
        &mut self,
        token: &crate::protocol::secret::IdToken,
        call: &TokenCall,
        access_token: &str,
        at: u64,
    ) {
        let Ok(check) = oidc::id_token_received(&mut self.timeline, token, at) else {
            let step = self.timeline.len() - 1;
            let reason = match &self.timeline.steps()[step].status {
                StepStatus::Failed { reason } => reason.clone(),
                _ => String::new(),
            };
            self.find(
                Severity::Fail,
                "OIDC Core §3.1.3.7",
                "ID token refused",
                reason,
                step,
            );
            return;
        };
        match &self.jwks {
            Some(jwks) => {
                let jwks = jwks.clone();
                if let Ok(key) = oidc::signature_check(&mut self.timeline, &check, &jwks, at) {
                    self.signature = Some((check.clone(), key));
                }
            }
            None => self.not_checked.push(
                "The ID token's signature was not checked: the provider's keys (JWKS) are not \
                 in the HAR."
                    .into(),
            ),
        }
        // Unknown issuer (no discovery in the HAR): the token's own iss, said in "not checked".
        let issuer = if call.issuer.is_empty() {
            check
                .decoded
                .claims
                .get("iss")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        } else {
            call.issuer.clone()
        };
        let rules = ClaimRules {
            issuer,
            client_id: call.client_id.clone(),
            nonce: match &call.nonce {
                Some(nonce) => NonceRule::Expected(nonce.clone()),
                None => NonceRule::IfPresent(None),
            },
            expected_sub: None,
            now_ms: at,
        };
        let digest = match check.alg.hash_bits() {
            384 => sha2::Sha384::digest(access_token.as_bytes()).to_vec(),
            512 => sha2::Sha512::digest(access_token.as_bytes()).to_vec(),
            _ => sha2::Sha256::digest(access_token.as_bytes()).to_vec(),
        };
        if oidc::claims_checked(&mut self.timeline, &check, &rules, &digest, at).is_err() {
            let step = self.timeline.len() - 1;
            let reason = match &self.timeline.steps()[step].status {
                StepStatus::Failed { reason } => reason.clone(),
                _ => String::new(),
            };
            self.find(
                Severity::Fail,
                "OIDC Core §3.1.3.7",
                "ID token claims wrong",
                reason,
                step,
            );
        }
    }

    fn refresh(&mut self, entry: &Entry, form: &[(String, String)]) {
        let get = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let sent = get("refresh_token").unwrap_or_default();
        let token = RefreshToken::new(sent.clone());
        let client_id = get("client_id").unwrap_or_else(|| self.client_id.clone());
        let openid = self.scope.split_whitespace().any(|s| s == "openid");
        let url = base(&entry.request.url).to_owned();
        let Ok(call) = lifecycle::refresh_started(
            &mut self.timeline,
            &url,
            &token,
            &client_id,
            &self.scope.clone(),
            openid,
            entry.started_ms(),
        ) else {
            return;
        };
        self.draw_request(call.step, entry);
        if let Ok(refreshed) = lifecycle::refresh_response_received(
            &mut self.timeline,
            &call,
            Ok(http_response(entry)),
            end_ms(entry),
        ) {
            let answer = self.timeline.len() - 1;
            // What the answer itself carried (the engine keeps the old one when none came).
            let new = refreshed
                .replaced
                .is_some()
                .then(|| {
                    refreshed
                        .tokens
                        .refresh_token
                        .as_ref()
                        .map(|t| t.secret().to_owned())
                })
                .flatten()
                .or_else(|| {
                    serde_json::from_str::<serde_json::Value>(&http_response(entry).body)
                        .ok()
                        .and_then(|v| v["refresh_token"].as_str().map(str::to_owned))
                });
            let (verdict, detail) = judge_rotation(Some(&sent), new.as_deref());
            if verdict == Verdict::Fail && !self.masked_export {
                self.find(
                    Severity::Fail,
                    "R9700-10",
                    "Refresh token not rotated",
                    detail,
                    answer,
                );
            }
            self.access_token = Some(refreshed.tokens.access_token.secret().to_owned());
        }
    }

    fn revocation(&mut self, entry: &Entry, form: &[(String, String)]) {
        let get = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let kind = if get("token_type_hint").as_deref() == Some("refresh_token") {
            TokenKind::Refresh
        } else {
            TokenKind::Access
        };
        let client_id = get("client_id").unwrap_or_else(|| self.client_id.clone());
        let token = get("token").unwrap_or_default();
        if let Ok((step, _)) = lifecycle::revocation_started(
            &mut self.timeline,
            base(&entry.request.url),
            kind,
            &token,
            &client_id,
            entry.started_ms(),
        ) {
            self.draw_request(step, entry);
            let _ = lifecycle::revocation_finished(
                &mut self.timeline,
                step,
                Ok(http_response(entry)),
                end_ms(entry),
            );
        }
    }

    fn end_session(&mut self, entry: &Entry, params: &[(String, String)]) {
        let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let hint = get("id_token_hint").map(crate::protocol::secret::IdToken::new);
        let back = get("post_logout_redirect_uri").unwrap_or_default();
        let client_id = get("client_id").unwrap_or_else(|| self.client_id.clone());
        let at = entry.started_ms();
        if lifecycle::end_session_planned(
            &mut self.timeline,
            base(&entry.request.url),
            hint.as_ref(),
            &back,
            &client_id,
            at,
        )
        .is_err()
        {
            // The endpoint would not be accepted as a live one (e.g. plain http): drawn anyway.
            let step = self.timeline.push_done(
                Step::new(
                    StepKind::EndSession,
                    Actor::ClientApp,
                    Actor::AuthorizationServer,
                    Channel::Front,
                    "Send the browser to the provider to end its session",
                    at,
                ),
                entry.duration_ms(),
            );
            self.draw_request(step, entry);
        }
    }

    fn userinfo(&mut self, entry: &Entry, token: &str) {
        let token = AccessToken::new(token.to_owned());
        let (step, _) = oidc::userinfo_request_started(
            &mut self.timeline,
            &entry.request.url,
            &token,
            entry.started_ms(),
        );
        self.draw_request(step, entry);
        let _ = oidc::userinfo_response_received(
            &mut self.timeline,
            step,
            Ok(http_response(entry)),
            None,
            end_ms(entry),
        );
    }

    fn resource(&mut self, entry: &Entry, token: &str) {
        let token = AccessToken::new(token.to_owned());
        let (step, _) = engine::resource_request_started(
            &mut self.timeline,
            &entry.request.url,
            &token,
            entry.started_ms(),
        );
        self.draw_request(step, entry);
        let _ = engine::resource_response_received(
            &mut self.timeline,
            step,
            Ok(http_response(entry)),
            end_ms(entry),
        );
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
#[path = "har_import_tests.rs"]
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
