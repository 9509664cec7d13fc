//! The provider checkup inside the session: its metadata lines and the probe runs (each probe
//! a trip of the lab's window with a timer that gives up on it), the probe session's ids mapped
//! onto the session's.

use super::*;

impl Session {
    /// The checkup's metadata lines: issuer, S256, public clients (unknown with manual
    /// endpoints: nothing was published to check).
    pub(in crate::flow::session) fn grade_metadata(&mut self, metadata: &ProviderMetadata) {
        let settings = self.settings.normalized();
        let evidence: Vec<Step> = self
            .timeline
            .steps()
            .iter()
            .filter(|s| s.kind == StepKind::Discover)
            .cloned()
            .collect();
        let Some(card) = self.attack.scorecard.as_mut() else {
            return;
        };
        if settings.manual {
            for check in [
                Check::IssuerExact,
                Check::S256Advertised,
                Check::PublicClients,
                Check::Dpop,
            ] {
                card.record(
                    check,
                    Verdict::Unknown,
                    "Manual endpoints are set: no metadata was fetched to check.".to_owned(),
                    Vec::new(),
                );
            }
            return;
        }
        let (v, d) = checkup::judge_issuer(&settings.issuer, Some(&metadata.issuer));
        card.record(Check::IssuerExact, v, d, evidence.clone());
        let (v, d) = checkup::judge_s256(Some(&metadata.code_challenge_methods_supported));
        card.record(Check::S256Advertised, v, d, evidence.clone());
        let (v, d) = checkup::judge_dpop(Some(&metadata.dpop_signing_alg_values_supported));
        card.record(Check::Dpop, v, d, evidence.clone());
        let (v, d) = checkup::judge_public_clients(
            Some(&metadata.token_endpoint_auth_methods_supported),
            None,
        );
        card.record(Check::PublicClients, v, d, evidence);
    }

    // ----- probes ----------------------------------------------------------------------------

    /// Hands the probe session its start (with fresh entropy per probe).
    pub(in crate::flow::session) fn start_probes(
        &mut self,
        kinds: Vec<ProbeKind>,
        checkup: bool,
        interactive: bool,
        mut next: Next,
        metadata: &ProviderMetadata,
        now: u64,
    ) -> Vec<Command> {
        let settings = self.settings.normalized();
        let mut entropy = Vec::new();
        for _ in &kinds {
            match (next.entropy.take(), next.entropy.take()) {
                (Ok(state), Ok(plain)) => entropy.push(ProbeEntropy { state, plain }),
                (Err(problem), _) | (_, Err(problem)) => return self.lab_stopped(problem),
            }
        }
        let event = ProbeEvent::Started {
            target: ProbeTarget {
                issuer: metadata.issuer.clone(),
                client_id: settings.client_id.clone(),
                redirect_uri: next.redirect_uri,
                scope: settings.scope.clone(),
                authorization_endpoint: metadata.authorization_endpoint.clone(),
                token_endpoint: metadata.token_endpoint.clone(),
                iss_advertised: metadata.iss_parameter_supported,
            },
            kinds,
            checkup,
            interactive,
            entropy,
            now,
        };
        let Some((run, commands)) = ProbeRun::start(event, &mut self.timeline, &mut self.attack)
        else {
            return Vec::new();
        };
        let mut probes = Probes {
            run,
            trip: None,
            fetch: None,
        };
        let commands = self.probe_commands(&mut probes, commands);
        self.flow = Flow::Lab(Box::new(LabRun::Probes(probes)));
        commands
    }

    /// The probe session's commands on the session's vocabulary (its ids mapped).
    pub(in crate::flow::session) fn probe_commands(
        &mut self,
        probes: &mut Probes,
        commands: Vec<ProbeCommand>,
    ) -> Vec<Command> {
        let mut out = Vec::new();
        for command in commands {
            match command {
                ProbeCommand::OpenPopup {
                    id,
                    url,
                    timeout_ms,
                } => {
                    let timer = self.fresh_id();
                    probes.trip = Some((timer, id));
                    out.push(Command::PopupTo { url });
                    out.push(Command::SetTimer {
                        id: timer,
                        after_ms: timeout_ms,
                    });
                }
                ProbeCommand::ClosePopup => {
                    probes.trip = None;
                    out.push(Command::ClosePopup);
                }
                ProbeCommand::Fetch { id, request } => {
                    let outer = self.fresh_id();
                    probes.fetch = Some((outer, id));
                    out.push(Command::Fetch { id: outer, request });
                }
            }
        }
        out
    }

    /// A window, timer or retry event for a probe run.
    pub(in crate::flow::session) fn probes_event(
        &mut self,
        probes: &mut Probes,
        event: Event,
    ) -> Vec<Command> {
        let inner = match event {
            Event::PopupReturned { url, now } => probes
                .trip
                .take()
                .map(|(_, id)| ProbeEvent::PopupReturned { id, url, now }),
            Event::TimerFired { id, now } => match probes.trip {
                Some((timer, inner)) if timer == id => {
                    probes.trip = None;
                    Some(ProbeEvent::PopupTimedOut { id: inner, now })
                }
                _ => None,
            },
            // A window the user closed ends the probe at once (no need to wait minutes); the
            // probe session grades it (unknown, never "refused").
            Event::PopupClosed { now } => probes
                .trip
                .take()
                .map(|(_, id)| ProbeEvent::PopupClosed { id, now }),
            Event::PopupBlocked => probes
                .trip
                .take()
                .map(|(_, id)| ProbeEvent::PopupBlocked { id }),
            Event::RetryPressed { now } if probes.run.blocked() => {
                let commands = probes.run.handle(
                    ProbeEvent::RetryPressed { now },
                    &mut self.timeline,
                    &mut self.attack,
                );
                let commands = self.probe_commands(probes, commands);
                return commands_with(Command::OpenPopup, commands);
            }
            _ => None,
        };
        let Some(inner) = inner else {
            return Vec::new();
        };
        let commands = probes
            .run
            .handle(inner, &mut self.timeline, &mut self.attack);
        self.probe_commands(probes, commands)
    }

    /// Whether the URL is the answer to one of this tab's probes (a provider sent it here
    /// instead of the probe window): its `state` is forgotten, it is never read as a callback.
    pub(in crate::flow::session) fn late_probe_answer(
        &mut self,
        query: &str,
        fragment: &str,
    ) -> bool {
        if query.is_empty() && fragment.is_empty() {
            return false;
        }
        let answer = read_probe_return(ProbeKind::NoChallenge, query, fragment);
        let Some(state) = answer.state else {
            return false;
        };
        match self
            .attack
            .probe_states
            .iter()
            .position(|s| s == state.secret())
        {
            Some(at) => {
                self.attack.probe_states.remove(at);
                true
            }
            None => false,
        }
    }
}
