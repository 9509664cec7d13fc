//! Page load: the callback, the share link, the reload and the return from logout.

use super::*;

impl Session {
    // ----- page load -------------------------------------------------------------------------

    pub(super) fn page_loaded(
        &mut self,
        query: &str,
        fragment: &str,
        mut saved: Saved,
        entropy: LabEntropy,
        now: u64,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        self.known = std::mem::take(&mut saved.metadata);
        self.attack = std::mem::take(&mut saved.lab);
        // An attack-lab probe's answer lands in the probe window, which hands it to the lab and
        // never mounts the app (`browser::popup`). One that lands here anyway (a provider
        // resumed a stale probe request after a sign-in in this tab) is dropped, never read as
        // a callback.
        if self.late_probe_answer(query, fragment) {
            self.back_from_provider = true;
            commands.push(Command::CleanAddressBar);
            saved.lab = std::mem::take(&mut self.attack);
            saved.metadata = std::mem::take(&mut self.known);
            commands.extend(self.page_loaded("", "", saved, entropy, now));
            self.notice = Some(late_probe_notice());
            return commands;
        }
        if saved.end_session_mark {
            if let Some(returned) = logout_return_state(query, fragment) {
                // The provider handed the logout's `state` back (RP-Initiated Logout 1.0 §2):
                // never read as a login callback.
                self.back_from_provider = true;
                commands.push(Command::CleanAddressBar);
                commands.push(Command::Forget(Forget::EndSessionMark));
                let matches = saved.end_session_state.as_deref() == Some(returned.as_str());
                self.restore_previous_run(
                    saved.pending,
                    saved.timeline,
                    matches,
                    now,
                    &mut commands,
                );
                lifecycle::end_session_state_checked(&mut self.timeline, matches, now);
                if !matches {
                    self.notice = Some(
                        "This page was loaded with a state that is not the one of this tab's \
                         logout request, so it was ignored: log in again to be sure where you \
                         stand at the provider."
                            .to_owned(),
                    );
                }
                return commands;
            }
        }
        let parsed = parse_callback(query, fragment);
        if matches!(parsed, Ok(None)) {
            let shared = self.apply_share_link(query, &mut commands);
            if saved.end_session_mark {
                commands.push(Command::Forget(Forget::EndSessionMark));
            }
            let state_sent = saved.end_session_mark && saved.end_session_state.is_some();
            self.restore_previous_run(
                saved.pending,
                saved.timeline,
                saved.end_session_mark,
                now,
                &mut commands,
            );
            if state_sent {
                lifecycle::end_session_state_missing(&mut self.timeline);
            }
            if shared {
                self.notice = Some(format!(
                    "Settings pre-filled from the link you opened: issuer {}, client id {}, \
                     scopes {}. Check them before you log in.",
                    self.settings.issuer, self.settings.client_id, self.settings.scope
                ));
            }
            return commands;
        }
        // A callback (or something shaped like one): the provider's answer, good or bad.
        self.back_from_provider = true;
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
                    let (_, run) = runs.remove(i);
                    commands.push(Command::Persist(Persist::Runs(runs.clone())));
                    run
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
                    self.forged_link_refused(now);
                } else {
                    self.fail(problem);
                }
                return commands;
            }
        };
        self.timeline = timeline;
        let state = authorized.pending.state.secret().to_owned();
        if let Some(LabLogin::CodeExperiments { checkup }) = self.attack.take_login(&state) {
            commands.extend(self.start_code_run(authorized, checkup, entropy, now));
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
    pub(super) fn apply_share_link(&mut self, query: &str, commands: &mut Vec<Command>) -> bool {
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
    pub(super) fn restore_previous_run(
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
            && dropped == 0
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
}

/// The `state` of a return from the provider's logout: a query with `state` and nothing of a
/// login's answer (`code`, `error`, tokens), and no fragment.
fn logout_return_state(query: &str, fragment: &str) -> Option<String> {
    let query = query.strip_prefix('?').unwrap_or(query);
    if !fragment.trim_start_matches('#').is_empty() {
        return None;
    }
    let pairs = crate::protocol::uri::parse_query(query);
    let answer = ["code", "error", "access_token", "id_token"];
    if pairs
        .iter()
        .any(|(name, _)| answer.contains(&name.as_str()))
    {
        return None;
    }
    let mut states = pairs.into_iter().filter(|(name, _)| name == "state");
    match (states.next(), states.next()) {
        (Some((_, value)), None) if !value.is_empty() => Some(value),
        _ => None,
    }
}

/// Says what happened when a probe's answer landed in this tab.
fn late_probe_notice() -> String {
    "The provider sent the answer to one of the checkup's earlier probes to this tab (it \
     resumed that request after you signed in here), not the answer to your login. It was \
     dropped without being used. You are now signed in at the provider: press the login button \
     again and it comes straight back."
        .to_owned()
}

/// Back in the app while the login was at the provider: no answer came back.
fn back_without_answer_notice() -> String {
    "You came back from the provider without an answer to your login: nothing reached this app. \
     If the provider showed an error page (for example an unknown client id or a redirect URI \
     it does not accept), read it, fix the settings here, then press Log in again; the \
     unanswered login expires by itself after 10 minutes."
        .to_owned()
}
