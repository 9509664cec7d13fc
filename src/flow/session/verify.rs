//! The ID token: metadata, JWKS, signature (WebCrypto), at_hash digest, claims.

use super::*;

impl Session {
    // ----- the ID token ----------------------------------------------------------------------

    /// Starts the checks of an ID token. `session` is the logged-in session a refresh keeps.
    pub(super) fn start_verification(
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
            stage: VerifyStage::Starting,
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
    pub(super) fn park(&mut self, verification: Verification, session: Option<Box<LoggedIn>>) {
        match session {
            Some(mut session) => {
                session.in_flight = Some(InFlight::Verifying(Box::new(verification)));
                self.flow = Flow::LoggedIn(session);
            }
            None => self.flow = Flow::Verifying(Box::new(verification)),
        }
    }

    pub(super) fn with_metadata(
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
        // A login's keys asked for early: taken over if still out, their failure reported.
        if session.is_none() {
            match self.early_keys.take() {
                Some(EarlyKeys::Asked { id, step, uri, .. }) if uri == jwks_uri => {
                    let verification = Verification {
                        stage: VerifyStage::FetchingJwks { id, step, uri },
                        ..verification
                    };
                    self.park(verification, session);
                    return Vec::new();
                }
                Some(EarlyKeys::Failed { uri, problem }) if uri == jwks_uri => {
                    let token = verification.check.token.clone();
                    return self.verification_failed(verification.then, session, &token, problem);
                }
                other => self.early_keys = other,
            }
        }
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

    /// Asks for the login's key set while its code is redeemed, when the issuer's metadata is
    /// known and this page does not hold those keys yet.
    pub(super) fn ask_keys_early(&mut self, issuer: String, now: u64) -> Option<Command> {
        let uri = self.known_metadata(&issuer)?.jwks_uri?;
        if self.jwks.as_ref().is_some_and(|(held, _)| *held == uri) {
            return None;
        }
        let id = self.fresh_id();
        let step = oidc::jwks_fetch_started_early(&mut self.timeline, &uri, now);
        let request = HttpRequest::get(&uri, None);
        self.early_keys = Some(EarlyKeys::Asked {
            id,
            step,
            uri,
            issuer,
        });
        Some(Command::Fetch { id, request })
    }

    /// Whether `id` is the login's early key set, still out and not yet taken over.
    pub(super) fn early_keys_out(&self, id: RequestId) -> bool {
        matches!(self.early_keys, Some(EarlyKeys::Asked { id: asked, .. }) if asked == id)
    }

    /// The early key set arrived before the ID token needed it: kept (or its failure kept).
    pub(super) fn early_keys_answered(&mut self, outcome: Outcome, now: u64) {
        let Some(EarlyKeys::Asked {
            step, uri, issuer, ..
        }) = self.early_keys.take()
        else {
            return;
        };
        let network = network_origin(&outcome);
        match oidc::jwks_fetch_finished(&mut self.timeline, step, outcome, now) {
            Ok(jwks) => self.jwks = Some((uri, jwks)),
            Err(problem) => {
                let problem = self.diagnosed(problem, network, "key set (jwks_uri)", &issuer);
                self.early_keys = Some(EarlyKeys::Failed { uri, problem });
            }
        }
    }

    pub(super) fn with_jwks(
        &mut self,
        verification: Verification,
        session: Option<Box<LoggedIn>>,
        jwks: &Jwks,
        now: u64,
    ) -> Vec<Command> {
        match oidc::signature_check(&mut self.timeline, &verification.check, jwks, now) {
            Ok(key) => {
                let id = self.fresh_id();
                let command = Command::CheckIdToken {
                    id,
                    check: key.clone(),
                    hash: verification.check.alg.hash_name(),
                    access_token: verification.access_token.clone(),
                };
                let verification = Verification {
                    stage: VerifyStage::Checking { id, key },
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

    pub(super) fn verification_answered(
        &mut self,
        mut verification: Verification,
        outcome: Outcome,
        now: u64,
    ) -> Vec<Command> {
        let session = self.take_session();
        match std::mem::replace(&mut verification.stage, VerifyStage::Starting) {
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
    pub(super) fn take_session(&mut self) -> Option<Box<LoggedIn>> {
        match std::mem::replace(&mut self.flow, Flow::Idle) {
            Flow::LoggedIn(session) => Some(session),
            other => {
                self.flow = other;
                None
            }
        }
    }

    /// The verification in progress, taken out of the state if it waits on `id`.
    pub(super) fn take_verification(
        &mut self,
        id: RequestId,
    ) -> Option<(Verification, Option<Box<LoggedIn>>)> {
        let waits = |v: &Verification| match v.stage {
            VerifyStage::Checking { id: w, .. } => w == id,
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

    /// WebCrypto's answers: the signature first, then the claims (with `at_hash`).
    pub(super) fn id_token_checked(
        &mut self,
        id: RequestId,
        verdict: Result<bool, String>,
        digest: &[u8],
        now: u64,
    ) -> Vec<Command> {
        let Some((mut verification, session)) = self.take_verification(id) else {
            return Vec::new();
        };
        let VerifyStage::Checking { key, .. } =
            std::mem::replace(&mut verification.stage, VerifyStage::Starting)
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
        let rules = ClaimRules {
            now_ms: now,
            ..verification.rules.clone()
        };
        match oidc::claims_checked(&mut self.timeline, &verification.check, &rules, digest, now) {
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

    pub(super) fn verified(
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

    pub(super) fn verification_failed(
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
}
