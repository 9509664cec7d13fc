//! The logged-in session's actions and the settings.

use super::*;
use crate::protocol::dpop::DpopServer;

impl Session {
    // ----- the logged-in session's actions ---------------------------------------------------

    pub(super) fn action(&mut self, action: Action, redirect_uri: &str, now: u64) -> Vec<Command> {
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
                let dpop = session.tokens.token_type == "DPoP";
                let (step, authorization) = engine::resource_request_started_as(
                    &mut self.timeline,
                    &url,
                    &session.tokens.access_token,
                    dpop,
                    now,
                );
                let id = self.fresh_id();
                session.in_flight = Some(InFlight::Api { id, step, path });
                let request = HttpRequest::get(&url, Some(authorization));
                let proof = dpop.then(|| {
                    let token = session.tokens.access_token.clone();
                    (DpopServer::Resource, Some(token))
                });
                return self.send_logged_in(session, id, request, proof, step, now);
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
                let dpop = session.tokens.token_type == "DPoP";
                let (step, authorization) = oidc::userinfo_request_started_as(
                    &mut self.timeline,
                    &url,
                    &session.tokens.access_token,
                    dpop,
                    now,
                );
                let id = self.fresh_id();
                session.in_flight = Some(InFlight::UserInfo { id, step });
                let request = HttpRequest::get(&url, Some(authorization));
                let proof = dpop.then(|| {
                    let token = session.tokens.access_token.clone();
                    (DpopServer::Resource, Some(token))
                });
                return self.send_logged_in(session, id, request, proof, step, now);
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
                // A DPoP-bound grant's refresh token is bound to the key too.
                let dpop =
                    session.tokens.token_type == "DPoP" || self.dpop_on_for(&session.info.issuer);
                if dpop {
                    self.draw_preflight(&endpoint, now);
                }
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
                        let step = call.step;
                        session.in_flight = Some(InFlight::Refresh { id, call });
                        let proof = dpop.then_some((DpopServer::Token, None));
                        return self.send_logged_in(session, id, request, proof, step, now);
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
            Action::LogoutAtProvider(random) => {
                let Some(endpoint) = session
                    .provider
                    .as_ref()
                    .and_then(|p| p.end_session_endpoint.clone())
                else {
                    self.flow = Flow::LoggedIn(session);
                    return Vec::new();
                };
                let id_token = session.identity.as_ref().map(|i| i.token.clone());
                let state = crate::protocol::state::State::from_random(random);
                match lifecycle::end_session_planned(
                    &mut self.timeline,
                    &endpoint,
                    id_token.as_ref(),
                    redirect_uri,
                    &session.info.client_id,
                    Some(&state),
                    now,
                ) {
                    Ok(url) => {
                        // The tokens are forgotten before the browser leaves.
                        self.flow = Flow::Redirecting;
                        return vec![
                            Command::Persist(Persist::EndSessionMark(state.secret().to_owned())),
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

    /// Puts the logged-in session back and sends its request: as a plain fetch, or, with
    /// `proof` (which server, and the access token the proof's `ath` covers), through the DPoP
    /// signing chain that ends in that fetch.
    fn send_logged_in(
        &mut self,
        session: Box<LoggedIn>,
        id: RequestId,
        request: HttpRequest,
        proof: Option<(DpopServer, Option<AccessToken>)>,
        step: StepId,
        now: u64,
    ) -> Vec<Command> {
        self.flow = Flow::LoggedIn(session);
        match proof {
            Some((server, token)) => self.send_with_proof(id, request, server, token, step, now),
            None => vec![Command::Fetch { id, request }],
        }
    }

    pub(super) fn api_answered(
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

    pub(super) fn userinfo_answered(
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

    pub(super) fn refresh_answered(
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

    pub(super) fn apply_refreshed(
        &mut self,
        session: &mut LoggedIn,
        refreshed: Refreshed,
        now: u64,
    ) {
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
    pub(super) fn settings_edited(&mut self, settings: ProviderSettings) -> Vec<Command> {
        if settings.issuer.trim() != self.settings.issuer.trim() {
            self.metadata = None;
        }
        self.settings = settings;
        vec![Command::Persist(Persist::Settings(self.settings.clone()))]
    }

    /// Switches to a preset: its issuer (template), client id, scopes and, for a provider
    /// without discovery, its known endpoints.
    pub(super) fn preset_chosen(&mut self, id: &str) -> Vec<Command> {
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
