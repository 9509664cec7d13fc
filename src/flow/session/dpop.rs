//! DPoP (RFC 9449) in the live session: this tab's key as the engine knows it (the public half;
//! the driver holds the non-extractable `CryptoKey`), the proof added to each back-channel
//! request that needs one (`Sign` before `Fetch`), the server nonce retry (exactly one, drawn
//! as its own pair of arrows) and the nonces remembered per server.
//!
//! A request that needs a proof goes out in three moves: the session asks for the key
//! (`MakeDpopKey`, once per tab), builds the unsigned proof and asks for a signature (`Sign`),
//! then sends the request with its `DPoP` header (`Fetch`, under the id the flow waits on).

use super::*;
use crate::flow::timeline::{Actor, Channel, HttpExchange, Param, Step};
use crate::protocol::dpop::{
    self, DpopAlg, DpopError, DpopNonce, DpopServer, NonceRetry, NonceStep, ProofRequest,
    PublicJwk, UnsignedProof,
};
use crate::protocol::uri::HttpUrl;

/// The teaching note of the nonce retry's arrows.
pub const NONCE_NOTE: &str = "The server wants proof that this request is fresh: it hands out \
     a nonce (DPoP-Nonce) and accepts only proofs that carry it. The app signs a new proof with \
     the nonce and sends the request once more; a second demand would mean the server does not \
     accept this client's proofs (RFC 9449 §8, §9).";

/// The teaching note of the drawn CORS preflight.
pub const PREFLIGHT_NOTE: &str = "A custom header needs the server's permission first (CORS \
     preflight): DPoP is not a CORS-safelisted request header, so before this POST the browser \
     asks the token endpoint with OPTIONS whether a page from this origin may send it. The page \
     never sees this exchange; it is drawn from what the browser must do, and the POST's answer \
     shows it was allowed.";

/// The chips a proof adds to its request's step (replaced when the request is signed again).
const PROOF_PARAMS: [&str; 3] = ["DPoP", "key thumbprint (jkt)", "signature"];

/// This tab's key as the engine knows it: its algorithm, the public half, its thumbprint, and
/// the seed the `jti`s are drawn from (random, from the driver, with the key).
struct DpopKey {
    alg: DpopAlg,
    jwk: PublicJwk,
    thumbprint: String,
    seed: [u8; 32],
    proofs: u64,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey")
            .field("alg", &self.alg)
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl DpopKey {
    /// 16 bytes for the next proof's `jti`: SHA-256(seed ‖ counter), so every proof of the tab
    /// has its own, and nobody without the seed can predict one.
    fn next_jti_entropy(&mut self) -> [u8; 16] {
        self.proofs += 1;
        let mut hash = Sha256::new();
        hash.update(self.seed);
        hash.update(self.proofs.to_be_bytes());
        let digest = hash.finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(&digest[..16]);
        out
    }
}

/// Where a request with a proof stands.
#[derive(Debug)]
enum Stage {
    /// Waiting for the key (`MakeDpopKey` sent).
    NeedKey,
    /// Waiting for the signature of this proof.
    Signing(UnsignedProof),
    /// Sent; the answer is looked at for a nonce demand.
    Sent,
}

/// A back-channel request that carries a proof.
#[derive(Debug)]
struct ProofJob {
    id: RequestId,
    /// The request as the flow built it, without the `DPoP` header.
    request: HttpRequest,
    server: DpopServer,
    /// The token the request carries (resource calls): gives `ath`.
    access_token: Option<AccessToken>,
    /// The request's step on the timeline.
    step: StepId,
    retry: NonceRetry,
    stage: Stage,
}

/// The session's DPoP part.
#[derive(Debug, Default)]
pub(super) struct DpopState {
    key: Option<DpopKey>,
    /// The algorithm of the key being made (`MakeDpopKey` sent).
    making_key: Option<DpopAlg>,
    /// What this browser can make (`Event::DpopAlgsProbed`; `None`: not probed yet).
    browser: Option<Vec<DpopAlg>>,
    /// The `algs` of the last DPoP challenge a server sent (RFC 9449 §7.1).
    hint: Option<Vec<String>>,
    job: Option<ProofJob>,
    /// The last nonce each server (by origin) handed out, for the next proof to it.
    nonces: Vec<(String, DpopNonce)>,
}

/// What the DPoP part made of an HTTP answer.
pub(super) enum DpopVerdict {
    /// The answer goes to the flow as usual; with the error to show if the server asked for a
    /// nonce a second time.
    PassOn(Option<DpopError>),
    /// The server asked for a nonce: the request goes again with it.
    Retried(Vec<Command>),
}

fn origin(url: &str) -> String {
    HttpUrl::parse(url)
        .map(|u| u.origin())
        .unwrap_or_else(|_| url.to_owned())
}

impl Session {
    /// The thumbprint (RFC 7638) of this tab's DPoP key, once made: what `cnf.jkt` of a bound
    /// token must equal.
    pub fn dpop_thumbprint(&self) -> Option<&str> {
        self.dpop.key.as_ref().map(|k| k.thumbprint.as_str())
    }

    /// Whether the token requests of a login at `issuer` carry DPoP proofs (the switch, or the
    /// provider's metadata when the switch was never touched).
    pub fn dpop_on_for(&self, issuer: &str) -> bool {
        self.settings.dpop_on(
            self.known_metadata(issuer)
                .as_ref()
                .or(self.metadata.as_ref()),
        )
    }

    /// The proof algorithms allowed for a login at `issuer` (its metadata ∩ the last `algs`
    /// hint ∩ what this browser makes, ES256 first) and the one the next login's key uses.
    pub fn dpop_algs_for(&self, issuer: &str) -> (Vec<DpopAlg>, DpopAlg) {
        let metadata = self.known_metadata(issuer).or(self.metadata.clone());
        let listed = metadata
            .map(|m| m.dpop_signing_alg_values_supported)
            .unwrap_or_default();
        let allowed = dpop::allowed_algs(
            &listed,
            self.dpop.hint.as_deref(),
            self.dpop.browser.as_deref(),
        );
        let chosen = dpop::choose_alg(&allowed, self.settings.dpop_pick());
        (allowed, chosen)
    }

    /// Whether a request waits for its DPoP key or proof signature (WebCrypto answers in later
    /// tasks): on the callback page the driver lets the token request leave before it draws.
    pub fn proof_pending(&self) -> bool {
        self.dpop
            .job
            .as_ref()
            .is_some_and(|job| !matches!(job.stage, Stage::Sent))
    }

    /// The algorithm of this tab's key, once made.
    pub fn dpop_key_alg(&self) -> Option<DpopAlg> {
        self.dpop.key.as_ref().map(|k| k.alg)
    }

    /// `Event::DpopAlgsProbed`: what this browser can make, for the choice of algorithm.
    pub(super) fn dpop_algs_probed(&mut self, algs: Vec<DpopAlg>) {
        self.dpop.browser = Some(algs);
    }

    /// Whether the current tokens are DPoP-bound.
    pub fn tokens_are_dpop(&self) -> bool {
        self.tokens().is_some_and(|t| t.token_type == "DPoP")
    }

    /// Draws the CORS preflight the browser sends before a token-endpoint POST that carries a
    /// `DPoP` header (Browser → AS `OPTIONS`, `204` back).
    pub(super) fn draw_preflight(&mut self, url: &str, now: u64) {
        let path = engine::path_of(url).to_owned();
        let origin = self.origin.clone();
        self.timeline.push_done(
            Step::new(
                StepKind::Preflight,
                Actor::Browser,
                Actor::AuthorizationServer,
                Channel::Back,
                &format!("CORS preflight: OPTIONS {path} (may this page send a DPoP header?)"),
                now,
            )
            .with_params(vec![Param::public(
                "Access-Control-Request-Headers",
                "dpop",
            )])
            .with_exchange(HttpExchange {
                method: "OPTIONS".into(),
                url: url.to_owned(),
                request_headers: vec![
                    ("Origin".into(), origin.clone()),
                    ("Access-Control-Request-Method".into(), "POST".into()),
                    (
                        "Access-Control-Request-Headers".into(),
                        "content-type,dpop".into(),
                    ),
                ],
                ..HttpExchange::default()
            })
            .with_note(PREFLIGHT_NOTE),
            0.0,
        );
        self.timeline.push_done(
            Step::new(
                StepKind::PreflightResponse,
                Actor::AuthorizationServer,
                Actor::Browser,
                Channel::Back,
                "204: the DPoP header is allowed from this origin",
                now,
            )
            .with_params(vec![Param::public("Access-Control-Allow-Headers", "dpop")])
            .with_exchange(HttpExchange {
                method: "OPTIONS".into(),
                url: url.to_owned(),
                status: Some(204),
                response_headers: vec![
                    ("Access-Control-Allow-Origin".into(), origin),
                    (
                        "Access-Control-Allow-Headers".into(),
                        "content-type,dpop".into(),
                    ),
                ],
                ..HttpExchange::default()
            })
            .with_note(PREFLIGHT_NOTE),
            0.0,
        );
    }

    /// Sends `request` (drawn as `step`) with a DPoP proof: asks for the key first if the tab
    /// has none, else for the proof's signature. `token` is the access token it carries.
    pub(super) fn send_with_proof(
        &mut self,
        id: RequestId,
        request: HttpRequest,
        server: DpopServer,
        token: Option<AccessToken>,
        step: StepId,
        now: u64,
    ) -> Vec<Command> {
        self.dpop.job = Some(ProofJob {
            id,
            request,
            server,
            access_token: token,
            step,
            retry: NonceRetry::FirstTry,
            stage: Stage::NeedKey,
        });
        self.next_proof(now)
    }

    /// Builds the waiting request's proof and asks for its signature (or for the key first).
    fn next_proof(&mut self, now: u64) -> Vec<Command> {
        // A new login gets a key of the algorithm chosen now; a refresh or an API call keeps
        // the key its tokens are bound to.
        let new_login = matches!(self.flow, Flow::Exchanging { .. });
        let wanted = self.dpop_algs_for(&self.settings.normalized().issuer).1;
        let state = &mut self.dpop;
        let Some(job) = state.job.as_mut() else {
            return Vec::new();
        };
        if new_login && state.key.as_ref().is_some_and(|k| k.alg != wanted) {
            state.key = None;
        }
        let Some(key) = state.key.as_mut() else {
            if state.making_key.is_some() {
                return Vec::new();
            }
            state.making_key = Some(wanted);
            return vec![Command::MakeDpopKey {
                key: DpopKeyRole::Tab,
                alg: wanted,
            }];
        };
        let entropy = key.next_jti_entropy();
        let server = origin(&job.request.url);
        let nonce = state
            .nonces
            .iter()
            .find(|(o, _)| *o == server)
            .map(|(_, n)| n.clone());
        let built = dpop::unsigned_proof(
            &key.jwk,
            key.alg,
            &ProofRequest {
                method: job.request.method,
                url: &job.request.url,
                access_token: job.access_token.as_ref(),
                nonce: nonce.as_ref(),
            },
            now / 1000,
            &entropy,
        );
        match built {
            Ok(unsigned) => {
                let input = unsigned.signing_input().to_owned();
                job.stage = Stage::Signing(unsigned);
                vec![Command::Sign {
                    id: job.id,
                    key: DpopKeyRole::Tab,
                    input,
                }]
            }
            Err(error) => self.proof_failed(Problem::from_error(&error), now),
        }
    }

    /// An unsigned proof of this tab's key for `GET url` with `token` (`None`: no key in
    /// memory). The stolen-token experiment signs it for the app's own request.
    pub(super) fn tab_proof(
        &mut self,
        url: &str,
        token: &AccessToken,
        now: u64,
    ) -> Option<Result<UnsignedProof, DpopError>> {
        let key = self.dpop.key.as_mut()?;
        let entropy = key.next_jti_entropy();
        let request = ProofRequest {
            method: "GET",
            url,
            access_token: Some(token),
            nonce: None,
        };
        Some(dpop::unsigned_proof(
            &key.jwk,
            key.alg,
            &request,
            now / 1000,
            &entropy,
        ))
    }

    /// `Event::DpopKeyReady`: the key is kept (its public half) and the waiting proof built.
    pub(super) fn dpop_key_ready(
        &mut self,
        public_jwk_json: &str,
        jti_seed: [u8; 32],
        now: u64,
    ) -> Vec<Command> {
        let alg = self.dpop.making_key.take().unwrap_or(DpopAlg::Es256);
        match PublicJwk::from_json(public_jwk_json) {
            Ok(jwk) => {
                let thumbprint = jwk.thumbprint();
                self.dpop.key = Some(DpopKey {
                    alg,
                    jwk,
                    thumbprint,
                    seed: jti_seed,
                    proofs: 0,
                });
                self.next_proof(now)
            }
            Err(error) => self.proof_failed(Problem::from_error(&error), now),
        }
    }

    /// `Event::DpopKeyFailed`: the browser could not make the key; the request is not sent.
    pub(super) fn dpop_key_failed(&mut self, message: &str, now: u64) -> Vec<Command> {
        let alg = self.dpop.making_key.take().unwrap_or(DpopAlg::Es256);
        let problem = Problem::local(
            &format!(
                "This browser could not make a non-extractable {} key ({}) for DPoP ({}), so \
                 the request that needs a proof was not sent.",
                alg.name(),
                alg.key_description(),
                crate::protocol::error::sanitize_for_display(message, 200)
            ),
            "Pick another algorithm beside the DPoP switch in the Provider panel, or switch \
             DPoP off.",
        );
        self.proof_failed(problem, now)
    }

    /// `Event::Signed`: the proof is finished and the request sent with it.
    pub(super) fn dpop_signed(
        &mut self,
        id: RequestId,
        signature: &[u8],
        now: u64,
    ) -> Vec<Command> {
        let Some(job) = self.dpop.job.as_mut().filter(|j| j.id == id) else {
            return Vec::new();
        };
        let Stage::Signing(unsigned) = std::mem::replace(&mut job.stage, Stage::Sent) else {
            return Vec::new();
        };
        let proof = match unsigned.finish(signature) {
            Ok(proof) => proof,
            Err(error) => return self.proof_failed(Problem::from_error(&error), now),
        };
        let mut request = job.request.clone();
        request
            .headers
            .push((dpop::DPOP_HEADER, proof.header_value().to_owned()));
        let step = job.step;
        let thumbprint = self.dpop_thumbprint().unwrap_or_default().to_owned();
        if let Some(s) = self.timeline.step_mut(step) {
            let exchange = s.exchange.get_or_insert_with(HttpExchange::default);
            exchange
                .request_headers
                .retain(|(name, _)| name != dpop::DPOP_HEADER);
            exchange
                .request_headers
                .push((dpop::DPOP_HEADER.to_owned(), proof.masked()));
            s.params
                .retain(|p| !PROOF_PARAMS.contains(&p.name.as_str()));
            let claims = proof.claims();
            let mut shown = format!("{} {} iat {}", claims.htm, claims.htu, claims.iat);
            if claims.ath.is_some() {
                shown.push_str(" + ath");
            }
            if claims.nonce.is_some() {
                shown.push_str(" + nonce");
            }
            s.params.push(Param::public(dpop::DPOP_HEADER, &shown));
            s.params
                .push(Param::public("key thumbprint (jkt)", &thumbprint));
            if signature == dpop::PLACEHOLDER_SIGNATURE {
                s.params.push(Param::public(
                    "signature",
                    "placeholder: not a real signature",
                ));
            }
            s.note.push_str(
                " DPoP: a proof JWT signed by this tab's non-extractable key rides along, for \
                 exactly this request (htm, htu, iat, a fresh jti; ath hashes the token). The \
                 inspector decodes it, the signature hidden.",
            );
        }
        // The token answer may now be DPoP-bound (RFC 9449 §5).
        match &mut self.flow {
            Flow::Exchanging { call, .. } => call.proof_sent = true,
            Flow::LoggedIn(session) => {
                if let Some(InFlight::Refresh { call, .. }) = &mut session.in_flight {
                    call.proof_sent = true;
                }
            }
            _ => {}
        }
        vec![Command::Fetch { id, request }]
    }

    /// `Event::SignFailed`: WebCrypto refused to sign; the request is not sent.
    pub(super) fn dpop_sign_failed(
        &mut self,
        id: RequestId,
        message: &str,
        now: u64,
    ) -> Vec<Command> {
        if self.dpop.job.as_ref().is_none_or(|j| j.id != id) {
            return Vec::new();
        }
        let problem = Problem::local(
            &format!(
                "The browser refused to sign the DPoP proof ({}), so the request was not sent.",
                crate::protocol::error::sanitize_for_display(message, 200)
            ),
            "Reload the page (a new key is made) and try again, or switch DPoP off.",
        );
        self.proof_failed(problem, now)
    }

    /// The request that needed a proof cannot go: its step fails and the flow stops where it
    /// was (a login fails; a logged-in session keeps its tokens and shows the problem).
    fn proof_failed(&mut self, problem: Problem, now: u64) -> Vec<Command> {
        let Some(job) = self.dpop.job.take() else {
            self.problem = Some(problem);
            return Vec::new();
        };
        self.timeline.fail(job.step, &problem.what_happened, now);
        match std::mem::replace(&mut self.flow, Flow::Idle) {
            Flow::Exchanging { call, .. } => {
                crate::flow::server_check::settle_code_checks(
                    &mut self.timeline,
                    call.checks,
                    None,
                    now,
                );
                self.fail(problem);
                vec![Command::MarkDrawn(TOKENS_MARK)]
            }
            Flow::LoggedIn(mut session) => {
                if let Some(InFlight::Api { step, .. }) = session.in_flight.take() {
                    crate::flow::server_check::settle_api_checks(
                        &mut self.timeline,
                        step + 1,
                        None,
                        now,
                    );
                }
                self.problem = Some(problem);
                self.flow = Flow::LoggedIn(session);
                Vec::new()
            }
            other => {
                self.flow = other;
                self.problem = Some(problem);
                Vec::new()
            }
        }
    }

    /// Looks at an answer to a request that carried a proof: keeps a fresh nonce, and answers a
    /// first `use_dpop_nonce` demand with one retry (its own pair of arrows).
    pub(super) fn dpop_answered(
        &mut self,
        id: RequestId,
        outcome: &Outcome,
        now: u64,
    ) -> DpopVerdict {
        let ours = self
            .dpop
            .job
            .as_ref()
            .is_some_and(|j| j.id == id && matches!(j.stage, Stage::Sent));
        if !ours {
            return DpopVerdict::PassOn(None);
        }
        let Some(mut job) = self.dpop.job.take() else {
            return DpopVerdict::PassOn(None);
        };
        let Ok(response) = outcome else {
            return DpopVerdict::PassOn(None);
        };
        let server = origin(&job.request.url);
        // RFC 9449 §7.1: a DPoP challenge may list the algorithms the server takes; the next
        // login's key follows it.
        if let Some(algs) = response
            .www_authenticate
            .as_deref()
            .and_then(dpop::parse_dpop_challenge)
            .map(|c| c.algs)
            .filter(|algs| !algs.is_empty())
        {
            self.dpop.hint = Some(algs);
        }
        let header = response.dpop_nonce.as_deref();
        if let Some(nonce) = dpop::next_nonce(header) {
            self.remember_nonce(&server, nonce);
        }
        let demand = dpop::nonce_demand(job.server, response, header);
        match job.retry.on_answer(demand) {
            NonceStep::Final => DpopVerdict::PassOn(None),
            NonceStep::Fail(error) => DpopVerdict::PassOn(Some(error)),
            NonceStep::Retry { nonce, next } => {
                self.remember_nonce(&server, nonce.clone());
                let again = self.draw_nonce_round(job.step, job.server, response, &nonce, now);
                job.step = again;
                job.retry = next;
                job.stage = Stage::NeedKey;
                self.dpop.job = Some(job);
                DpopVerdict::Retried(self.next_proof(now))
            }
        }
    }

    fn remember_nonce(&mut self, server: &str, nonce: DpopNonce) {
        self.dpop.nonces.retain(|(o, _)| o != server);
        self.dpop.nonces.push((server.to_owned(), nonce));
    }

    /// The nonce round on the timeline: the first request completed with the server's demand,
    /// the demand as an answer arrow, then the same request again (a new step the flow now
    /// waits on). Returns the new step.
    fn draw_nonce_round(
        &mut self,
        step: StepId,
        server: DpopServer,
        response: &HttpResponse,
        nonce: &DpopNonce,
        now: u64,
    ) -> StepId {
        let mask: fn(&str) -> String = match server {
            DpopServer::Token => engine::mask_token_json,
            DpopServer::Resource => |body| body.to_owned(),
        };
        engine::attach_response(&mut self.timeline, step, response, mask);
        self.timeline.complete(step, now);
        let Some(first) = self.timeline.steps().get(step).cloned() else {
            return step;
        };
        let (kind, label) = match server {
            DpopServer::Token => (
                StepKind::TokenResponse,
                format!(
                    "{} use_dpop_nonce: sign again with this nonce",
                    response.status
                ),
            ),
            DpopServer::Resource => (
                StepKind::ResourceResponse,
                format!(
                    "{} DPoP error=\"use_dpop_nonce\": sign again with this nonce",
                    response.status
                ),
            ),
        };
        self.timeline.push_done(
            Step::new(kind, first.to, first.from, Channel::Back, &label, now)
                .with_params(vec![Param::public(dpop::NONCE_HEADER, nonce.as_str())])
                .with_note(NONCE_NOTE),
            0.0,
        );
        let mut again = Step::new(
            first.kind,
            first.from,
            first.to,
            Channel::Back,
            &format!("{} (again, with the server's nonce)", first.label),
            now,
        )
        .with_params(
            first
                .params
                .iter()
                .filter(|p| !p.secret && !PROOF_PARAMS.contains(&p.name.as_str()))
                .cloned()
                .collect(),
        )
        .with_note(NONCE_NOTE);
        if let Some(exchange) = &first.exchange {
            again.exchange = Some(HttpExchange {
                method: exchange.method.clone(),
                url: exchange.url.clone(),
                request_headers: exchange
                    .request_headers
                    .iter()
                    .filter(|(name, _)| name != dpop::DPOP_HEADER)
                    .cloned()
                    .collect(),
                request_body: exchange.request_body.clone(),
                ..HttpExchange::default()
            });
        }
        let again = self.timeline.push(again);
        // The flow now waits on the new step.
        match &mut self.flow {
            Flow::Exchanging { call, .. } => call.step = again,
            Flow::LoggedIn(session) => match &mut session.in_flight {
                Some(InFlight::Api {
                    step: api, path, ..
                }) => {
                    // The API's checks follow their request (`resource_response_received`).
                    crate::flow::server_check::settle_api_checks(
                        &mut self.timeline,
                        *api + 1,
                        Some(response),
                        now,
                    );
                    *api = again;
                    crate::flow::server_check::api_checks(
                        &mut self.timeline,
                        &format!("GET {path}"),
                        now,
                    );
                }
                Some(InFlight::UserInfo { step: info, .. }) => *info = again,
                Some(InFlight::Refresh { call, .. }) => call.step = again,
                _ => {}
            },
            _ => {}
        }
        again
    }

    /// The answer routed as usual, after the DPoP part looked at it.
    pub(super) fn answered(&mut self, id: RequestId, outcome: Outcome, now: u64) -> Vec<Command> {
        if self.awaited_fetch() != Some(id) {
            return Vec::new();
        }
        let refused = match self.dpop_answered(id, &outcome, now) {
            DpopVerdict::Retried(commands) => return commands,
            DpopVerdict::PassOn(refused) => refused,
        };
        let commands = self.route_answer(id, outcome, now);
        if let Some(error) = refused {
            // The server asked twice: say so instead of its bare error code.
            self.problem = Some(Problem::from_error(&error));
        }
        commands
    }
}
