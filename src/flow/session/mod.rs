//! The sans-I/O session engine: the one place that decides what happens next in a live run.
//!
//! The driver (`src/ui/driver.rs`) feeds [`Event`]s in (time and entropy travel with them) and
//! carries out the [`Command`]s that [`Session::handle`] returns; the session appends steps to
//! its timeline as it goes, through the step functions of `engine`, `oidc` and `lifecycle`.
//! Nothing here touches the browser, a clock or a random source, so every transition is an
//! ordinary host test (`session/tests.rs`), and explain mode runs this same engine.

use crate::flow::attack::{LabLogin, LabRecord};
use crate::flow::engine::{self, LoginEntropy, TokenCall};
use crate::flow::lifecycle::{self, RefreshCall, Refreshed};
use crate::flow::oidc::{self, IdTokenCheck, SignatureCheck, VerifiedIdToken};
use crate::flow::presets;
use crate::flow::problem::{Problem, TransportError};
use crate::flow::settings::{ClientType, ProviderSettings};
use crate::flow::timeline::{StepId, StepKind, Timeline};
use crate::protocol::callback::{parse_callback, AuthorizedCallback};
use crate::protocol::discovery::ProviderMetadata;
use crate::protocol::http::HttpResponse;
use crate::protocol::jwt::{decode, ClaimRules, Jwks, NonceRule};
use crate::protocol::pending::{PendingAuthorization, PendingSet};
use crate::protocol::revocation::TokenKind;
use crate::protocol::secret::{AccessToken, ClientSecret, IdToken, RefreshToken};
use crate::protocol::state::State;
use crate::protocol::token::{TokenRequest, TokenSet};
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
    /// The stolen-token experiment's late replay waits out the API's `iat` window.
    WaitingIatWindow {
        /// Seconds left.
        left_s: u32,
    },
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
            Phase::WaitingIatWindow { .. } => "waiting-iat-window",
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
                | Phase::WaitingIatWindow { .. }
                | Phase::Refreshing
                | Phase::Revoking
        )
    }
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
    /// WebCrypto checks the signature and hashes the access token.
    Checking {
        id: RequestId,
        key: SignatureCheck,
    },
    /// Nothing asked for yet (the stage is being decided).
    Starting,
}

/// A login's key set, asked for while its code is redeemed (it asked for `openid` and the
/// provider's metadata is known): the keys are public and the same whatever the token answer
/// says, so its ID token is checked without waiting one more round trip.
#[derive(Debug)]
enum EarlyKeys {
    /// The request is out; the verification takes it over if it starts first.
    Asked {
        id: RequestId,
        step: StepId,
        uri: String,
        issuer: String,
    },
    /// It failed: the login's verification reports this instead of asking again.
    Failed { uri: String, problem: Problem },
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
    /// An attack-lab run (probes, checkup, a lab login's experiment, the attacker's login).
    Lab(Box<lab::LabRun>),
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
    /// The attack lab's record: reports, scorecard, lab logins, probe states (saved with the
    /// timeline).
    pub attack: LabRecord,
    flow: Flow,
    /// This page's origin (for the CORS diagnosis).
    origin: String,
    /// Discovery result for the settings' issuer, fetched at most once per issuer per page.
    metadata: Option<ProviderMetadata>,
    /// Metadata this tab validated before (by issuer).
    known: Vec<ProviderMetadata>,
    /// The provider's key set, fetched at most once per page unless a key is missing.
    jwks: Option<(String, Jwks)>,
    /// The login's key set, asked for while its code is redeemed.
    early_keys: Option<EarlyKeys>,
    next_id: RequestId,
    revision: u64,
    /// DPoP: the key's public half, the request waiting for a proof, the servers' nonces.
    dpop: dpop::DpopState,
    /// Whether this page was loaded with a provider's answer (see [`Session::back_from_provider`]).
    back_from_provider: bool,
}

/// Names a login's run without writing its `state`: the first 16 characters of
/// BASE64URL(SHA-256(state)).
pub fn run_id(state: &State) -> String {
    let digest = Sha256::digest(state.secret().as_bytes());
    URL_SAFE_NO_PAD.encode(digest)[..16].to_owned()
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
            attack: LabRecord::default(),
            flow: Flow::Idle,
            origin: origin.to_owned(),
            metadata: None,
            known: Vec::new(),
            jwks: None,
            early_keys: None,
            next_id: 1,
            revision: 0,
            dpop: dpop::DpopState::default(),
            back_from_provider: false,
        }
    }

    /// Whether this page was loaded with an answer from a provider trip: a login's callback
    /// (code or error, the lab's logins and forged link included), a probe's late answer, or
    /// the return from the provider's logout. Not an ordinary load, a reload or a share link.
    /// The page folds the settings form then: the user came for the run, not the form.
    pub fn back_from_provider(&self) -> bool {
        self.back_from_provider
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
            Flow::Lab(run) => run.phase(),
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
            // The stolen-token experiment keeps the login while it runs.
            Flow::Lab(run) => run.logged_in(),
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

    /// Ends whatever was in progress with `problem` shown.
    fn fail(&mut self, problem: Problem) {
        self.problem = Some(problem);
        self.flow = Flow::Failed;
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
    ///
    /// Only routes: each group of events has its own method. (Not `#[inline(never)]`: wasm-opt
    /// inlines a function with one caller back whatever the attribute says, so the shipped
    /// `handle` stayed one ~43 KB function, and the first load grew by 883 B gzip.)
    pub fn handle(&mut self, event: Event) -> Vec<Command> {
        self.revision += 1;
        match event {
            Event::PageLoaded {
                query,
                fragment,
                saved,
                entropy,
                now,
            } => self.on_page_load(&query, &fragment, saved, entropy, now),
            event @ (Event::LoginPressed { .. } | Event::SecretTyped { .. }) => {
                self.on_login(event)
            }
            event @ (Event::HttpAnswered { .. } | Event::IdTokenChecked { .. }) => {
                self.on_answer(event)
            }
            event @ (Event::Action { .. }
            | Event::SettingsEdited(_)
            | Event::PresetChosen(_)
            | Event::CommandFailed { .. }) => self.on_user(event),
            event @ (Event::DpopKeyReady { .. }
            | Event::DpopKeyFailed { .. }
            | Event::DpopAlgsProbed { .. }
            | Event::Signed { .. }
            | Event::SignFailed { .. }) => self.on_dpop(event),
            event @ (Event::LabStarted { .. }
            | Event::PopupReturned { .. }
            | Event::PopupBlocked
            | Event::PopupClosed { .. }
            | Event::RetryPressed { .. }
            | Event::TimerFired { .. }) => self.on_lab(event),
        }
    }

    /// The page was loaded: an ordinary load, a callback, or a lab's landing.
    fn on_page_load(
        &mut self,
        query: &str,
        fragment: &str,
        saved: Saved,
        entropy: LabEntropy,
        now: u64,
    ) -> Vec<Command> {
        self.page_loaded(query, fragment, saved, entropy, now)
    }

    /// Log in pressed, or the client secret typed for a PKCE-off login.
    fn on_login(&mut self, event: Event) -> Vec<Command> {
        match event {
            Event::LoginPressed {
                redirect_uri,
                entropy,
                intent,
                now,
            } => self.login(redirect_uri, entropy.0, intent, now),
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
            // `handle` routes only the two above here.
            _ => Vec::new(),
        }
    }

    /// An answer to a fetch, or WebCrypto's to an ID token check.
    fn on_answer(&mut self, event: Event) -> Vec<Command> {
        match event {
            // The login's early key set is no flow's awaited request: it is kept for the ID
            // token, or its failure kept, whatever the flow is doing.
            Event::HttpAnswered { id, outcome, now } if self.early_keys_out(id) => {
                self.early_keys_answered(outcome, now);
                Vec::new()
            }
            Event::HttpAnswered { id, outcome, now } => self.answered(id, outcome, now),
            Event::IdTokenChecked {
                id,
                verdict,
                digest,
                now,
            } => self.id_token_checked(id, verdict, &digest, now),
            // `handle` routes only the two above here.
            _ => Vec::new(),
        }
    }

    /// A button of the logged-in session, the settings form, or a command the driver could
    /// not carry out.
    fn on_user(&mut self, event: Event) -> Vec<Command> {
        match event {
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
            // `handle` routes only the four above here.
            _ => Vec::new(),
        }
    }

    /// WebCrypto's answers for DPoP: a key made (or not), a proof signed (or not), the
    /// algorithms this browser can make. The attacker's key and signatures go to the
    /// stolen-token run.
    fn on_dpop(&mut self, event: Event) -> Vec<Command> {
        match event {
            Event::DpopKeyReady {
                key: DpopKeyRole::Tab,
                public_jwk_json,
                jti_seed,
                now,
            } => self.dpop_key_ready(&public_jwk_json, jti_seed, now),
            Event::DpopKeyFailed {
                key: DpopKeyRole::Tab,
                message,
                now,
            } => self.dpop_key_failed(&message, now),
            Event::DpopAlgsProbed { algs } => {
                self.dpop_algs_probed(algs);
                Vec::new()
            }
            Event::Signed { id, .. } | Event::SignFailed { id, .. } if self.stolen_awaits(id) => {
                self.stolen_event(event)
            }
            event @ (Event::DpopKeyReady { .. } | Event::DpopKeyFailed { .. }) => {
                self.stolen_event(event)
            }
            Event::Signed { id, signature, now } => self.dpop_signed(id, &signature, now),
            Event::SignFailed { id, message, now } => self.dpop_sign_failed(id, &message, now),
            // `handle` routes only DPoP events here.
            _ => Vec::new(),
        }
    }

    /// The attack lab: a Run button, its window, its retry and its timers.
    fn on_lab(&mut self, event: Event) -> Vec<Command> {
        match event {
            Event::LabStarted {
                run,
                redirect_uri,
                entropy,
                now,
            } => self.lab_started(run, redirect_uri, entropy, now),
            event => self.lab_event(event),
        }
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

mod io;
pub use io::*;
mod actions;
mod answers;
mod dpop;
pub use dpop::{NONCE_NOTE, PREFLIGHT_NOTE};
mod lab;
pub use lab::LabStart;
mod load;
mod login;
mod stolen;
mod verify;

#[cfg(test)]
mod dpop_tests;
#[cfg(test)]
mod lab_tests;
#[cfg(test)]
mod tests;
