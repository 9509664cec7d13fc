//! The single source of truth: an ordered list of steps, one per arrow of the diagram.

use super::secrets::{Carried, SecretStore, SecretValue};
use crate::protocol::document::{Map, Value};
use crate::text::{self, Catalog};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A participant of the flow: one lifeline of the diagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Actor {
    /// The person at the keyboard.
    User,
    /// The browser's address bar: navigations and redirects pass through it.
    Browser,
    /// This page, the OAuth client.
    ClientApp,
    /// The provider's authorization and token endpoints.
    AuthorizationServer,
    /// The demo API that accepts the access token.
    ResourceServer,
    /// Someone who stole a code or forges links: only in the attack lab's runs.
    Attacker,
}

impl Actor {
    /// Every actor of an ordinary run, left to right as the diagram draws them (the attacker
    /// is drawn only when a run involves it: see [`Timeline::has_attacker`]).
    pub const ALL: [Actor; 5] = [
        Actor::User,
        Actor::Browser,
        Actor::ClientApp,
        Actor::AuthorizationServer,
        Actor::ResourceServer,
    ];

    /// Short display name.
    pub fn label(self) -> &'static str {
        match self {
            Actor::User => "User",
            Actor::Browser => "Browser",
            Actor::ClientApp => "Client app",
            Actor::AuthorizationServer => "Authorization server",
            Actor::ResourceServer => "Resource server",
            Actor::Attacker => "Attacker",
        }
    }
}

/// How a step travelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Channel {
    /// Through the address bar: visible in the URL, history, server logs and Referer.
    Front,
    /// A direct `fetch` from the page: the body travels inside TLS, not in the URL.
    Back,
    /// Work inside one participant, nothing sent.
    Local,
    /// Something the person does (typing a password, clicking Allow).
    UserAction,
}

impl Channel {
    /// Short display name.
    pub fn label(self) -> &'static str {
        match self {
            Channel::Front => "front channel",
            Channel::Back => "back channel",
            Channel::Local => "local",
            Channel::UserAction => "user action",
        }
    }
}

/// Where a step is in its life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum StepStatus {
    /// Announced, not started.
    Pending,
    /// In progress (a request in flight, the user at the provider).
    Active,
    /// Finished as expected.
    Ok,
    /// Stopped; the reason is shown on the arrow.
    Failed {
        /// One plain sentence saying what stopped it.
        reason: String,
    },
}

impl StepStatus {
    /// CSS-friendly name of the status.
    pub fn css(&self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::Active => "active",
            StepStatus::Ok => "ok",
            StepStatus::Failed { .. } => "failed",
        }
    }
}

/// What a step was, so views and tests can find it without parsing labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepKind {
    /// Fetch the provider's discovery document.
    Discover,
    /// Draw 32 random bytes for the PKCE verifier.
    GenerateVerifier,
    /// SHA-256 the verifier into the challenge.
    DeriveChallenge,
    /// Draw 32 random bytes for `state`.
    GenerateState,
    /// Save the pending login in sessionStorage before leaving.
    SavePending,
    /// Navigate the browser to the authorization endpoint.
    RedirectToAuthorize,
    /// The person signs in and consents at the provider.
    UserAtProvider,
    /// The provider redirects back with `code` (or `error`).
    RedirectBack,
    /// Compare `state` and `iss` with the pending login.
    CheckCallback,
    /// POST the code (and verifier) to the token endpoint.
    TokenRequest,
    /// The token endpoint's answer.
    TokenResponse,
    /// A server's checks between a request and its answer, as a note on its lane.
    ServerCheck,
    /// Call the resource API with the access token.
    ResourceRequest,
    /// The resource API's answer.
    ResourceResponse,
    /// Forget the tokens held in memory.
    Logout,
    /// Fetch the provider's signing keys (JWKS) to check the ID token.
    FetchJwks,
    /// Check the ID token's header and signature (WebCrypto).
    VerifyIdToken,
    /// Check the ID token's claims: iss, aud, exp/iat, nonce.
    CheckIdTokenClaims,
    /// Call the OpenID Connect UserInfo endpoint with the access token.
    UserInfoRequest,
    /// The UserInfo endpoint's answer.
    UserInfoResponse,
    /// POST the refresh token to the token endpoint.
    RefreshRequest,
    /// The new tokens (the refresh token rotated or kept).
    RefreshResponse,
    /// Revoke a token at the provider (RFC 7009).
    Revoke,
    /// Send the browser to the provider's end-session endpoint (RP-initiated logout).
    EndSession,
    /// Attack lab: the attacker gets hold of something that leaked (a code, a link).
    Intercept,
    /// Attack lab: the attacker's own request to the token endpoint.
    AttackRequest,
    /// Attack lab: the provider's answer to the attacker.
    AttackResponse,
    /// Attack lab: the victim's browser opens a link the attacker made.
    ForgedLink,
    /// Attack lab: a deliberately weak authorization request (downgrade, implicit).
    ProbeRequest,
    /// Attack lab: the provider's answer to that request, read from the redirect back.
    ProbeAnswer,
    /// The CORS preflight (`OPTIONS`) the browser sends before a request with a DPoP header.
    Preflight,
    /// The server's answer to the preflight.
    PreflightResponse,
}

/// One named parameter that rode on a step, masked unless the value is public.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Param {
    /// Parameter name (`code_challenge`, `state`, ...).
    pub name: String,
    /// What is shown by default: the value, or its mask when secret.
    pub shown: String,
    /// Whether the value is a secret (masked until revealed).
    pub secret: bool,
    /// The real value of a secret on its way into a timeline: moved into the timeline's
    /// [`SecretStore`] when the step is pushed, so a step inside a timeline never holds one.
    #[serde(skip)]
    carried: Carried,
}

impl Param {
    /// A public parameter, shown as it is.
    pub fn public(name: &str, value: &str) -> Self {
        Param {
            name: name.to_owned(),
            shown: value.to_owned(),
            secret: false,
            carried: Carried::default(),
        }
    }

    /// A value masked for good: nothing is kept to reveal it (e.g. a token that arrived where it
    /// must not, such as a refused implicit callback: C-17).
    pub fn masked(name: &str, masked: String) -> Self {
        Param {
            name: name.to_owned(),
            shown: masked,
            secret: true,
            carried: Carried::default(),
        }
    }

    /// A secret parameter: shown masked; the real value goes to the timeline's memory-only
    /// store when the step is pushed, for an explicit reveal.
    pub fn secret(name: &str, masked: String, value: &str) -> Self {
        Param {
            name: name.to_owned(),
            shown: masked,
            secret: true,
            carried: Carried(Some(Arc::new(SecretValue::new(value)))),
        }
    }
}

#[cfg(test)]
impl Param {
    /// The secret value this param still carries on its way into a timeline (tests only).
    pub(crate) fn carried(&self) -> Option<&str> {
        self.carried.0.as_deref().map(SecretValue::expose)
    }
}

/// The HTTP message a step carried, with secrets already masked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HttpExchange {
    /// `GET`, `POST` or `NAVIGATE` for an address-bar navigation.
    pub method: String,
    /// The URL with secret query values masked.
    pub url: String,
    /// Request headers as sent (the access token masked).
    pub request_headers: Vec<(String, String)>,
    /// Request body with secret values masked.
    pub request_body: Option<String>,
    /// Response status (0 = opaque redirect or network failure).
    pub status: Option<u16>,
    /// Response headers the page could read.
    pub response_headers: Vec<(String, String)>,
    /// Response body, secrets masked, truncated for display.
    pub response_body: Option<String>,
}

impl HttpExchange {
    /// A `GET` of a JSON document (discovery, JWKS, the API, UserInfo), as sent: `Accept:
    /// application/json`, no body.
    pub fn json_get(url: &str) -> Self {
        HttpExchange {
            method: "GET".into(),
            url: url.into(),
            request_headers: vec![("Accept".into(), "application/json".into())],
            ..HttpExchange::default()
        }
    }
}

/// One arrow (or self-note) of the sequence diagram. Written by serde's derive; read from the
/// parsed object (see [`FromStored`] below), also inside the checkup's stored evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Map<String, Value>")]
pub struct Step {
    /// What the step was.
    pub kind: StepKind,
    /// Sender.
    pub from: Actor,
    /// Receiver (equal to `from` for local work).
    pub to: Actor,
    /// Front, back, local or user action.
    pub channel: Channel,
    /// Short label for the arrow.
    pub label: String,
    /// Pending, active, ok or failed with its reason.
    pub status: StepStatus,
    /// Start time, milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// How long it took, once finished.
    pub duration_ms: Option<f64>,
    /// Parameters worth showing as chips under the label.
    pub params: Vec<Param>,
    /// The HTTP request/response, when the step was one.
    pub exchange: Option<HttpExchange>,
    /// Why this step exists, and what an attacker could do without it.
    pub note: String,
    /// Places where the provider deviated from the RFCs but was tolerated.
    pub deviations: Vec<String>,
    /// A pitfall worth a warning sign next to the step (what goes wrong if it is skipped).
    pub callout: Option<String>,
    /// In explain mode: how this step differs from the PKCE public client, if it does.
    pub difference: Option<String>,
    /// Attack lab: the defence that acted on this step ("PKCE", "state", ...), highlighted.
    pub defence: Option<String>,
    /// Attack lab: what would have happened without the defence, drawn as a faded ghost path.
    pub ghost: bool,
}

impl Step {
    /// A step of local work in the client app (no message leaves the page).
    pub fn local(kind: StepKind, label: &str, now_ms: u64) -> Self {
        Self::new(
            kind,
            Actor::ClientApp,
            Actor::ClientApp,
            Channel::Local,
            label,
            now_ms,
        )
    }

    /// A new step in the `Active` state with no parameters or exchange yet.
    pub fn new(
        kind: StepKind,
        from: Actor,
        to: Actor,
        channel: Channel,
        label: &str,
        now_ms: u64,
    ) -> Self {
        Step {
            kind,
            from,
            to,
            channel,
            label: label.to_owned(),
            status: StepStatus::Active,
            started_at_ms: now_ms,
            duration_ms: None,
            params: Vec::new(),
            exchange: None,
            note: String::new(),
            deviations: Vec::new(),
            callout: None,
            difference: None,
            defence: None,
            ghost: false,
        }
    }

    /// Adds the teaching note.
    pub fn with_note(mut self, note: &str) -> Self {
        self.note = note.to_owned();
        self
    }

    /// Attaches a pitfall callout.
    pub fn with_callout(mut self, callout: &str) -> Self {
        self.callout = Some(callout.to_owned());
        self
    }

    /// Marks how this step differs from the PKCE variant (explain mode).
    pub fn with_difference(mut self, difference: &str) -> Self {
        self.difference = Some(difference.to_owned());
        self
    }

    /// Adds parameter chips.
    pub fn with_params(mut self, params: Vec<Param>) -> Self {
        self.params = params;
        self
    }

    /// Marks the defence that acted on this step.
    pub fn with_defence(mut self, defence: &str) -> Self {
        self.defence = Some(defence.to_owned());
        self
    }

    /// Marks the step as a ghost: what would have happened without the defence.
    pub fn as_ghost(mut self) -> Self {
        self.ghost = true;
        self
    }

    /// Adds the HTTP exchange.
    pub fn with_exchange(mut self, exchange: HttpExchange) -> Self {
        self.exchange = Some(exchange);
        self
    }

    /// Whether the step has failed.
    pub fn is_failed(&self) -> bool {
        matches!(self.status, StepStatus::Failed { .. })
    }
}

/// Index of a step inside its timeline.
pub type StepId = usize;

/// Whether any of `steps` involves the attacker.
pub fn involves_attacker(steps: &[Step]) -> bool {
    steps
        .iter()
        .any(|s| s.from == Actor::Attacker || s.to == Actor::Attacker)
}

/// The ordered steps of one run: what the diagram, inspector and exporters read.
///
/// The steps hold masks only; the real values of secret parameters sit in a memory-only
/// [`SecretStore`] beside them, which serialisation skips. A clone shares that store (the
/// UI's memo hands clones to the inspector, whose Reveal must keep working) without copying
/// a value; [`Timeline::masked_copy`] gives a copy with no access to them at all.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(try_from = "Map<String, Value>")]
pub struct Timeline {
    steps: Vec<Step>,
    #[serde(skip)]
    secrets: SecretStore,
}

impl PartialEq for Timeline {
    // The run is its steps; what is still in memory to reveal is not part of it.
    fn eq(&self, other: &Self) -> bool {
        self.steps == other.steps
    }
}

mod stored;

/// Moves the secrets a step's params carry into the store, under the step's id.
fn keep_secrets(id: StepId, step: &mut Step, store: &mut SecretStore) {
    for param in &mut step.params {
        if let Some(value) = param.carried.0.take() {
            store.keep(id, &param.name, value);
        }
    }
}

impl Timeline {
    /// An empty timeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy whose teaching text (notes, callouts, differences, deviations, defences) is
    /// resolved from the catalog (`crate::text`), `pending` in place of each reference when
    /// there is none: what the exports write out.
    pub fn with_text_resolved(&self, catalog: Option<&Catalog>, pending: &str) -> Timeline {
        let mut copy = self.clone();
        let fix = |text: &mut String| {
            if text::has_refs(text) {
                *text = text::resolve_or(text, catalog, pending).into_owned();
            }
        };
        for step in &mut copy.steps {
            fix(&mut step.note);
            step.callout.iter_mut().for_each(fix);
            step.difference.iter_mut().for_each(fix);
            step.defence.iter_mut().for_each(fix);
            step.deviations.iter_mut().for_each(fix);
        }
        copy
    }

    /// Appends a step and returns its id; the values of its secret params move to the store.
    pub fn push(&mut self, mut step: Step) -> StepId {
        let id = self.steps.len();
        keep_secrets(id, &mut step, &mut self.secrets);
        self.steps.push(step);
        id
    }

    /// Appends a step that is already finished successfully.
    pub fn push_done(&mut self, mut step: Step, duration_ms: f64) -> StepId {
        step.status = StepStatus::Ok;
        step.duration_ms = Some(duration_ms);
        self.push(step)
    }

    /// Appends a step that has already failed.
    pub fn push_failed(&mut self, mut step: Step, reason: &str) -> StepId {
        step.status = StepStatus::Failed {
            reason: reason.to_owned(),
        };
        step.duration_ms = Some(0.0);
        self.push(step)
    }

    /// The real value of secret parameter `name` of step `step`, while it is in memory (never
    /// after a reload: the store is not saved).
    pub fn revealable(&self, step: StepId, name: &str) -> Option<&SecretValue> {
        self.secrets.get(step, name)
    }

    /// The memory-only store of revealable values.
    pub fn secrets(&self) -> &SecretStore {
        &self.secrets
    }

    /// A copy of the steps without access to any secret value.
    pub fn masked_copy(&self) -> Timeline {
        Timeline {
            steps: self.steps.clone(),
            secrets: SecretStore::default(),
        }
    }

    /// Marks a step finished, recording how long it took.
    pub fn complete(&mut self, id: StepId, now_ms: u64) {
        if let Some(step) = self.steps.get_mut(id) {
            keep_secrets(id, step, &mut self.secrets);
            step.status = StepStatus::Ok;
            step.duration_ms = Some(now_ms.saturating_sub(step.started_at_ms) as f64);
        }
    }

    /// Marks a step failed with its reason.
    pub fn fail(&mut self, id: StepId, reason: &str, now_ms: u64) {
        if let Some(step) = self.steps.get_mut(id) {
            keep_secrets(id, step, &mut self.secrets);
            step.status = StepStatus::Failed {
                reason: reason.to_owned(),
            };
            step.duration_ms = Some(now_ms.saturating_sub(step.started_at_ms) as f64);
        }
    }

    /// Mutable access to one step, for attaching its response. A secret param added here
    /// moves to the store when the step is completed or failed (until then it stays out of
    /// every serialised, printed or exported form all the same).
    pub fn step_mut(&mut self, id: StepId) -> Option<&mut Step> {
        self.steps.get_mut(id)
    }

    /// Whether any step involves the attacker (its lane is drawn only then).
    pub fn has_attacker(&self) -> bool {
        involves_attacker(&self.steps)
    }

    /// All steps in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether nothing has happened yet.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The most recent step of a kind.
    pub fn last_of(&self, kind: StepKind) -> Option<(StepId, &Step)> {
        self.steps
            .iter()
            .enumerate()
            .rev()
            .find(|(_, s)| s.kind == kind)
    }

    /// Any step still active is marked failed: used when a run is abandoned or restored after
    /// the page was reloaded mid-request.
    pub fn fail_unfinished(&mut self, reason: &str, now_ms: u64) {
        let active: Vec<StepId> = self
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.status == StepStatus::Active)
            .map(|(i, _)| i)
            .collect();
        for id in active {
            self.fail(id, reason, now_ms);
        }
    }

    /// The non-secret JSON kept in sessionStorage so the diagram survives the redirect.
    /// Secret values (the [`SecretStore`]) are never written, only their masks.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{\"steps\":[]}".to_owned())
    }

    /// Restores a saved timeline; anything unreadable gives an empty one.
    pub fn from_json(json: &str) -> Self {
        crate::protocol::document::load_stored(json).unwrap_or_default()
    }
}

#[cfg(test)]
pub(crate) mod tests;
