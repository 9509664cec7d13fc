//! Experiment 3 inside the session: the attacker signs in in the lab's window, keeps their own
//! code, and sends the victim a link carrying it; the victim's callback check must refuse it.

use super::*;

impl Session {
    /// The attacker's own login, in the lab's window (the lab's tab never leaves for it).
    pub(in crate::flow::session) fn attacker_login(
        &mut self,
        mut next: Next,
        metadata: &ProviderMetadata,
        now: u64,
    ) -> Vec<Command> {
        let mut settings = self.settings.normalized();
        // The attacker signs in to their own account: ask for the login form even when the
        // provider still has a session for the victim.
        settings.auth_params.prompt = "login".to_owned();
        let entropy = login_entropy(&mut next.entropy);
        let (entropy, forged) = match (entropy, next.entropy.take()) {
            (Ok(entropy), Ok(forged)) => (entropy, forged),
            (Err(problem), _) | (_, Err(problem)) => return self.lab_stopped(problem),
        };
        let plan = match engine::plan_login(
            &mut self.timeline,
            &settings,
            metadata,
            &next.redirect_uri,
            entropy,
            now,
        ) {
            Ok(plan) => plan,
            Err(problem) => return self.lab_stopped(problem),
        };
        let timer = self.fresh_id();
        let url = plan.authorize_url;
        self.flow = Flow::Lab(Box::new(LabRun::AttackerLogin(AttackerLogin {
            pending: plan.pending,
            url: url.clone(),
            trip: Some(timer),
            forged,
        })));
        vec![
            Command::PopupTo { url },
            Command::SetTimer {
                id: timer,
                after_ms: INTERACTIVE_TIMEOUT_MS,
            },
        ]
    }

    /// A window, timer or retry event while the attacker signs in.
    pub(in crate::flow::session) fn attacker_event(
        &mut self,
        mut login: AttackerLogin,
        event: Event,
    ) -> Vec<Command> {
        match event {
            Event::PopupReturned { url, now } if login.trip.is_some() => {
                let (rest, fragment) = url.split_once('#').unwrap_or((url.as_str(), ""));
                let query = rest.split_once('?').map(|(_, q)| q).unwrap_or("");
                let params =
                    match engine::callback_received(&mut self.timeline, query, fragment, now) {
                        Ok(Some(params)) => params,
                        // Not an answer (the window loaded the app without one): keep waiting.
                        Ok(None) => {
                            self.flow = Flow::Lab(Box::new(LabRun::AttackerLogin(login)));
                            return Vec::new();
                        }
                        Err(problem) => return self.lab_stopped(problem),
                    };
                let pending = Some(login.pending);
                match engine::check_callback(&mut self.timeline, params, pending, now) {
                    Ok(authorized) => commands_with(Command::ClosePopup, {
                        self.send_forged_link(authorized, login.forged, now)
                    }),
                    Err(problem) => self.lab_stopped(problem),
                }
            }
            Event::TimerFired { id, now } if login.trip == Some(id) => self.attacker_gave_up(now),
            Event::PopupClosed { now } if login.trip.is_some() => self.attacker_gave_up(now),
            Event::PopupBlocked if login.trip.is_some() => {
                login.trip = None;
                self.flow = Flow::Lab(Box::new(LabRun::AttackerLogin(login)));
                Vec::new()
            }
            Event::RetryPressed { .. } if login.trip.is_none() => {
                let timer = self.fresh_id();
                login.trip = Some(timer);
                let url = login.url.clone();
                self.flow = Flow::Lab(Box::new(LabRun::AttackerLogin(login)));
                vec![
                    Command::OpenPopup,
                    Command::PopupTo { url },
                    Command::SetTimer {
                        id: timer,
                        after_ms: INTERACTIVE_TIMEOUT_MS,
                    },
                ]
            }
            _ => {
                self.flow = Flow::Lab(Box::new(LabRun::AttackerLogin(login)));
                Vec::new()
            }
        }
    }

    /// The attacker's window never came back: nothing was tested, the report says so.
    pub(in crate::flow::session) fn attacker_gave_up(&mut self, now: u64) -> Vec<Command> {
        self.timeline
            .fail_unfinished("The attacker's login window did not come back.", now);
        self.attack.set_report(attacker_gave_up_report());
        self.flow = Flow::Idle;
        vec![Command::ClosePopup]
    }

    /// The attacker keeps their own code and sends the victim a link carrying it.
    pub(in crate::flow::session) fn send_forged_link(
        &mut self,
        authorized: AuthorizedCallback,
        forged: [u8; 32],
        now: u64,
    ) -> Vec<Command> {
        let state = State::from_random(forged);
        let code = authorized.code;
        let link = match crate::protocol::uri::url_with_query(
            &authorized.pending.redirect_uri,
            &["code", "state", "iss"],
            &[("code", code.secret()), ("state", state.secret())],
        ) {
            Ok(link) => link,
            Err(error) => return self.lab_stopped(Problem::from_error(&error)),
        };
        attack::leaked(
            &mut self.timeline,
            "a valid code for their OWN account (and does not redeem it)",
            vec![Param::secret("code", code.masked(), code.secret())],
            now,
        );
        attack::forged_link(&mut self.timeline, &link, now);
        self.flow = Flow::Redirecting;
        vec![Command::Navigate { url: link }]
    }

    /// The forged link arrived and the callback check refused it: report and draw the ghost
    /// path.
    pub(in crate::flow::session) fn forged_link_refused(&mut self, now: u64) {
        let report = attack::forged_link_stopped(&mut self.timeline, now);
        self.flow = Flow::Idle;
        self.problem = None;
        self.notice = Some(
            "Attack lab: the forged callback was refused before any token request — see the \
             diagram and the lab's report."
                .to_owned(),
        );
        self.attack.set_report(report);
    }
}
