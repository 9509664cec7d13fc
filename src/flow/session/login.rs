//! Login: discovery (OIDC, then RFC 8414), the plan, and the trip to the provider.

use super::*;

impl Session {
    // ----- login -----------------------------------------------------------------------------

    pub(super) fn login(
        &mut self,
        redirect_uri: String,
        entropy: Result<LoginEntropy, Problem>,
        intent: Option<LabLogin>,
        now: u64,
    ) -> Vec<Command> {
        if self.phase().is_busy() {
            return Vec::new();
        }
        let settings = self.settings.normalized();
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
    pub(super) fn plan(
        &mut self,
        login: LoginInputs,
        metadata: &ProviderMetadata,
        now: u64,
    ) -> Vec<Command> {
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
            // Recorded before leaving (saved with the timeline): its callback runs the
            // experiment. Like the pending logins (at most 4), abandoned ones fall off.
            if self.attack.logins.len() >= 4 {
                self.attack.logins.remove(0);
            }
            self.attack.logins.push((state.secret().to_owned(), intent));
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

    pub(super) fn start_discovery(
        &mut self,
        issuer: &str,
        now: u64,
    ) -> Result<(Discovery, Command), Problem> {
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
    pub(super) fn discovery_answer(
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
}
