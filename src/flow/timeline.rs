//! The single source of truth: an ordered list of steps, one per arrow of the diagram.

use super::secrets::{Carried, SecretStore, SecretValue};
use crate::protocol::document::{stored, stored_or_default, unit_variant, FromStored, Map, Value};
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

// The stored timeline (sessionStorage, the HAR worker's report, the checkup's evidence) is read
// from the parsed object with the rules serde's derive had, pinned by the `stored_timeline_*`
// tests: every member required but the `Option`s (missing: `None`) and, as under
// `#[serde(default)]`, `callout`, `difference`, `defence` and `ghost`; unknown members ignored;
// a member of another type, or a kind / actor / channel / status this app does not store, makes
// the whole text unreadable (`Timeline::from_json` then gives an empty run, as before). A plain
// match per member instead of a derived visitor per type and a sequence reader per list type
// (issue 14's size goal: they were about 20 KB raw of the first load).

impl TryFrom<Map<String, Value>> for Timeline {
    type Error = &'static str;

    fn try_from(mut o: Map<String, Value>) -> Result<Self, Self::Error> {
        Ok(Timeline {
            steps: stored(&mut o, "steps").ok_or("not a stored timeline")?,
            secrets: SecretStore::default(),
        })
    }
}

impl TryFrom<Map<String, Value>> for Step {
    type Error = &'static str;

    fn try_from(mut o: Map<String, Value>) -> Result<Self, Self::Error> {
        let mut read = || {
            Some(Step {
                kind: stored(&mut o, "kind")?,
                from: stored(&mut o, "from")?,
                to: stored(&mut o, "to")?,
                channel: stored(&mut o, "channel")?,
                label: stored(&mut o, "label")?,
                status: stored(&mut o, "status")?,
                started_at_ms: stored(&mut o, "started_at_ms")?,
                duration_ms: stored(&mut o, "duration_ms")?,
                params: stored(&mut o, "params")?,
                exchange: stored(&mut o, "exchange")?,
                note: stored(&mut o, "note")?,
                deviations: stored(&mut o, "deviations")?,
                callout: stored_or_default(&mut o, "callout")?,
                difference: stored_or_default(&mut o, "difference")?,
                defence: stored_or_default(&mut o, "defence")?,
                ghost: stored_or_default(&mut o, "ghost")?,
            })
        };
        read().ok_or("not a stored step")
    }
}

impl FromStored for Step {
    fn from_stored(value: Value) -> Option<Self> {
        match value {
            Value::Object(o) => Step::try_from(o).ok(),
            _ => None,
        }
    }
}

impl FromStored for Param {
    fn from_stored(value: Value) -> Option<Self> {
        let Value::Object(mut o) = value else {
            return None;
        };
        Some(Param {
            name: stored(&mut o, "name")?,
            shown: stored(&mut o, "shown")?,
            secret: stored(&mut o, "secret")?,
            carried: Carried::default(),
        })
    }
}

impl FromStored for HttpExchange {
    fn from_stored(value: Value) -> Option<Self> {
        let Value::Object(mut o) = value else {
            return None;
        };
        Some(HttpExchange {
            method: stored(&mut o, "method")?,
            url: stored(&mut o, "url")?,
            request_headers: stored(&mut o, "request_headers")?,
            request_body: stored(&mut o, "request_body")?,
            status: stored(&mut o, "status")?,
            response_headers: stored(&mut o, "response_headers")?,
            response_body: stored(&mut o, "response_body")?,
        })
    }
}

impl FromStored for StepStatus {
    fn from_stored(value: Value) -> Option<Self> {
        // serde_json's spellings of an enum: a unit variant's name, or an object with the
        // variant's name as its one member (`null` for a unit variant, the fields for `Failed`).
        let name = match value {
            Value::String(name) => name,
            Value::Object(o) if o.len() == 1 => match o.into_iter().next()? {
                (name, Value::Object(mut fields)) if name == "Failed" => {
                    return Some(StepStatus::Failed {
                        reason: stored(&mut fields, "reason")?,
                    })
                }
                (name, Value::Null) => name,
                _ => return None,
            },
            _ => return None,
        };
        match name.as_str() {
            "Pending" => Some(StepStatus::Pending),
            "Active" => Some(StepStatus::Active),
            "Ok" => Some(StepStatus::Ok),
            _ => None,
        }
    }
}

impl FromStored for StepKind {
    fn from_stored(value: Value) -> Option<Self> {
        unit_variant(value)
    }
}

impl FromStored for Actor {
    fn from_stored(value: Value) -> Option<Self> {
        unit_variant(value)
    }
}

impl FromStored for Channel {
    fn from_stored(value: Value) -> Option<Self> {
        unit_variant(value)
    }
}

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
pub(crate) mod tests {
    use super::*;

    #[test]
    fn s02_saved_timeline_never_contains_revealable_secret_values() {
        let mut timeline = Timeline::new();
        let step = Step::local(StepKind::GenerateVerifier, "Generate code_verifier", 1)
            .with_params(vec![Param::secret(
                "code_verifier",
                "dBjf…jXk (43)".into(),
                "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            )]);
        timeline.push(step);
        let json = timeline.to_json();
        assert!(!json.contains("dBjftJeZ4CVP"), "secret leaked: {json}");
        let restored = Timeline::from_json(&json);
        assert_eq!(restored.steps()[0].params[0].shown, "dBjf…jXk (43)");
        assert!(restored.revealable(0, "code_verifier").is_none());
        assert!(restored.secrets().is_empty(), "values never leave memory");
        assert_eq!(
            timeline
                .revealable(0, "code_verifier")
                .map(SecretValue::expose),
            Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "the live run can still reveal it"
        );
    }

    #[test]
    fn restored_run_marks_steps_left_active_as_failed() {
        let mut timeline = Timeline::new();
        let id = timeline.push(Step::new(
            StepKind::TokenRequest,
            Actor::ClientApp,
            Actor::AuthorizationServer,
            Channel::Back,
            "Exchange code",
            10,
        ));
        timeline.fail_unfinished("page was reloaded", 30);
        assert!(timeline.steps()[id].is_failed());
        assert_eq!(timeline.steps()[id].duration_ms, Some(20.0));
    }

    /// What storing keeps of a step: everything but secret values still carried by its params
    /// (a step inside a timeline carries none: they moved to the store).
    pub(crate) fn forget_secrets(step: &mut Step) {
        for p in &mut step.params {
            p.carried = Carried::default();
        }
    }

    /// A timeline with every kind of field: all actors, channels and statuses (a failed step),
    /// an exchange, masked and public params, callout, difference, defence and ghost.
    pub(crate) fn full_timeline() -> Timeline {
        let mut t = Timeline::new();
        t.push(
            Step::new(
                StepKind::TokenRequest,
                Actor::ClientApp,
                Actor::AuthorizationServer,
                Channel::Back,
                "Exchange \"code\"\n→ tokens",
                1_764_000_000_000,
            )
            .with_params(vec![
                Param::public("grant_type", "authorization_code"),
                Param::secret("code", "ab…yz (43)".into(), "THE-REAL-CODE"),
            ])
            .with_exchange(HttpExchange {
                method: "POST".into(),
                url: "https://as.example/token".into(),
                request_headers: vec![("Content-Type".into(), "x-www-form".into())],
                request_body: Some("code=%E2%80%A2".into()),
                status: Some(400),
                response_headers: vec![],
                response_body: None,
            })
            .with_note("note")
            .with_callout("callout")
            .with_difference("difference")
            .with_defence("PKCE"),
        );
        t.step_mut(0).unwrap().deviations = vec!["no iss".into()];
        t.push_failed(
            Step::new(
                StepKind::AttackResponse,
                Actor::AuthorizationServer,
                Actor::Attacker,
                Channel::Front,
                "ghost",
                5,
            )
            .as_ghost(),
            "refused: invalid_grant",
        );
        t.push_done(
            Step::new(
                StepKind::UserAtProvider,
                Actor::User,
                Actor::Browser,
                Channel::UserAction,
                "",
                6,
            ),
            12.5,
        );
        for (kind, status) in [
            (StepKind::ProbeAnswer, StepStatus::Pending),
            (StepKind::Discover, StepStatus::Active),
        ] {
            let id = t.push(Step::new(
                kind,
                Actor::ResourceServer,
                Actor::ResourceServer,
                Channel::Local,
                "x",
                7,
            ));
            t.step_mut(id).unwrap().status = status;
        }
        t
    }

    #[test]
    fn saved_timeline_round_trips_every_field_but_the_revealable_secrets() {
        let t = full_timeline();
        let json = t.to_json();
        assert!(!json.contains("THE-REAL-CODE"), "secret leaked: {json}");
        assert!(!json.contains("revealable"), "{json}");
        let back = Timeline::from_json(&json);
        assert_eq!(back, t);
        assert!(back.secrets().is_empty() && t.revealable(0, "code").is_some());
        assert_eq!(back.to_json(), json);
    }

    #[test]
    fn missing_defaulted_fields_read_as_their_defaults() {
        let json = full_timeline().to_json();
        let mut value = serde_json::from_str::<serde_json::Value>(&json).unwrap();
        for name in ["callout", "difference", "defence", "ghost"] {
            value["steps"][1].as_object_mut().unwrap().remove(name);
        }
        let back = Timeline::from_json(&value.to_string());
        let step = &back.steps()[1];
        assert!(step.is_failed() && step.callout.is_none() && step.defence.is_none());
        assert!(!step.ghost);
        // A required field missing makes the whole timeline unreadable.
        value["steps"][1].as_object_mut().unwrap().remove("label");
        assert!(Timeline::from_json(&value.to_string()).is_empty());
    }

    #[test]
    fn unreadable_saved_timeline_restores_empty() {
        let good = full_timeline().to_json();
        for bad in [
            "{not json",
            "",
            "null",
            "[]",
            "{}",
            r#"{"steps":null}"#,
            r#"{"steps":[1]}"#,
            r#"{"steps":[],"steps":[]}"#,
            &good.replace("\"TokenRequest\"", "\"Nope\""),
            &good.replace("\"Back\"", "\"back\""),
            &good.replace("\"Failed\"", "\"Broken\""),
            &good.replace("1764000000000", "-1"),
            &good.replace("\"status\":400", "\"status\":70000"),
            &good.replace("\"secret\":true", "\"secret\":\"yes\""),
            &good.replace("\"note\":\"note\"", "\"note\":\"note\",\"note\":\"x\""),
            &format!("{}{}", "[".repeat(200), "]".repeat(200)),
        ] {
            assert!(Timeline::from_json(bad).is_empty(), "{bad}");
        }
        assert_eq!(Timeline::from_json(&good).len(), 5);
    }

    /// [`full_timeline`] as the release before issue 14's size work wrote it to sessionStorage
    /// (serde's derive): the stored format, pinned.
    const STORED_FULL: &str = concat!(
        r#"{"steps":[{"kind":"TokenRequest","from":"ClientApp","to":"AuthorizationServer","#,
        r#""channel":"Back","label":"Exchange \"code\"\n→ tokens","status":"Active","#,
        r#""started_at_ms":1764000000000,"duration_ms":null,"params":[{"name":"grant_type","#,
        r#""shown":"authorization_code","secret":false},{"name":"code","shown":"ab…yz (43)","#,
        r#""secret":true}],"exchange":{"method":"POST","url":"https://as.example/token","#,
        r#""request_headers":[["Content-Type","x-www-form"]],"request_body":"code=%E2%80%A2","#,
        r#""status":400,"response_headers":[],"response_body":null},"note":"note","#,
        r#""deviations":["no iss"],"callout":"callout","difference":"difference","#,
        r#""defence":"PKCE","ghost":false},{"kind":"AttackResponse","#,
        r#""from":"AuthorizationServer","to":"Attacker","channel":"Front","label":"ghost","#,
        r#""status":{"Failed":{"reason":"refused: invalid_grant"}},"started_at_ms":5,"#,
        r#""duration_ms":0.0,"params":[],"exchange":null,"note":"","deviations":[],"#,
        r#""callout":null,"difference":null,"defence":null,"ghost":true},"#,
        r#"{"kind":"UserAtProvider","from":"User","to":"Browser","channel":"UserAction","#,
        r#""label":"","status":"Ok","started_at_ms":6,"duration_ms":12.5,"params":[],"#,
        r#""exchange":null,"note":"","deviations":[],"callout":null,"difference":null,"#,
        r#""defence":null,"ghost":false},{"kind":"ProbeAnswer","from":"ResourceServer","#,
        r#""to":"ResourceServer","channel":"Local","label":"x","status":"Pending","#,
        r#""started_at_ms":7,"duration_ms":null,"params":[],"exchange":null,"note":"","#,
        r#""deviations":[],"callout":null,"difference":null,"defence":null,"ghost":false},"#,
        r#"{"kind":"Discover","from":"ResourceServer","to":"ResourceServer","channel":"Local","#,
        r#""label":"x","status":"Active","started_at_ms":7,"duration_ms":null,"params":[],"#,
        r#""exchange":null,"note":"","deviations":[],"callout":null,"difference":null,"#,
        r#""defence":null,"ghost":false}]}"#
    );

    #[test]
    fn stored_timeline_written_before_reads_back_equal_and_is_written_the_same() {
        assert_eq!(full_timeline().to_json(), STORED_FULL);
        assert_eq!(Timeline::from_json(STORED_FULL), full_timeline());
    }

    /// Every step kind, actor, channel and status this app stores, by the names it stores them.
    #[test]
    fn stored_timeline_every_kind_actor_channel_and_status_reads_back() {
        use StepKind::*;
        let kinds = [
            Discover,
            GenerateVerifier,
            DeriveChallenge,
            GenerateState,
            SavePending,
            RedirectToAuthorize,
            UserAtProvider,
            RedirectBack,
            CheckCallback,
            TokenRequest,
            TokenResponse,
            ServerCheck,
            ResourceRequest,
            ResourceResponse,
            Logout,
            FetchJwks,
            VerifyIdToken,
            CheckIdTokenClaims,
            UserInfoRequest,
            UserInfoResponse,
            RefreshRequest,
            RefreshResponse,
            Revoke,
            EndSession,
            Intercept,
            AttackRequest,
            AttackResponse,
            ForgedLink,
            ProbeRequest,
            ProbeAnswer,
            Preflight,
            PreflightResponse,
        ];
        let actors = [Actor::ALL.as_slice(), &[Actor::Attacker]].concat();
        let channels = [
            Channel::Front,
            Channel::Back,
            Channel::Local,
            Channel::UserAction,
        ];
        let statuses = [
            StepStatus::Pending,
            StepStatus::Active,
            StepStatus::Ok,
            StepStatus::Failed {
                reason: "why".into(),
            },
        ];
        let mut t = Timeline::new();
        for (i, kind) in kinds.into_iter().enumerate() {
            let id = t.push(Step::new(
                kind,
                actors[i % actors.len()],
                actors[(i + 1) % actors.len()],
                channels[i % channels.len()],
                &format!("{kind:?}"),
                i as u64,
            ));
            t.step_mut(id).unwrap().status = statuses[i % statuses.len()].clone();
        }
        let json = t.to_json();
        for name in [r#""kind":"PreflightResponse""#, r#""from":"Attacker""#] {
            assert!(json.contains(name), "{name}: {json}");
        }
        assert_eq!(Timeline::from_json(&json), t);
        // serde's other spelling of a unit variant, an object with one `null` member, as before.
        let other = json.replacen(r#""kind":"Discover""#, r#""kind":{"Discover":null}"#, 1);
        let other = other.replacen(r#""status":"Ok""#, r#""status":{"Ok":null}"#, 1);
        assert_ne!(other, json);
        assert_eq!(Timeline::from_json(&other), t);
    }

    /// The stored JSON of [`full_timeline`] with one member edited: `at` is the path to the
    /// object holding it (`steps/0/exchange`).
    fn stored_edited(
        at: &str,
        edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
    ) -> String {
        crate::protocol::document::edited_at(STORED_FULL, at, edit)
    }

    /// Where each stored member sits, with what its absence reads as: `None` when the whole
    /// timeline is then unreadable (a required member), else the step changed as expected.
    const STEP_MEMBERS: [&str; 16] = [
        "kind",
        "from",
        "to",
        "channel",
        "label",
        "status",
        "started_at_ms",
        "duration_ms",
        "params",
        "exchange",
        "note",
        "deviations",
        "callout",
        "difference",
        "defence",
        "ghost",
    ];

    #[test]
    fn stored_timeline_missing_members_are_none_or_default_or_make_it_unreadable() {
        let full = full_timeline();
        // Without `#[serde(default)]` a missing `Option` is `None`; the rest are required.
        for name in STEP_MEMBERS {
            let back = Timeline::from_json(&stored_edited("steps/0", |o| {
                o.remove(name);
            }));
            let mut expected = full.clone();
            let step = expected.step_mut(0).unwrap();
            match name {
                "duration_ms" => step.duration_ms = None,
                "exchange" => step.exchange = None,
                "callout" => step.callout = None,
                "difference" => step.difference = None,
                "defence" => step.defence = None,
                "ghost" => step.ghost = false,
                _ => {
                    assert!(back.is_empty(), "{name} is required");
                    continue;
                }
            }
            assert_eq!(back, expected, "{name} missing");
        }
        // The ghost step's `ghost: true` missing reads as false.
        let back = Timeline::from_json(&stored_edited("steps/1", |o| {
            o.remove("ghost");
        }));
        assert!(!back.steps()[1].ghost);
        for name in ["name", "shown", "secret"] {
            let json = stored_edited("steps/0/params/1", |o| {
                o.remove(name);
            });
            assert!(Timeline::from_json(&json).is_empty(), "param {name}");
        }
        for name in [
            "method",
            "url",
            "request_headers",
            "request_body",
            "status",
            "response_headers",
            "response_body",
        ] {
            let back = Timeline::from_json(&stored_edited("steps/0/exchange", |o| {
                o.remove(name);
            }));
            let mut expected = full.clone();
            let exchange = expected.step_mut(0).unwrap().exchange.as_mut().unwrap();
            match name {
                "request_body" => exchange.request_body = None,
                "status" => exchange.status = None,
                "response_body" => exchange.response_body = None,
                _ => {
                    assert!(back.is_empty(), "exchange {name} is required");
                    continue;
                }
            }
            assert_eq!(back, expected, "exchange {name} missing");
        }
        let json = stored_edited("steps/1/status/Failed", |o| {
            o.remove("reason");
        });
        assert!(Timeline::from_json(&json).is_empty(), "reason");
        assert!(Timeline::from_json(&stored_edited("", |o| {
            o.remove("steps");
        }))
        .is_empty());
    }

    #[test]
    fn stored_timeline_unknown_members_are_ignored() {
        for at in [
            "",
            "steps/0",
            "steps/1",
            "steps/0/params/0",
            "steps/0/exchange",
            "steps/1/status/Failed",
        ] {
            for extra in [
                serde_json::json!(null),
                serde_json::json!(1),
                serde_json::json!({"x": [1, "y"]}),
            ] {
                let json = stored_edited(at, |o| {
                    o.insert("unknown".into(), extra.clone());
                });
                assert_eq!(Timeline::from_json(&json), full_timeline(), "{at}: {extra}");
            }
        }
    }

    /// A member of another type anywhere (or a name this app does not store) makes the whole
    /// stored timeline unreadable: the callback page starts an empty one, as before.
    #[test]
    fn stored_timeline_with_a_member_of_another_type_restores_empty() {
        use serde_json::json;
        let any_but_string = [json!(null), json!(1), json!(true), json!([]), json!({})];
        let mut cases: Vec<(&str, &str, Vec<serde_json::Value>)> = vec![
            (
                "steps/0",
                "kind",
                vec![
                    json!("Nope"),
                    json!("tokenRequest"),
                    json!(1),
                    json!(null),
                    json!({}),
                    json!({"TokenRequest": 1}),
                ],
            ),
            (
                "steps/0",
                "from",
                vec![json!("Server"), json!(0), json!(null)],
            ),
            ("steps/0", "to", vec![json!("user"), json!([]), json!(null)]),
            (
                "steps/0",
                "channel",
                vec![json!("back"), json!(true), json!(null)],
            ),
            (
                "steps/0",
                "status",
                vec![
                    json!("Failed"),
                    json!("Done"),
                    json!(null),
                    json!({}),
                    json!({"Failed": {}}),
                    json!({"Failed": {"reason": 1}}),
                    json!({"Ok": 1}),
                    json!({"Ok": null, "Active": null}),
                ],
            ),
            (
                "steps/0",
                "started_at_ms",
                vec![
                    json!(-1),
                    json!(1.5),
                    json!("1"),
                    json!(null),
                    json!(18446744073709551616.0),
                ],
            ),
            (
                "steps/0",
                "duration_ms",
                vec![json!("1"), json!(true), json!([]), json!({})],
            ),
            (
                "steps/0",
                "params",
                vec![
                    json!(null),
                    json!({}),
                    json!("x"),
                    json!([1]),
                    json!([null]),
                ],
            ),
            (
                "steps/0",
                "exchange",
                vec![json!(1), json!("x"), json!([]), json!(true)],
            ),
            (
                "steps/0",
                "deviations",
                vec![json!(null), json!("x"), json!([1]), json!([null])],
            ),
            (
                "steps/0",
                "ghost",
                vec![json!(null), json!(1), json!("true")],
            ),
            (
                "steps/0/params/0",
                "secret",
                vec![json!(null), json!("yes"), json!(1)],
            ),
            (
                "steps/0/exchange",
                "status",
                vec![json!(70000), json!(-1), json!(1.0), json!("200")],
            ),
            (
                "steps/0/exchange",
                "request_headers",
                vec![
                    json!(null),
                    json!([["a"]]),
                    json!([["a", "b", "c"]]),
                    json!([[1, "b"]]),
                    json!(["ab"]),
                    json!([{}]),
                ],
            ),
            (
                "steps/0/exchange",
                "response_headers",
                vec![json!({}), json!([["a", null]])],
            ),
        ];
        for name in ["label", "note"] {
            cases.push(("steps/0", name, any_but_string.to_vec()));
        }
        for name in ["callout", "difference", "defence"] {
            cases.push(("steps/0", name, any_but_string[1..].to_vec()));
        }
        for name in ["name", "shown"] {
            cases.push(("steps/0/params/1", name, any_but_string.to_vec()));
        }
        for name in ["method", "url"] {
            cases.push(("steps/0/exchange", name, any_but_string.to_vec()));
        }
        for name in ["request_body", "response_body"] {
            cases.push(("steps/0/exchange", name, any_but_string[1..].to_vec()));
        }
        cases.push(("steps/1/status/Failed", "reason", any_but_string.to_vec()));
        cases.push((
            "",
            "steps",
            vec![json!(null), json!({}), json!([1]), json!([[]]), json!("x")],
        ));
        for (at, name, wrong) in cases {
            for wrong in wrong {
                let json = stored_edited(at, |o| {
                    o.insert(name.into(), wrong.clone());
                });
                assert!(
                    Timeline::from_json(&json).is_empty(),
                    "{at}/{name}: {wrong}"
                );
            }
        }
        // The same members with `null` where it means "none" are read.
        for (at, name) in [
            ("steps/0", "callout"),
            ("steps/0", "exchange"),
            ("steps/0/exchange", "status"),
            ("steps/0/exchange", "request_body"),
        ] {
            let json = stored_edited(at, |o| {
                o.insert(name.into(), serde_json::Value::Null);
            });
            assert_eq!(Timeline::from_json(&json).len(), 5, "{at}/{name}: null");
        }
    }
}
