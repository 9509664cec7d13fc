//! HTTP answers routed to whoever waits for them, and the code redeemed.

use super::*;
use crate::protocol::dpop::DpopServer;

impl Session {
    // ----- answers ---------------------------------------------------------------------------

    /// The id this session waits for an HTTP answer on, if any.
    pub(super) fn awaited_fetch(&self) -> Option<RequestId> {
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
            Flow::Lab(run) => run.awaited_fetch(),
            _ => None,
        }
    }

    pub(super) fn route_answer(
        &mut self,
        id: RequestId,
        outcome: Outcome,
        now: u64,
    ) -> Vec<Command> {
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
            Flow::Lab(run) => self.lab_answered(*run, outcome, now),
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
    pub(super) fn redeem(
        &mut self,
        authorized: AuthorizedCallback,
        secret: Option<ClientSecret>,
        now: u64,
    ) -> Vec<Command> {
        let dpop = self.dpop_on_for(&authorized.pending.issuer);
        if dpop {
            self.draw_preflight(&authorized.pending.token_endpoint, now);
        }
        match engine::token_request_started(&mut self.timeline, authorized, secret.as_ref(), now) {
            Ok(call) => {
                // The secret is dropped here: it lives only as long as building the request.
                drop(secret);
                let id = self.fresh_id();
                let request = HttpRequest::form(&call.request);
                let step = call.step;
                let keys_for = call.openid_requested.then(|| call.issuer.clone());
                self.flow = Flow::Exchanging { id, call };
                let mut commands = if dpop {
                    self.send_with_proof(id, request, DpopServer::Token, None, step, now)
                } else {
                    vec![Command::Fetch { id, request }]
                };
                self.early_keys = None;
                if let Some(issuer) = keys_for {
                    commands.extend(self.ask_keys_early(issuer, now));
                }
                commands
            }
            Err(problem) => {
                self.fail(problem);
                Vec::new()
            }
        }
    }

    pub(super) fn token_answered(
        &mut self,
        call: TokenCall,
        outcome: Outcome,
        now: u64,
    ) -> Vec<Command> {
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

    pub(super) fn logged_in_with(
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
}
