//! The sans-I/O session engine: the one place that decides what happens next in a live run.
//!
//! The driver (`src/ui/driver.rs`) feeds [`Event`]s in (time and entropy travel with them) and
//! carries out the [`Command`]s that [`Session::handle`] returns; the session appends steps to
//! its timeline as it goes, through the step functions of `engine`, `oidc` and `lifecycle`.
//! Nothing here touches the browser, a clock or a random source, so every transition is an
//! ordinary host test (`session_tests.rs`), and explain mode runs this same engine.

use crate::flow::attack::LabLogin;
use crate::flow::engine::{self, LoginEntropy, Problem, TokenCall, TransportError};
use crate::flow::lifecycle::{self, RefreshCall, Refreshed};
use crate::flow::oidc::{self, IdTokenCheck, SignatureCheck, VerifiedIdToken};
use crate::flow::presets;
use crate::flow::settings::{ClientType, ProviderSettings};
use crate::flow::timeline::{StepId, StepKind, Timeline};
use crate::protocol::callback::{parse_callback, AuthorizedCallback};
use crate::protocol::discovery::ProviderMetadata;
use crate::protocol::jwt::{decode, ClaimRules, Jwks, NonceRule};
use crate::protocol::pending::{PendingAuthorization, PendingSet};
use crate::protocol::revocation::TokenKind;
use crate::protocol::secret::{AccessToken, ClientSecret, IdToken, RefreshToken};
use crate::protocol::state::State;
use crate::protocol::token::{HttpResponse, TokenRequest, TokenSet};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// Names one request the session waits for; its answer comes back with the same id.
pub type RequestId = u64;

/// A fetch's outcome, as the driver hands it back.
pub type Outcome = Result<HttpResponse, TransportError>;

/// What the activity is right now; `data-phase` on the page (tests and CSS read it). Derived
/// from the session's state, never stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Nothing in progress, no tokens.
    Idle,
    /// Fetching discovery.
    Discovering,
    /// About to leave for the provider.
    Redirecting,
    /// Redeeming the code.
    Exchanging,
    /// Checking the ID token (keys, signature, claims).
    Verifying,
    /// Tokens in memory.
    LoggedIn,
    /// A resource or UserInfo call in flight.
    CallingApi,
    /// A refresh in flight.
    Refreshing,
    /// A revocation in flight.
    Revoking,
    /// PKCE off: the code is held in memory until the user types the client secret.
    AwaitingSecret,
    /// The last action failed; the problem banner says why.
    Failed,
}

impl Phase {
    /// Name used in `data-phase` (tests and CSS).
    pub fn css(&self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Discovering => "discovering",
            Phase::Redirecting => "redirecting",
            Phase::Exchanging => "exchanging",
            Phase::Verifying => "verifying",
            Phase::LoggedIn => "logged-in",
            Phase::CallingApi => "calling-api",
            Phase::Refreshing => "refreshing",
            Phase::Revoking => "revoking",
            Phase::AwaitingSecret => "awaiting-secret",
            Phase::Failed => "failed",
        }
    }

    /// Whether an action is in flight.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            Phase::Discovering
                | Phase::Redirecting
                | Phase::Exchanging
                | Phase::Verifying
                | Phase::CallingApi
                | Phase::Refreshing
                | Phase::Revoking
        )
    }
}

/// What this tab kept in sessionStorage, read by the driver at page load and handed in: the
/// session decides what to consume and answers with the commands that forget it.
#[derive(Debug)]
pub struct Saved {
    /// The pending logins (an unreadable or tampered set is the problem it makes).
    pub pending: Result<PendingSet, Problem>,
    /// The last run of this tab.
    pub timeline: Option<Timeline>,
    /// The runs of the logins still pending, as `(run id, timeline JSON)`.
    pub runs: Vec<(String, String)>,
    /// Whether the browser left for the provider's end-session endpoint.
    pub end_session_mark: bool,
    /// The `state`s of the logins the attack lab started.
    pub lab_logins: Vec<String>,
    /// The provider metadata this tab validated earlier (re-validated when read).
    pub metadata: Vec<ProviderMetadata>,
}

impl Default for Saved {
    fn default() -> Self {
        Saved {
            pending: Ok(PendingSet::new()),
            timeline: None,
            runs: Vec::new(),
            end_session_mark: false,
            lab_logins: Vec::new(),
            metadata: Vec::new(),
        }
    }
}

/// A login's randomness as the driver drew it (or why it could not), never printed.
pub struct Entropy(pub Result<LoginEntropy, Problem>);

impl std::fmt::Debug for Entropy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Entropy([redacted])")
    }
}

/// What happened: everything the session learns comes in as one of these.
#[derive(Debug)]
pub enum Event {
    /// The page was loaded (perhaps as the provider's callback) with this URL and storage.
    PageLoaded {
        /// The query string, without `?`.
        query: String,
        /// The fragment, without `#`.
        fragment: String,
        /// What this tab had kept.
        saved: Saved,
        /// Now, epoch ms.
        now: u64,
    },
    /// The user pressed Log in (or the attack lab started a login for `intent`).
    LoginPressed {
        /// This page's redirect URI.
        redirect_uri: String,
        /// Fresh randomness for verifier, state and nonce (or why there is none).
        entropy: Entropy,
        /// Set when the lab starts this login for an experiment.
        intent: Option<LabLogin>,
        /// Now, epoch ms.
        now: u64,
    },
    /// A `Command::Fetch` was answered (or failed at the network level).
    HttpAnswered {
        /// The request's id.
        id: RequestId,
        /// What came back.
        outcome: Outcome,
        /// Now, epoch ms.
        now: u64,
    },
    /// WebCrypto's verdict on a `Command::VerifySignature`.
    SignatureChecked {
        /// The request's id.
        id: RequestId,
        /// `Ok(valid)`, or why the browser could not check.
        verdict: Result<bool, String>,
        /// Now, epoch ms.
        now: u64,
    },
    /// WebCrypto's answer to a `Command::Digest` (empty when it failed).
    DigestComputed {
        /// The request's id.
        id: RequestId,
        /// The digest bytes.
        digest: Vec<u8>,
        /// Now, epoch ms.
        now: u64,
    },
    /// PKCE off: the user typed the client secret.
    SecretTyped {
        /// The secret (dropped once the token request is built).
        secret: String,
        /// Now, epoch ms.
        now: u64,
    },
    /// A button of the logged-in session.
    Action {
        /// Which one.
        action: Action,
        /// This page's redirect URI (the end-session return address).
        redirect_uri: String,
        /// Now, epoch ms.
        now: u64,
    },
    /// The settings form changed (the whole new value).
    SettingsEdited(ProviderSettings),
    /// A preset was chosen in the settings form.
    PresetChosen(String),
    /// The driver could not carry out a command (storage refused, navigation failed): the
    /// commands after it in the same batch were not carried out.
    CommandFailed {
        /// What went wrong and what to do.
        problem: Problem,
    },
}

/// A user action on the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Call the demo resource API at this path.
    CallApi(&'static str),
    /// Call the provider's UserInfo endpoint.
    UserInfo,
    /// Trade the refresh token for new tokens.
    Refresh,
    /// Revoke a token at the provider (RFC 7009).
    Revoke(TokenKind),
    /// RP-initiated logout at the provider.
    LogoutAtProvider,
    /// Forget the tokens held in memory.
    Logout,
}

/// One back-channel request, exactly as the driver must send it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Absolute URL.
    pub url: String,
    /// Headers to send (only CORS-safelisted ones plus `Authorization` where needed).
    pub headers: Vec<(&'static str, String)>,
    /// Form body, for `POST`.
    pub body: Option<String>,
}

impl HttpRequest {
    /// A JSON `GET`, optionally with an `Authorization` header.
    pub fn get(url: &str, authorization: Option<String>) -> Self {
        let mut headers = vec![("Accept", "application/json".to_owned())];
        if let Some(value) = authorization {
            headers.push(("Authorization", value));
        }
        HttpRequest {
            method: "GET",
            url: url.to_owned(),
            headers,
            body: None,
        }
    }

    /// A form `POST` to the token, revocation or similar endpoint (T-1 headers only).
    pub fn form(request: &TokenRequest) -> Self {
        HttpRequest {
            method: "POST",
            url: request.url.clone(),
            headers: TokenRequest::headers()
                .iter()
                .map(|(name, value)| (*name, (*value).to_owned()))
                .collect(),
            body: Some(request.body.clone()),
        }
    }
}

/// What the driver must do. A closed set: the lab adds its own variants in its own files.
#[derive(Debug)]
pub enum Command {
    /// Send this request through `browser::http`; answer with `Event::HttpAnswered`.
    Fetch {
        /// Echoed in the answer.
        id: RequestId,
        /// What to send.
        request: HttpRequest,
    },
    /// Leave the page for this URL (the driver saves the timeline just before).
    Navigate {
        /// Where to.
        url: String,
    },
    /// Remove the query and fragment from the address bar and history (C-25).
    CleanAddressBar,
    /// Write this to storage.
    Persist(Persist),
    /// Remove this from storage.
    Forget(Forget),
    /// Check a JWS signature with WebCrypto; answer with `Event::SignatureChecked`.
    VerifySignature {
        /// Echoed in the answer.
        id: RequestId,
        /// Key, algorithm, signed bytes and signature.
        check: SignatureCheck,
    },
    /// Hash bytes with WebCrypto; answer with `Event::DigestComputed`.
    Digest {
        /// Echoed in the answer.
        id: RequestId,
        /// `SHA-256`, `SHA-384` or `SHA-512`.
        hash: &'static str,
        /// The bytes to hash.
        data: Vec<u8>,
    },
    /// Mark the moment the page is drawn after this event (`scripts/bench`).
    MarkDrawn(&'static str),
    /// The attack lab started a login: record its intent under `state`.
    LabLoginStarted {
        /// The login's `state`.
        state: String,
        /// What its callback is for.
        intent: LabLogin,
    },
    /// A lab login's callback passed the checks: the lab runs its experiment with the code.
    LabLoginReturned {
        /// The checked callback.
        authorized: AuthorizedCallback,
    },
    /// The lab's forged link arrived and the callback check refused it.
    ForgedLinkRefused,
}

/// What to write to storage.
#[derive(Debug)]
pub enum Persist {
    /// Add a pending login (sessionStorage; refused storage must stop the login).
    PendingLogin(PendingAuthorization),
    /// Replace the pending logins by these (what is left after one was consumed or expired).
    PendingLogins(PendingSet),
    /// The non-secret settings (localStorage).
    Settings(ProviderSettings),
    /// Validated provider metadata for this tab.
    Metadata(ProviderMetadata),
    /// The run of a login about to leave, under its `state`'s run id.
    Run {
        /// The login's `state`.
        state: State,
        /// Its timeline so far.
        timeline: Timeline,
    },
    /// Replace the kept runs by these `(run id, timeline JSON)` pairs.
    Runs(Vec<(String, String)>),
    /// The browser leaves for the provider's end-session endpoint.
    EndSessionMark,
}

/// What to remove from storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forget {
    /// The end-session marker, once the return from the provider's logout was seen.
    EndSessionMark,
}

/// The last resource API answer shown to the user.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiAnswer {
    /// The path called.
    pub path: String,
    /// Pretty-printed JSON (rendered as text).
    pub body: String,
}

/// Who the current tokens came from (whatever the settings say now).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The issuer the login was sent to.
    pub issuer: String,
    /// The client id used.
    pub client_id: String,
    /// The nonce of the login (a refreshed ID token may repeat it).
    pub nonce: Option<String>,
}

/// An ID token that failed validation, decoded for display only (never trusted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedIdToken {
    /// The header, pretty-printed.
    pub header_json: String,
    /// The claims, pretty-printed.
    pub claims_json: String,
}

/// Which tokens were revoked at the provider (kept in memory to show the effect).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Revoked {
    /// The access token.
    pub access: bool,
    /// The refresh token.
    pub refresh: bool,
}

/// A logged-in session: tokens and everything that belongs to them.
#[derive(Debug)]
pub struct LoggedIn {
    /// The tokens, in memory only.
    pub tokens: TokenSet,
    /// When they arrived (epoch ms), for the expiry display.
    pub received_at_ms: u64,
    /// The verified ID token: who logged in.
    pub identity: Option<VerifiedIdToken>,
    /// The login the tokens belong to.
    pub info: SessionInfo,
    /// The metadata of the provider that issued them.
    pub provider: Option<ProviderMetadata>,
    /// Tokens revoked at the provider.
    pub revoked: Revoked,
    /// The refresh token the last rotation replaced.
    pub replaced_refresh: Option<RefreshToken>,
    /// The last UserInfo answer, pretty-printed.
    pub userinfo: Option<String>,
    /// The last API answer.
    pub api_answer: Option<ApiAnswer>,
    in_flight: Option<InFlight>,
}

/// An action of the logged-in session waiting for its answer.
#[derive(Debug)]
enum InFlight {
    Api {
        id: RequestId,
        step: StepId,
        path: &'static str,
    },
    UserInfo {
        id: RequestId,
        step: StepId,
    },
    Refresh {
        id: RequestId,
        call: RefreshCall,
    },
    Revoke {
        id: RequestId,
        step: StepId,
        kind: TokenKind,
    },
    /// A refreshed ID token being checked.
    Verifying(Box<Verification>),
}

/// Discovery by issuer in progress: the OpenID Connect location, then the RFC 8414 one.
#[derive(Debug)]
struct Discovery {
    issuer: String,
    urls: Vec<String>,
    attempt: usize,
    step: StepId,
    id: RequestId,
    first_problem: Option<Problem>,
    network: Option<String>,
}

/// What a login waits for while its provider is discovered.
struct LoginInputs {
    settings: ProviderSettings,
    redirect_uri: String,
    entropy: Result<LoginEntropy, Problem>,
    intent: Option<LabLogin>,
}

impl std::fmt::Debug for LoginInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The entropy becomes secrets: never printed.
        f.debug_struct("LoginInputs")
            .field("issuer", &self.settings.issuer)
            .field("intent", &self.intent)
            .finish_non_exhaustive()
    }
}

/// Where an ID token check stands.
#[derive(Debug)]
enum VerifyStage {
    Discovering(Discovery),
    FetchingJwks {
        id: RequestId,
        step: StepId,
        uri: String,
    },
    Signature {
        id: RequestId,
        key: SignatureCheck,
    },
    Digest {
        id: RequestId,
    },
}

/// What a verified ID token completes.
#[derive(Debug)]
enum AfterVerify {
    Login { tokens: TokenSet, info: SessionInfo },
    Refresh { refreshed: Refreshed },
}

/// An ID token check in progress (JWKS, signature, at_hash, claims: each a step).
#[derive(Debug)]
struct Verification {
    check: IdTokenCheck,
    rules: ClaimRules,
    access_token: AccessToken,
    issuer: String,
    /// The provider's metadata, once known (kept with the session).
    provider: Option<ProviderMetadata>,
    stage: VerifyStage,
    then: AfterVerify,
}

/// The session's state: each variant carries exactly what that moment needs.
#[derive(Debug)]
enum Flow {
    Idle,
    Failed,
    Discovering {
        login: Box<LoginInputs>,
        discovery: Discovery,
    },
    Redirecting,
    AwaitingSecret {
        authorized: AuthorizedCallback,
        demo_secret: Option<&'static str>,
    },
    Exchanging {
        id: RequestId,
        call: TokenCall,
    },
    Verifying(Box<Verification>),
    LoggedIn(Box<LoggedIn>),
    /// The attack lab's own glue is driving (until its experiments are sessions too): the
    /// phase it shows.
    Lab(Phase),
}

/// The live run: settings, timeline, state and what the page shows about them.
#[derive(Debug)]
pub struct Session {
    /// What the user typed (non-secret).
    pub settings: ProviderSettings,
    /// The single source of truth for what happened.
    pub timeline: Timeline,
    /// What the user must know about the last failure.
    pub problem: Option<Problem>,
    /// A neutral notice (e.g. an abandoned login was discarded).
    pub notice: Option<String>,
    /// The last ID token that failed validation, for display.
    pub rejected_id_token: Option<RejectedIdToken>,
    /// The `scope` a 403 from the API asked for (RFC 6750 §3).
    pub api_needed_scope: Option<String>,
    flow: Flow,
    /// This page's origin (for the CORS diagnosis).
    origin: String,
    /// Discovery result for the settings' issuer, fetched at most once per issuer per page.
    metadata: Option<ProviderMetadata>,
    /// Metadata this tab validated before (by issuer).
    known: Vec<ProviderMetadata>,
    /// The provider's key set, fetched at most once per page unless a key is missing.
    jwks: Option<(String, Jwks)>,
    next_id: RequestId,
    revision: u64,
}

/// Names a login's run without writing its `state`: the first 16 characters of
/// BASE64URL(SHA-256(state)).
pub fn run_id(state: &State) -> String {
    let digest = Sha256::digest(state.secret().as_bytes());
    URL_SAFE_NO_PAD.encode(digest)[..16].to_owned()
}

/// Back in the app while the login was at the provider: no answer came back.
fn back_without_answer_notice() -> String {
    "You came back from the provider without an answer to your login: nothing reached this app. \
     If the provider showed an error page (for example an unknown client id or a redirect URI \
     it does not accept), read it, fix the settings here, then press Log in again; the \
     unanswered login expires by itself after 10 minutes."
        .to_owned()
}

fn abandoned_notice() -> String {
    "A login started in this tab was not completed within 10 minutes and has been discarded. \
     Start a new login when you are ready."
        .to_owned()
}

fn network_origin(outcome: &Outcome) -> Option<String> {
    match outcome {
        Err(TransportError::Network { origin }) => Some(origin.clone()),
        _ => None,
    }
}

fn rejected_view(id_token: &IdToken) -> Option<RejectedIdToken> {
    decode(id_token.secret()).ok().map(|d| RejectedIdToken {
        header_json: d.header_json(),
        claims_json: d.claims_json(),
    })
}

impl Session {
    /// A fresh session on a page served at `origin`, with the saved settings.
    pub fn new(settings: ProviderSettings, origin: &str) -> Self {
        Session {
            settings,
            timeline: Timeline::new(),
            problem: None,
            notice: None,
            rejected_id_token: None,
            api_needed_scope: None,
            flow: Flow::Idle,
            origin: origin.to_owned(),
            metadata: None,
            known: Vec::new(),
            jwks: None,
            next_id: 1,
            revision: 0,
        }
    }

    /// What the page shows as its activity (derived from the state).
    pub fn phase(&self) -> Phase {
        match &self.flow {
            Flow::Idle => Phase::Idle,
            Flow::Failed => Phase::Failed,
            Flow::Discovering { .. } => Phase::Discovering,
            Flow::Redirecting => Phase::Redirecting,
            Flow::AwaitingSecret { .. } => Phase::AwaitingSecret,
            Flow::Exchanging { .. } => Phase::Exchanging,
            Flow::Verifying(_) => Phase::Verifying,
            Flow::Lab(phase) => *phase,
            Flow::LoggedIn(session) => match session.in_flight {
                None => Phase::LoggedIn,
                Some(InFlight::Api { .. } | InFlight::UserInfo { .. }) => Phase::CallingApi,
                Some(InFlight::Refresh { .. } | InFlight::Verifying(_)) => Phase::Refreshing,
                Some(InFlight::Revoke { .. }) => Phase::Revoking,
            },
        }
    }

    /// Bumped by every event: the driver saves the timeline when it changes.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The logged-in session, if any.
    pub fn logged_in(&self) -> Option<&LoggedIn> {
        match &self.flow {
            Flow::LoggedIn(session) => Some(session),
            _ => None,
        }
    }

    /// The tokens in memory, if any.
    pub fn tokens(&self) -> Option<&TokenSet> {
        self.logged_in().map(|s| &s.tokens)
    }

    /// The metadata of the provider that issued the current tokens.
    pub fn provider(&self) -> Option<&ProviderMetadata> {
        self.logged_in().and_then(|s| s.provider.as_ref())
    }

    /// The login the current tokens belong to.
    pub fn info(&self) -> Option<&SessionInfo> {
        self.logged_in().map(|s| &s.info)
    }

    /// The verified ID token: who logged in.
    pub fn identity(&self) -> Option<&VerifiedIdToken> {
        self.logged_in().and_then(|s| s.identity.as_ref())
    }

    /// Tokens revoked at the provider.
    pub fn revoked(&self) -> Revoked {
        self.logged_in().map(|s| s.revoked).unwrap_or_default()
    }

    /// When the tokens arrived (epoch ms).
    pub fn tokens_received_at_ms(&self) -> u64 {
        self.logged_in().map_or(0, |s| s.received_at_ms)
    }

    /// The refresh token the last rotation replaced.
    pub fn replaced_refresh(&self) -> Option<&RefreshToken> {
        self.logged_in().and_then(|s| s.replaced_refresh.as_ref())
    }

    /// The last UserInfo answer, pretty-printed.
    pub fn userinfo(&self) -> Option<&String> {
        self.logged_in().and_then(|s| s.userinfo.as_ref())
    }

    /// The last API answer.
    pub fn api_answer(&self) -> Option<&ApiAnswer> {
        self.logged_in().and_then(|s| s.api_answer.as_ref())
    }

    /// The provider's key set as last fetched (`jwks_uri`, keys).
    pub fn jwks(&self) -> Option<&(String, Jwks)> {
        self.jwks.as_ref()
    }

    /// PKCE off with the bundled demo client: its (public) secret, to pre-fill.
    pub fn demo_secret(&self) -> Option<&'static str> {
        match &self.flow {
            Flow::AwaitingSecret { demo_secret, .. } => *demo_secret,
            _ => None,
        }
    }

    /// Metadata already known for `issuer` on this page or in this tab.
    pub fn known_metadata(&self, issuer: &str) -> Option<ProviderMetadata> {
        self.logged_in()
            .and_then(|s| s.provider.clone())
            .filter(|m| m.issuer == issuer)
            .or_else(|| self.metadata.clone().filter(|m| m.issuer == issuer))
            .or_else(|| self.known.iter().find(|m| m.issuer == issuer).cloned())
    }

    /// The discovery result for the settings' issuer, when this page fetched it.
    pub fn metadata(&self) -> Option<&ProviderMetadata> {
        self.metadata.as_ref()
    }

    /// Records metadata discovered elsewhere (the attack lab) for this page.
    pub fn remember_metadata(&mut self, metadata: ProviderMetadata) {
        self.metadata = Some(metadata);
    }

    /// Ends whatever was in progress with `problem` shown (used by the lab's glue too).
    pub fn fail(&mut self, problem: Problem) {
        self.problem = Some(problem);
        self.flow = Flow::Failed;
    }

    /// The attack lab's glue shows `phase` while it drives (tokens of the live run go).
    pub fn lab_phase(&mut self, phase: Phase) {
        self.flow = match phase {
            Phase::Idle => Flow::Idle,
            Phase::Redirecting => Flow::Redirecting,
            phase => Flow::Lab(phase),
        };
    }

    /// Forgets the discovery result of this page (the checkup fetches it afresh).
    pub fn forget_metadata(&mut self) {
        self.metadata = None;
    }

    fn fresh_id(&mut self) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The preset's CORS setting, when `issuer` is the one the settings describe.
    fn cors_setting(&self, issuer: &str) -> Option<(&'static str, &'static str)> {
        let settings = self.settings.normalized();
        (settings.issuer == issuer)
            .then(|| presets::cors_setting_for(&settings.preset))
            .flatten()
    }

    /// Replaces a network failure's generic problem by the CORS diagnosis for `endpoint`.
    fn diagnosed(
        &self,
        problem: Problem,
        network: Option<String>,
        endpoint: &str,
        issuer: &str,
    ) -> Problem {
        match network {
            Some(origin) => {
                engine::cors_diagnosis(&origin, endpoint, &self.origin, self.cors_setting(issuer))
            }
            None => problem,
        }
    }

    /// Takes one event, appends its steps and says what the driver must do.
    pub fn handle(&mut self, event: Event) -> Vec<Command> {
        self.revision += 1;
        match event {
            Event::PageLoaded {
                query,
                fragment,
                saved,
                now,
            } => self.page_loaded(&query, &fragment, saved, now),
            Event::LoginPressed {
                redirect_uri,
                entropy,
                intent,
                now,
            } => self.login(redirect_uri, entropy.0, intent, now),
            Event::HttpAnswered { id, outcome, now } => self.answered(id, outcome, now),
            Event::SignatureChecked { id, verdict, now } => {
                self.signature_checked(id, verdict, now)
            }
            Event::DigestComputed { id, digest, now } => self.digest_computed(id, digest, now),
            Event::SecretTyped { secret, now } => {
                match std::mem::replace(&mut self.flow, Flow::Idle) {
                    Flow::AwaitingSecret { authorized, .. } => {
                        self.redeem(authorized, Some(ClientSecret::new(secret)), now)
                    }
                    other => {
                        self.flow = other;
                        Vec::new()
                    }
                }
            }
            Event::Action {
                action,
                redirect_uri,
                now,
            } => self.action(action, &redirect_uri, now),
            Event::SettingsEdited(settings) => self.settings_edited(settings),
            Event::PresetChosen(id) => self.preset_chosen(&id),
            Event::CommandFailed { problem } => {
                self.fail(problem);
                Vec::new()
            }
        }
    }

    // ----- page load -------------------------------------------------------------------------

    fn page_loaded(&mut self, query: &str, fragment: &str, saved: Saved, now: u64) -> Vec<Command> {
        let mut commands = Vec::new();
        self.known = saved.metadata;
        let parsed = parse_callback(query, fragment);
        if matches!(parsed, Ok(None)) {
            let shared = self.apply_share_link(query, &mut commands);
            if saved.end_session_mark {
                commands.push(Command::Forget(Forget::EndSessionMark));
            }
            self.restore_previous_run(
                saved.pending,
                saved.timeline,
                saved.end_session_mark,
                now,
                &mut commands,
            );
            if shared {
                self.notice = Some(format!(
                    "Settings pre-filled from the link you opened: issuer {}, client id {}, \
                     scopes {}. Check them before you log in.",
                    self.settings.issuer, self.settings.client_id, self.settings.scope
                ));
            }
            return commands;
        }
        // The code and state leave the address bar and history before anything else (C-25).
        commands.push(Command::CleanAddressBar);
        if saved.end_session_mark {
            commands.push(Command::Forget(Forget::EndSessionMark));
        }
        // The pending entry is consumed whatever the outcome (C-20).
        let pending = match (&parsed, saved.pending) {
            (Ok(Some(params)), Ok(mut set)) => {
                let taken = set.take(&params.state);
                if taken.is_some() {
                    commands.push(Command::Persist(Persist::PendingLogins(set)));
                }
                taken
            }
            (Ok(Some(_)), Err(problem)) => {
                // A tampered set is discarded whole and reported (C-27).
                commands.push(Command::Persist(Persist::PendingLogins(PendingSet::new())));
                self.fail(problem);
                return commands;
            }
            (_, _) => None,
        };
        // Each pending login has its own run: the callback continues the one it answers. The
        // lab's forged link continues the lab's run (it ends with the ForgedLink step); any
        // other callback nobody here started is drawn as a run of its own.
        let forged = pending.is_none()
            && saved
                .timeline
                .as_ref()
                .and_then(|t| t.steps().last())
                .is_some_and(|s| s.kind == StepKind::ForgedLink);
        let mut timeline = match (&parsed, &pending) {
            (Ok(Some(params)), Some(_)) => {
                let id = run_id(&params.state);
                let mut runs = saved.runs;
                let run = runs.iter().position(|(run, _)| *run == id).map(|i| {
                    let (_, json) = runs.remove(i);
                    commands.push(Command::Persist(Persist::Runs(runs.clone())));
                    Timeline::from_json(&json)
                });
                run.or(saved.timeline).unwrap_or_default()
            }
            _ if forged => saved.timeline.unwrap_or_default(),
            _ => Timeline::new(),
        };
        let params = match engine::callback_received(&mut timeline, query, fragment, now) {
            Ok(Some(params)) => params,
            Ok(None) => return commands,
            Err(problem) => {
                self.timeline = timeline;
                self.fail(problem);
                return commands;
            }
        };
        // Mix-up defence: `iss` is checked against the pending entry's issuer, not the settings.
        let authorized = match engine::check_callback(&mut timeline, params, pending, now) {
            Ok(authorized) => authorized,
            Err(problem) => {
                self.timeline = timeline;
                if forged {
                    self.flow = Flow::Idle;
                    commands.push(Command::ForgedLinkRefused);
                } else {
                    self.fail(problem);
                }
                return commands;
            }
        };
        self.timeline = timeline;
        let state = authorized.pending.state.secret().to_owned();
        if saved.lab_logins.contains(&state) {
            commands.push(Command::LabLoginReturned { authorized });
            return commands;
        }
        if authorized.pending.verifier.is_none() {
            // PKCE off: the secret was never stored, so the user supplies it again to redeem.
            let demo_secret = ProviderSettings::known_demo_secret(&authorized.pending.client_id);
            self.flow = Flow::AwaitingSecret {
                authorized,
                demo_secret,
            };
            return commands;
        }
        commands.extend(self.redeem(authorized, None, now));
        commands
    }

    /// Applies `?issuer=…&client_id=…&scope=…&preset=…` once; the address bar is cleaned.
    fn apply_share_link(&mut self, query: &str, commands: &mut Vec<Command>) -> bool {
        if query.is_empty() {
            return false;
        }
        let before = self.settings.issuer.clone();
        let applied = self.settings.apply_share_query(query);
        if applied {
            if self.settings.issuer != before {
                self.metadata = None;
            }
            commands.push(Command::Persist(Persist::Settings(self.settings.clone())));
            commands.push(Command::CleanAddressBar);
        }
        applied
    }

    /// An ordinary load: expired pending logins go (S-3), and this tab's last run is shown
    /// again, its unfinished steps failed, with a reload or back-from-logout step.
    fn restore_previous_run(
        &mut self,
        pending: Result<PendingSet, Problem>,
        saved: Option<Timeline>,
        back_from_logout: bool,
        now: u64,
        commands: &mut Vec<Command>,
    ) {
        let dropped = match pending {
            Ok(mut set) => {
                let dropped = set.remove_expired(now);
                if dropped > 0 {
                    commands.push(Command::Persist(Persist::PendingLogins(set)));
                }
                dropped
            }
            Err(_) => {
                commands.push(Command::Persist(Persist::PendingLogins(PendingSet::new())));
                0
            }
        };
        if dropped > 0 {
            self.notice = Some(abandoned_notice());
        }
        let Some(mut timeline) = saved else { return };
        if timeline.is_empty() {
            return;
        }
        // Issue 15: back in the app without an answer to the login that left for the provider
        // (Back from a page of the provider's own, typically an error page): say so.
        let came_back = !back_from_logout
            && timeline.steps().last().is_some_and(|s| {
                matches!(
                    s.kind,
                    StepKind::RedirectToAuthorize | StepKind::UserAtProvider
                )
            });
        if came_back {
            self.notice = Some(back_without_answer_notice());
        }
        timeline.fail_unfinished("The page was reloaded before this step finished.", now);
        if back_from_logout {
            lifecycle::back_from_end_session(&mut timeline, now);
        } else {
            engine::page_reloaded(&mut timeline, now);
        }
        self.timeline = timeline;
    }

    // ----- login -----------------------------------------------------------------------------

    fn login(
        &mut self,
        redirect_uri: String,
        entropy: Result<LoginEntropy, Problem>,
        intent: Option<LabLogin>,
        now: u64,
    ) -> Vec<Command> {
        if self.phase().is_busy() {
            return Vec::new();
        }
        let mut settings = self.settings.normalized();
        if intent == Some(LabLogin::AttackerCode) {
            // The attacker signs in to their own account: ask for the login form even when
            // the provider still has a session for the victim (one prompt, never two).
            settings.auth_params.prompt = "login".to_owned();
        }
        let problems = settings.problems();
        if !problems.is_empty() {
            self.fail(Problem::local(
                &problems.join(" "),
                "Fix the settings above, then press Log in again.",
            ));
            return Vec::new();
        }
        self.timeline = Timeline::new();
        self.rejected_id_token = None;
        self.problem = None;
        self.notice = None;
        self.flow = Flow::Idle;
        let login = LoginInputs {
            settings,
            redirect_uri,
            entropy,
            intent,
        };
        let mut commands = Vec::new();
        if login.settings.manual {
            match login.settings.manual_metadata() {
                Ok(metadata) => {
                    engine::manual_endpoints_used(&mut self.timeline, &metadata, now);
                    self.known.retain(|m| m.issuer != metadata.issuer);
                    self.known.push(metadata.clone());
                    commands.push(Command::Persist(Persist::Metadata(metadata.clone())));
                    commands.extend(self.plan(login, &metadata, now));
                }
                Err(error) => self.fail(Problem::from_error(&error)),
            }
            return commands;
        }
        if let Some(metadata) = self
            .metadata
            .clone()
            .filter(|m| m.issuer == login.settings.issuer)
        {
            return self.plan(login, &metadata, now);
        }
        match self.start_discovery(&login.settings.issuer.clone(), now) {
            Ok((discovery, fetch)) => {
                self.flow = Flow::Discovering {
                    login: Box::new(login),
                    discovery,
                };
                vec![fetch]
            }
            Err(problem) => {
                self.fail(problem);
                Vec::new()
            }
        }
    }

    /// Fresh verifier, state and nonce; the pending login saved; then away to the provider.
    fn plan(&mut self, login: LoginInputs, metadata: &ProviderMetadata, now: u64) -> Vec<Command> {
        let entropy = match login.entropy {
            Ok(entropy) => entropy,
            Err(problem) => {
                self.fail(problem);
                return Vec::new();
            }
        };
        let plan = match engine::plan_login(
            &mut self.timeline,
            &login.settings,
            metadata,
            &login.redirect_uri,
            entropy,
            now,
        ) {
            Ok(plan) => plan,
            Err(problem) => {
                self.fail(problem);
                return Vec::new();
            }
        };
        let state = plan.pending.state.clone();
        let mut commands = vec![Command::Persist(Persist::PendingLogin(plan.pending))];
        if let Some(intent) = login.intent {
            commands.push(Command::LabLoginStarted {
                state: state.secret().to_owned(),
                intent,
            });
        }
        commands.push(Command::Persist(Persist::Run {
            state,
            timeline: self.timeline.clone(),
        }));
        commands.push(Command::Navigate {
            url: plan.authorize_url,
        });
        self.flow = Flow::Redirecting;
        commands
    }

    // ----- discovery -------------------------------------------------------------------------

    fn start_discovery(&mut self, issuer: &str, now: u64) -> Result<(Discovery, Command), Problem> {
        let urls = engine::discovery_urls(issuer)?;
        let id = self.fresh_id();
        let step = engine::discovery_started(&mut self.timeline, &urls[0], 0, now);
        let fetch = Command::Fetch {
            id,
            request: HttpRequest::get(&urls[0], None),
        };
        Ok((
            Discovery {
                issuer: issuer.to_owned(),
                urls,
                attempt: 0,
                step,
                id,
                first_problem: None,
                network: None,
            },
            fetch,
        ))
    }

    /// One discovery answer: the metadata, the next location's fetch, or the problem.
    fn discovery_answer(
        &mut self,
        discovery: &mut Discovery,
        outcome: Outcome,
        now: u64,
    ) -> Result<Result<ProviderMetadata, Command>, Problem> {
        let more = discovery.attempt + 1 < discovery.urls.len();
        match engine::discovery_finished(
            &mut self.timeline,
            discovery.step,
            &discovery.issuer,
            outcome,
            more,
            now,
        ) {
            Ok(metadata) => {
                self.metadata = Some(metadata.clone());
                Ok(Ok(metadata))
            }
            // A document was found but is not acceptable: never look for another one.
            Err(failure) if !failure.try_next => Err(failure.problem),
            Err(failure) => {
                discovery.network = discovery.network.take().or(failure.network_origin);
                discovery.first_problem.get_or_insert(failure.problem);
                if more {
                    discovery.attempt += 1;
                    let url = discovery.urls[discovery.attempt].clone();
                    discovery.id = self.fresh_id();
                    discovery.step =
                        engine::discovery_started(&mut self.timeline, &url, discovery.attempt, now);
                    return Ok(Err(Command::Fetch {
                        id: discovery.id,
                        request: HttpRequest::get(&url, None),
                    }));
                }
                let problem = discovery.first_problem.take().unwrap_or_else(|| {
                    Problem::local("Discovery found no metadata.", "Check the issuer.")
                });
                Err(self.diagnosed(
                    problem,
                    discovery.network.take(),
                    "discovery endpoint (/.well-known/…)",
                    &discovery.issuer,
                ))
            }
        }
    }

    // ----- answers ---------------------------------------------------------------------------

    /// The id this session waits for an HTTP answer on, if any.
    fn awaited_fetch(&self) -> Option<RequestId> {
        match &self.flow {
            Flow::Discovering { discovery, .. } => Some(discovery.id),
            Flow::Exchanging { id, .. } => Some(*id),
            Flow::Verifying(v) => v.awaited_fetch(),
            Flow::LoggedIn(session) => match &session.in_flight {
                Some(InFlight::Api { id, .. })
                | Some(InFlight::UserInfo { id, .. })
                | Some(InFlight::Refresh { id, .. })
                | Some(InFlight::Revoke { id, .. }) => Some(*id),
                Some(InFlight::Verifying(v)) => v.awaited_fetch(),
                None => None,
            },
            _ => None,
        }
    }

    fn answered(&mut self, id: RequestId, outcome: Outcome, now: u64) -> Vec<Command> {
        // A late answer for a request this session no longer waits for is never applied.
        if self.awaited_fetch() != Some(id) {
            return Vec::new();
        }
        match std::mem::replace(&mut self.flow, Flow::Idle) {
            Flow::Discovering {
                login,
                mut discovery,
            } => match self.discovery_answer(&mut discovery, outcome, now) {
                Ok(Ok(metadata)) => {
                    commands_with(Command::Persist(Persist::Metadata(metadata.clone())), {
                        self.plan(*login, &metadata, now)
                    })
                }
                Ok(Err(fetch)) => {
                    self.flow = Flow::Discovering { login, discovery };
                    vec![fetch]
                }
                Err(problem) => {
                    self.fail(problem);
                    Vec::new()
                }
            },
            Flow::Exchanging { call, .. } => self.token_answered(call, outcome, now),
            Flow::Verifying(verification) => {
                self.verification_answered(*verification, outcome, now)
            }
            Flow::LoggedIn(mut session) => match session.in_flight.take() {
                Some(InFlight::Api { step, path, .. }) => {
                    self.api_answered(&mut session, step, path, outcome, now);
                    self.flow = Flow::LoggedIn(session);
                    Vec::new()
                }
                Some(InFlight::UserInfo { step, .. }) => {
                    self.userinfo_answered(&mut session, step, outcome, now);
                    self.flow = Flow::LoggedIn(session);
                    Vec::new()
                }
                Some(InFlight::Refresh { call, .. }) => {
                    self.refresh_answered(session, call, outcome, now)
                }
                Some(InFlight::Revoke { step, kind, .. }) => {
                    let network = network_origin(&outcome);
                    match lifecycle::revocation_finished(&mut self.timeline, step, outcome, now) {
                        Ok(()) => {
                            match kind {
                                TokenKind::Access => session.revoked.access = true,
                                TokenKind::Refresh => session.revoked.refresh = true,
                            }
                            self.problem = None;
                        }
                        Err(problem) => {
                            let issuer = session.info.issuer.clone();
                            self.problem = Some(self.diagnosed(
                                problem,
                                network,
                                "revocation endpoint",
                                &issuer,
                            ));
                        }
                    }
                    self.flow = Flow::LoggedIn(session);
                    Vec::new()
                }
                Some(InFlight::Verifying(verification)) => {
                    self.flow = Flow::LoggedIn(session);
                    self.verification_answered(*verification, outcome, now)
                }
                None => {
                    self.flow = Flow::LoggedIn(session);
                    Vec::new()
                }
            },
            other => {
                self.flow = other;
                Vec::new()
            }
        }
    }

    // ----- redeeming the code ----------------------------------------------------------------

    /// Builds the token request and sends it on the back channel.
    fn redeem(
        &mut self,
        authorized: AuthorizedCallback,
        secret: Option<ClientSecret>,
        now: u64,
    ) -> Vec<Command> {
        match engine::token_request_started(&mut self.timeline, authorized, secret.as_ref(), now) {
            Ok(call) => {
                // The secret is dropped here: it lives only as long as building the request.
                drop(secret);
                let id = self.fresh_id();
                let request = HttpRequest::form(&call.request);
                self.flow = Flow::Exchanging { id, call };
                vec![Command::Fetch { id, request }]
            }
            Err(problem) => {
                self.fail(problem);
                Vec::new()
            }
        }
    }

    fn token_answered(&mut self, call: TokenCall, outcome: Outcome, now: u64) -> Vec<Command> {
        let network = network_origin(&outcome);
        let tokens = match engine::token_response_received(&mut self.timeline, &call, outcome, now)
        {
            Ok(tokens) => tokens,
            Err(problem) => {
                let problem = self.diagnosed(problem, network, "token endpoint", &call.issuer);
                self.fail(problem);
                return vec![Command::MarkDrawn(TOKENS_MARK)];
            }
        };
        let info = SessionInfo {
            issuer: call.issuer.clone(),
            client_id: call.client_id.clone(),
            nonce: call.nonce.clone(),
        };
        match tokens.id_token.clone() {
            Some(id_token) => {
                let rules = ClaimRules {
                    issuer: call.issuer.clone(),
                    client_id: call.client_id.clone(),
                    nonce: match &call.nonce {
                        Some(nonce) => NonceRule::Expected(nonce.clone()),
                        None => NonceRule::IfPresent(None),
                    },
                    expected_sub: None,
                    now_ms: now,
                };
                let access = tokens.access_token.clone();
                self.start_verification(
                    &id_token,
                    access,
                    rules,
                    AfterVerify::Login { tokens, info },
                    None,
                    now,
                )
            }
            None => {
                // Without an ID token the provider's metadata is still wanted for the session's
                // own calls (UserInfo, revocation, logout): from what is known, never refetched.
                let provider = self.known_metadata(&info.issuer);
                self.logged_in_with(tokens, None, info, provider, now);
                vec![Command::MarkDrawn(TOKENS_MARK)]
            }
        }
    }

    fn logged_in_with(
        &mut self,
        tokens: TokenSet,
        identity: Option<VerifiedIdToken>,
        info: SessionInfo,
        provider: Option<ProviderMetadata>,
        now: u64,
    ) {
        self.rejected_id_token = None;
        self.problem = None;
        self.flow = Flow::LoggedIn(Box::new(LoggedIn {
            tokens,
            received_at_ms: now,
            identity,
            info,
            provider,
            revoked: Revoked::default(),
            replaced_refresh: None,
            userinfo: None,
            api_answer: None,
            in_flight: None,
        }));
    }

    // ----- the ID token ----------------------------------------------------------------------

    /// Starts the checks of an ID token. `session` is the logged-in session a refresh keeps.
    fn start_verification(
        &mut self,
        id_token: &IdToken,
        access_token: AccessToken,
        rules: ClaimRules,
        then: AfterVerify,
        session: Option<Box<LoggedIn>>,
        now: u64,
    ) -> Vec<Command> {
        let issuer = rules.issuer.clone();
        let check = match oidc::id_token_received(&mut self.timeline, id_token, now) {
            Ok(check) => check,
            Err(problem) => return self.verification_failed(then, session, id_token, problem),
        };
        let partial = Verification {
            check,
            rules,
            access_token,
            issuer: issuer.clone(),
            provider: None,
            stage: VerifyStage::Digest { id: 0 },
            then,
        };
        match self.known_metadata(&issuer) {
            Some(metadata) => self.with_metadata(partial, session, metadata, now),
            None => match self.start_discovery(&issuer, now) {
                Ok((discovery, fetch)) => {
                    let verification = Verification {
                        stage: VerifyStage::Discovering(discovery),
                        ..partial
                    };
                    self.park(verification, session);
                    vec![fetch]
                }
                Err(problem) => {
                    let token = partial.check.token.clone();
                    self.verification_failed(partial.then, session, &token, problem)
                }
            },
        }
    }

    /// Puts a verification in progress where it belongs (the login's state, or the session's
    /// action in flight after a refresh).
    fn park(&mut self, verification: Verification, session: Option<Box<LoggedIn>>) {
        match session {
            Some(mut session) => {
                session.in_flight = Some(InFlight::Verifying(Box::new(verification)));
                self.flow = Flow::LoggedIn(session);
            }
            None => self.flow = Flow::Verifying(Box::new(verification)),
        }
    }

    fn with_metadata(
        &mut self,
        mut verification: Verification,
        mut session: Option<Box<LoggedIn>>,
        metadata: ProviderMetadata,
        now: u64,
    ) -> Vec<Command> {
        if let Some(s) = session.as_mut() {
            s.provider = Some(metadata.clone());
        }
        verification.provider = Some(metadata.clone());
        let Some(jwks_uri) = metadata.jwks_uri.clone() else {
            let problem = oidc::no_jwks_uri(&mut self.timeline, &verification.check, now);
            let token = verification.check.token.clone();
            return self.verification_failed(verification.then, session, &token, problem);
        };
        let cached = self
            .jwks
            .clone()
            .filter(|(uri, jwks)| *uri == jwks_uri && oidc::has_key_for(jwks, &verification.check))
            .map(|(_, jwks)| jwks);
        match cached {
            Some(jwks) => self.with_jwks(verification, session, &jwks, now),
            None => {
                let id = self.fresh_id();
                let step = oidc::jwks_fetch_started(&mut self.timeline, &jwks_uri, now);
                let fetch = Command::Fetch {
                    id,
                    request: HttpRequest::get(&jwks_uri, None),
                };
                let verification = Verification {
                    stage: VerifyStage::FetchingJwks {
                        id,
                        step,
                        uri: jwks_uri,
                    },
                    ..verification
                };
                self.park(verification, session);
                vec![fetch]
            }
        }
    }

    fn with_jwks(
        &mut self,
        verification: Verification,
        session: Option<Box<LoggedIn>>,
        jwks: &Jwks,
        now: u64,
    ) -> Vec<Command> {
        match oidc::signature_check(&mut self.timeline, &verification.check, jwks, now) {
            Ok(key) => {
                let id = self.fresh_id();
                let command = Command::VerifySignature {
                    id,
                    check: key.clone(),
                };
                let verification = Verification {
                    stage: VerifyStage::Signature { id, key },
                    ..verification
                };
                self.park(verification, session);
                vec![command]
            }
            Err(problem) => {
                let token = verification.check.token.clone();
                self.verification_failed(verification.then, session, &token, problem)
            }
        }
    }

    fn verification_answered(
        &mut self,
        mut verification: Verification,
        outcome: Outcome,
        now: u64,
    ) -> Vec<Command> {
        let session = self.take_session();
        match std::mem::replace(&mut verification.stage, VerifyStage::Digest { id: 0 }) {
            VerifyStage::Discovering(mut discovery) => {
                match self.discovery_answer(&mut discovery, outcome, now) {
                    Ok(Ok(metadata)) => {
                        let mut commands =
                            vec![Command::Persist(Persist::Metadata(metadata.clone()))];
                        commands.extend(self.with_metadata(verification, session, metadata, now));
                        commands
                    }
                    Ok(Err(fetch)) => {
                        verification.stage = VerifyStage::Discovering(discovery);
                        self.park(verification, session);
                        vec![fetch]
                    }
                    Err(problem) => {
                        let token = verification.check.token.clone();
                        self.verification_failed(verification.then, session, &token, problem)
                    }
                }
            }
            VerifyStage::FetchingJwks { step, uri, .. } => {
                let network = network_origin(&outcome);
                match oidc::jwks_fetch_finished(&mut self.timeline, step, outcome, now) {
                    Ok(jwks) => {
                        self.jwks = Some((uri, jwks.clone()));
                        self.with_jwks(verification, session, &jwks, now)
                    }
                    Err(problem) => {
                        let issuer = verification.issuer.clone();
                        let problem =
                            self.diagnosed(problem, network, "key set (jwks_uri)", &issuer);
                        let token = verification.check.token.clone();
                        self.verification_failed(verification.then, session, &token, problem)
                    }
                }
            }
            stage => {
                verification.stage = stage;
                self.park(verification, session);
                Vec::new()
            }
        }
    }

    /// Takes the logged-in session out of the state (a refresh's verification runs inside it).
    fn take_session(&mut self) -> Option<Box<LoggedIn>> {
        match std::mem::replace(&mut self.flow, Flow::Idle) {
            Flow::LoggedIn(session) => Some(session),
            other => {
                self.flow = other;
                None
            }
        }
    }

    /// The verification in progress, taken out of the state if it waits on `id`.
    fn take_verification(
        &mut self,
        id: RequestId,
    ) -> Option<(Verification, Option<Box<LoggedIn>>)> {
        let waits = |v: &Verification| match v.stage {
            VerifyStage::Signature { id: w, .. } | VerifyStage::Digest { id: w } => w == id,
            _ => false,
        };
        match std::mem::replace(&mut self.flow, Flow::Idle) {
            Flow::Verifying(v) if waits(&v) => Some((*v, None)),
            Flow::LoggedIn(mut session) => match session.in_flight.take() {
                Some(InFlight::Verifying(v)) if waits(&v) => Some((*v, Some(session))),
                other => {
                    session.in_flight = other;
                    self.flow = Flow::LoggedIn(session);
                    None
                }
            },
            other => {
                self.flow = other;
                None
            }
        }
    }

    fn signature_checked(
        &mut self,
        id: RequestId,
        verdict: Result<bool, String>,
        now: u64,
    ) -> Vec<Command> {
        let Some((mut verification, session)) = self.take_verification(id) else {
            return Vec::new();
        };
        let VerifyStage::Signature { key, .. } =
            std::mem::replace(&mut verification.stage, VerifyStage::Digest { id: 0 })
        else {
            self.park(verification, session);
            return Vec::new();
        };
        if let Err(problem) =
            oidc::signature_checked(&mut self.timeline, &verification.check, &key, verdict, now)
        {
            let token = verification.check.token.clone();
            return self.verification_failed(verification.then, session, &token, problem);
        }
        // at_hash is checked with the algorithm's own SHA-2 (WebCrypto is I/O: asked for).
        let id = self.fresh_id();
        let command = Command::Digest {
            id,
            hash: verification.check.alg.hash_name(),
            data: verification.access_token.secret().as_bytes().to_vec(),
        };
        verification.stage = VerifyStage::Digest { id };
        self.park(verification, session);
        vec![command]
    }

    fn digest_computed(&mut self, id: RequestId, digest: Vec<u8>, now: u64) -> Vec<Command> {
        let Some((verification, session)) = self.take_verification(id) else {
            return Vec::new();
        };
        if !matches!(verification.stage, VerifyStage::Digest { .. }) {
            self.park(verification, session);
            return Vec::new();
        }
        let rules = ClaimRules {
            now_ms: now,
            ..verification.rules.clone()
        };
        match oidc::claims_checked(
            &mut self.timeline,
            &verification.check,
            &rules,
            &digest,
            now,
        ) {
            Ok(verified) => self.verified(
                verification.then,
                verification.provider,
                session,
                verified,
                now,
            ),
            Err(problem) => {
                let token = verification.check.token.clone();
                self.verification_failed(verification.then, session, &token, problem)
            }
        }
    }

    fn verified(
        &mut self,
        then: AfterVerify,
        provider: Option<ProviderMetadata>,
        session: Option<Box<LoggedIn>>,
        verified: VerifiedIdToken,
        now: u64,
    ) -> Vec<Command> {
        match (then, session) {
            (AfterVerify::Login { tokens, info }, _) => {
                let provider = provider.or_else(|| self.known_metadata(&info.issuer));
                self.logged_in_with(tokens, Some(verified), info, provider, now);
                vec![Command::MarkDrawn(TOKENS_MARK)]
            }
            (AfterVerify::Refresh { refreshed }, Some(mut session)) => {
                session.identity = Some(verified);
                self.apply_refreshed(&mut session, refreshed, now);
                self.flow = Flow::LoggedIn(session);
                Vec::new()
            }
            (AfterVerify::Refresh { .. }, None) => Vec::new(),
        }
    }

    fn verification_failed(
        &mut self,
        then: AfterVerify,
        session: Option<Box<LoggedIn>>,
        id_token: &IdToken,
        problem: Problem,
    ) -> Vec<Command> {
        self.rejected_id_token = rejected_view(id_token);
        match (then, session) {
            // OpenID Connect: an invalid ID token fails the whole login; the tokens that came
            // with it are not kept.
            (AfterVerify::Login { .. }, _) => {
                self.fail(problem);
                vec![Command::MarkDrawn(TOKENS_MARK)]
            }
            // A refresh whose ID token fails keeps the session as it was.
            (AfterVerify::Refresh { .. }, Some(session)) => {
                self.problem = Some(problem);
                self.flow = Flow::LoggedIn(session);
                Vec::new()
            }
            (AfterVerify::Refresh { .. }, None) => {
                self.fail(problem);
                Vec::new()
            }
        }
    }

    // ----- the logged-in session's actions ---------------------------------------------------

    fn action(&mut self, action: Action, redirect_uri: &str, now: u64) -> Vec<Command> {
        if action == Action::Logout {
            self.flow = Flow::Idle;
            self.problem = None;
            engine::logged_out(&mut self.timeline, now);
            return Vec::new();
        }
        let Flow::LoggedIn(mut session) = std::mem::replace(&mut self.flow, Flow::Idle) else {
            return Vec::new();
        };
        if session.in_flight.is_some() {
            self.flow = Flow::LoggedIn(session);
            return Vec::new();
        }
        let commands = match action {
            Action::CallApi(path) => {
                let url = format!("{}{path}", self.settings.normalized().api_base);
                self.problem = None;
                let (step, authorization) = engine::resource_request_started(
                    &mut self.timeline,
                    &url,
                    &session.tokens.access_token,
                    now,
                );
                let id = self.fresh_id();
                session.in_flight = Some(InFlight::Api { id, step, path });
                vec![Command::Fetch {
                    id,
                    request: HttpRequest::get(&url, Some(authorization)),
                }]
            }
            Action::UserInfo => {
                let Some(url) = session
                    .provider
                    .as_ref()
                    .and_then(|p| p.userinfo_endpoint.clone())
                else {
                    self.flow = Flow::LoggedIn(session);
                    return Vec::new();
                };
                self.problem = None;
                let (step, authorization) = oidc::userinfo_request_started(
                    &mut self.timeline,
                    &url,
                    &session.tokens.access_token,
                    now,
                );
                let id = self.fresh_id();
                session.in_flight = Some(InFlight::UserInfo { id, step });
                vec![Command::Fetch {
                    id,
                    request: HttpRequest::get(&url, Some(authorization)),
                }]
            }
            Action::Refresh => {
                let (Some(refresh), Some(endpoint)) = (
                    session.tokens.refresh_token.clone(),
                    session.provider.as_ref().map(|p| p.token_endpoint.clone()),
                ) else {
                    self.flow = Flow::LoggedIn(session);
                    return Vec::new();
                };
                self.problem = None;
                let scope = session.tokens.granted_scope.clone();
                let openid = scope.split_whitespace().any(|s| s == "openid");
                match lifecycle::refresh_started(
                    &mut self.timeline,
                    &endpoint,
                    &refresh,
                    &session.info.client_id,
                    &scope,
                    openid,
                    now,
                ) {
                    Ok(call) => {
                        let id = self.fresh_id();
                        let request = HttpRequest::form(&call.request);
                        session.in_flight = Some(InFlight::Refresh { id, call });
                        vec![Command::Fetch { id, request }]
                    }
                    Err(problem) => {
                        self.problem = Some(problem);
                        Vec::new()
                    }
                }
            }
            Action::Revoke(kind) => {
                let token = match kind {
                    TokenKind::Access => Some(session.tokens.access_token.secret().to_owned()),
                    TokenKind::Refresh => session
                        .tokens
                        .refresh_token
                        .as_ref()
                        .map(|t| t.secret().to_owned()),
                };
                let endpoint = session
                    .provider
                    .as_ref()
                    .and_then(|p| p.revocation_endpoint.clone());
                let (Some(token), Some(endpoint)) = (token, endpoint) else {
                    self.flow = Flow::LoggedIn(session);
                    return Vec::new();
                };
                self.problem = None;
                match lifecycle::revocation_started(
                    &mut self.timeline,
                    &endpoint,
                    kind,
                    &token,
                    &session.info.client_id,
                    now,
                ) {
                    Ok((step, request)) => {
                        let id = self.fresh_id();
                        session.in_flight = Some(InFlight::Revoke { id, step, kind });
                        vec![Command::Fetch {
                            id,
                            request: HttpRequest::form(&request),
                        }]
                    }
                    Err(problem) => {
                        self.problem = Some(problem);
                        Vec::new()
                    }
                }
            }
            Action::LogoutAtProvider => {
                let Some(endpoint) = session
                    .provider
                    .as_ref()
                    .and_then(|p| p.end_session_endpoint.clone())
                else {
                    self.flow = Flow::LoggedIn(session);
                    return Vec::new();
                };
                let id_token = session.identity.as_ref().map(|i| i.token.clone());
                match lifecycle::end_session_planned(
                    &mut self.timeline,
                    &endpoint,
                    id_token.as_ref(),
                    redirect_uri,
                    &session.info.client_id,
                    now,
                ) {
                    Ok(url) => {
                        // The tokens are forgotten before the browser leaves.
                        self.flow = Flow::Redirecting;
                        return vec![
                            Command::Persist(Persist::EndSessionMark),
                            Command::Navigate { url },
                        ];
                    }
                    Err(problem) => {
                        self.fail(problem);
                        return Vec::new();
                    }
                }
            }
            Action::Logout => Vec::new(),
        };
        self.flow = Flow::LoggedIn(session);
        commands
    }

    fn api_answered(
        &mut self,
        session: &mut LoggedIn,
        step: StepId,
        path: &'static str,
        outcome: Outcome,
        now: u64,
    ) {
        // A 403's challenge names the scope the call needed (RFC 6750 §3).
        self.api_needed_scope = outcome
            .as_ref()
            .ok()
            .filter(|r| r.status == 403)
            .and_then(|r| r.www_authenticate.as_deref())
            .map(crate::protocol::resource::parse_www_authenticate)
            .and_then(|p| p.into_iter().find(|(k, _)| k == "scope").map(|(_, v)| v));
        match engine::resource_response_received(&mut self.timeline, step, outcome, now) {
            Ok(value) => {
                session.api_answer = Some(ApiAnswer {
                    path: path.to_owned(),
                    body: crate::protocol::document::pretty(&value),
                });
            }
            Err(problem) => {
                // Still logged in: the tokens are fine, only this call failed.
                session.api_answer = None;
                self.problem = Some(problem);
            }
        }
    }

    fn userinfo_answered(
        &mut self,
        session: &mut LoggedIn,
        step: StepId,
        outcome: Outcome,
        now: u64,
    ) {
        let network = network_origin(&outcome);
        let sub = session.identity.as_ref().map(|i| i.claims.sub.clone());
        match oidc::userinfo_response_received(
            &mut self.timeline,
            step,
            outcome,
            sub.as_deref(),
            now,
        ) {
            Ok(claims) => {
                session.userinfo = Some(crate::protocol::document::pretty(&claims));
                self.problem = None;
            }
            Err(problem) => {
                let issuer = session.info.issuer.clone();
                self.problem = Some(self.diagnosed(problem, network, "UserInfo endpoint", &issuer));
            }
        }
    }

    fn refresh_answered(
        &mut self,
        mut session: Box<LoggedIn>,
        call: RefreshCall,
        outcome: Outcome,
        now: u64,
    ) -> Vec<Command> {
        let network = network_origin(&outcome);
        let refreshed =
            match lifecycle::refresh_response_received(&mut self.timeline, &call, outcome, now) {
                Ok(refreshed) => refreshed,
                Err(problem) => {
                    let issuer = session.info.issuer.clone();
                    self.problem =
                        Some(self.diagnosed(problem, network, "token endpoint", &issuer));
                    self.flow = Flow::LoggedIn(session);
                    return Vec::new();
                }
            };
        // A refreshed ID token is checked like the first one, and must name the same user.
        match refreshed.tokens.id_token.clone() {
            Some(id_token) => {
                let rules = ClaimRules {
                    issuer: session.info.issuer.clone(),
                    client_id: session.info.client_id.clone(),
                    nonce: NonceRule::IfPresent(session.info.nonce.clone()),
                    expected_sub: session.identity.as_ref().map(|i| i.claims.sub.clone()),
                    now_ms: now,
                };
                let access = refreshed.tokens.access_token.clone();
                self.start_verification(
                    &id_token,
                    access,
                    rules,
                    AfterVerify::Refresh { refreshed },
                    Some(session),
                    now,
                )
            }
            None => {
                self.apply_refreshed(&mut session, refreshed, now);
                self.flow = Flow::LoggedIn(session);
                Vec::new()
            }
        }
    }

    fn apply_refreshed(&mut self, session: &mut LoggedIn, refreshed: Refreshed, now: u64) {
        if refreshed.replaced.is_some() {
            session.replaced_refresh = refreshed.replaced;
        }
        session.tokens = refreshed.tokens;
        session.received_at_ms = now;
        session.revoked = Revoked::default();
        session.in_flight = None;
        self.problem = None;
    }

    // ----- settings --------------------------------------------------------------------------

    /// Saves edited settings and forgets discovery if the issuer changed. Pending logins are
    /// not touched: each remembers its own provider.
    fn settings_edited(&mut self, settings: ProviderSettings) -> Vec<Command> {
        if settings.issuer.trim() != self.settings.issuer.trim() {
            self.metadata = None;
        }
        self.settings = settings;
        vec![Command::Persist(Persist::Settings(self.settings.clone()))]
    }

    /// Switches to a preset: its issuer (template), client id, scopes and, for a provider
    /// without discovery, its known endpoints.
    fn preset_chosen(&mut self, id: &str) -> Vec<Command> {
        let mut settings = self.settings.clone();
        let Some(preset) = presets::find(id) else {
            if id == presets::OTHER {
                // Keep what was typed; only the hints go.
                settings.preset = presets::OTHER.to_owned();
                return self.settings_edited(settings);
            }
            return Vec::new();
        };
        settings.preset = preset.id.to_owned();
        settings.issuer = preset.issuer_template.to_owned();
        settings.client_id = preset.client_id.to_owned();
        settings.scope = preset.scope.to_owned();
        settings.client_type = ClientType::Public;
        match preset.endpoints {
            Some(endpoints) => {
                settings.manual = true;
                settings.endpoints = Default::default();
                settings.endpoints.authorization_endpoint = endpoints.authorization.to_owned();
                settings.endpoints.token_endpoint = endpoints.token.to_owned();
            }
            None => settings.manual = false,
        }
        self.settings_edited(settings)
    }
}

impl Verification {
    fn awaited_fetch(&self) -> Option<RequestId> {
        match &self.stage {
            VerifyStage::Discovering(d) => Some(d.id),
            VerifyStage::FetchingJwks { id, .. } => Some(*id),
            _ => None,
        }
    }
}

/// The bench's marker: the tokens (or the failure) are on screen.
pub const TOKENS_MARK: &str = "oauth-flow-lab:tokens";

fn commands_with(first: Command, rest: Vec<Command>) -> Vec<Command> {
    let mut commands = vec![first];
    commands.extend(rest);
    commands
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
