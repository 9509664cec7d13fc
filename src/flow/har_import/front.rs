//! The front channel of an imported login: the authorization request, the redirect back to
//! the app (checked by the live callback check against the login rebuilt from the HAR), the
//! Referer leaks and RP-initiated logout.

use super::*;

impl Importer {
    /// A code or token in the Referer of a request to another origin leaked there (R9700-12).
    pub(super) fn referer_leak(&mut self, entry: &Entry) {
        let Some(referer) = header(&entry.request.headers, "referer") else {
            return;
        };
        let (query, fragment) = query_and_fragment(referer);
        let leaked: Vec<String> = parse_query(query)
            .into_iter()
            .chain(parse_query(fragment))
            .filter(|(k, _)| {
                ["code", "access_token", "id_token", "refresh_token"].contains(&k.as_str())
            })
            .map(|(k, _)| k)
            .collect();
        if leaked.is_empty() || origin(referer) == origin(&entry.request.url) {
            return;
        }
        let step = self
            .timeline
            .last_of(StepKind::RedirectBack)
            .map_or(0, |(id, _)| id);
        self.find(
            Severity::Fail,
            "R9700-12",
            "Code or token leaked in Referer",
            format!(
                "The page still had {} in its URL when it loaded {}: the value went out in the \
                 Referer header. Remove it from the address bar right away (history.replaceState) \
                 and send Referrer-Policy: no-referrer.",
                leaked.join(", "),
                sanitize_for_display(origin(&entry.request.url), 200)
            ),
            step,
        );
    }

    pub(super) fn authorization_request(&mut self, entry: &Entry, params: &[(String, String)]) {
        let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let at = entry.started_ms();
        // With `plain` (or no method: the server assumes plain) the challenge IS the verifier:
        // masked like it, though the finding says anyone who saw the URL has it.
        let plain = get("code_challenge_method").as_deref() != Some("S256");
        let chips = params
            .iter()
            .map(|(name, value)| match name.as_str() {
                "state" | "nonce" => Param::secret(name, mask(value), value),
                "code_challenge" if plain => Param::secret(name, mask(value), value),
                n if PUBLIC_NAMES.contains(&n) => Param::public(
                    &sanitize_for_display(n, 64),
                    &sanitize_for_display(value, 300),
                ),
                n => Param::masked(&sanitize_for_display(n, 64), mask(value)),
            })
            .collect();
        let url = &entry.request.url;
        let step = self.timeline.push_done(
            Step::new(
                StepKind::RedirectToAuthorize,
                Actor::ClientApp,
                Actor::AuthorizationServer,
                Channel::Front,
                "Send the browser to the provider's authorization endpoint",
                at,
            )
            .with_params(chips)
            .with_exchange(HttpExchange {
                method: "NAVIGATE".into(),
                url: sanitize_for_display(
                    &mask_query(
                        url,
                        if plain {
                            &[
                                "state",
                                "nonce",
                                "login_hint",
                                "id_token_hint",
                                "code_challenge",
                            ]
                        } else {
                            &["state", "nonce", "login_hint", "id_token_hint"]
                        },
                    ),
                    2000,
                ),
                request_headers: masked_headers(&entry.request.headers),
                ..HttpExchange::default()
            })
            .with_note(
                "Imported from the HAR: the app's navigation to the authorization endpoint. \
                 Everything here rides in the URL, visible in history and server logs.",
            ),
            entry.duration_ms(),
        );
        // What the app asked for, checked against what a public client must send.
        let response_type = get("response_type").unwrap_or_default();
        if response_type
            .split(' ')
            .any(|t| t == "token" || t == "id_token")
        {
            self.find(
                Severity::Fail,
                "R9700-9",
                "Implicit or hybrid grant",
                format!(
                    "response_type={}: tokens come back in the URL. Use response_type=code with \
                     PKCE (RFC 9700 §2.1.2).",
                    sanitize_for_display(&response_type, 60)
                ),
                step,
            );
        }
        match get("code_challenge_method").as_deref() {
            _ if get("code_challenge").is_none()
                && response_type.split(' ').any(|t| t == "code") =>
            {
                self.find(
                    Severity::Fail,
                    "R9700-5",
                    "PKCE missing",
                    "The authorization request has no code_challenge: a stolen code can be \
                     redeemed by anyone (RFC 7636, RFC 9700 §2.1.1)."
                        .into(),
                    step,
                )
            }
            Some("S256") | None if get("code_challenge").is_none() => {}
            Some("S256") => {}
            None => self.find(
                Severity::Fail,
                "P-4",
                "PKCE method not sent",
                "code_challenge without code_challenge_method: the server assumes plain, which \
                 exposes the verifier in the URL (RFC 7636 §4.3)."
                    .into(),
                step,
            ),
            Some(other) => self.find(
                Severity::Fail,
                "R9700-7",
                "PKCE plain",
                format!(
                    "code_challenge_method={}: the challenge is the verifier itself, so whoever \
                     sees the URL can redeem the code. Use S256.",
                    sanitize_for_display(other, 20)
                ),
                step,
            ),
        }
        let state = get("state").filter(|s| !s.is_empty());
        match &state {
            None => self.find(
                Severity::Fail,
                "R9700-3",
                "state missing",
                "The authorization request carries no state: nothing ties the answer to this \
                 browser (login CSRF, RFC 6749 §10.12)."
                    .into(),
                step,
            ),
            Some(s) if self.seen_states.contains(s) && !self.masked_export => self.find(
                Severity::Fail,
                "A-4",
                "state reused",
                "This state was already sent with an earlier login: it must be fresh and \
                 single-use for every request (RFC 9700 §2.1.1)."
                    .into(),
                step,
            ),
            Some(s) => {
                self.seen_states.insert(s.clone());
            }
        }
        let meta = self.metadata.clone();
        let issuer = meta.as_ref().map(|m| m.issuer.clone());
        if meta.is_none() {
            self.not_checked.push(
                "No usable discovery document in the HAR: the issuer is unknown, so the iss of \
                 the answer and of the ID token were taken as given, and iss support is unknown."
                    .into(),
            );
        }
        self.client_id = get("client_id").unwrap_or_default();
        self.scope = get("scope").unwrap_or_default();
        self.logins.push(Login {
            state,
            nonce: get("nonce"),
            client_id: self.client_id.clone(),
            redirect_uri: get("redirect_uri").unwrap_or_default(),
            scope: self.scope.clone(),
            issuer,
            started_ms: at,
            iss_supported: meta.as_ref().is_some_and(|m| m.iss_parameter_supported),
            token_endpoint: meta.map(|m| m.token_endpoint).unwrap_or_default(),
        });
        // The answer may be a redirect straight back (an error, a session already there).
        if let Some(location) = self.location(entry) {
            self.callback_url(&location, entry, end_ms(entry));
        }
    }

    /// The `Location` a redirect answer points to, if any.
    pub(super) fn location(&self, entry: &Entry) -> Option<String> {
        if !(300..400).contains(&entry.status()) {
            return None;
        }
        entry
            .response
            .redirect_url
            .clone()
            .filter(|u| !u.is_empty())
            .or_else(|| header(&entry.response.headers, "location").map(str::to_owned))
    }

    /// The redirect back: a request to a login's redirect URI carrying the answer, or a 302 to
    /// one (the only place a fragment answer is visible), or a `form_post` to it.
    pub(super) fn callback(&mut self, entry: &Entry) -> bool {
        if let Some(location) = self.location(entry) {
            if self.callback_url(&location, entry, end_ms(entry)) {
                return true;
            }
        }
        let url = &entry.request.url;
        if entry.request.method.eq_ignore_ascii_case("POST") && self.is_redirect_uri(url) {
            // response_mode=form_post: the answer is the form body.
            let body = entry.request.body_text().unwrap_or_default();
            return self.callback_parts(&body, "", url, entry.started_ms());
        }
        self.callback_url(url, entry, entry.started_ms())
    }

    pub(super) fn is_redirect_uri(&self, url: &str) -> bool {
        self.logins
            .iter()
            .any(|l| !l.redirect_uri.is_empty() && base(url) == base(&l.redirect_uri))
    }

    pub(super) fn callback_url(&mut self, url: &str, _entry: &Entry, at: u64) -> bool {
        // A relative URL is the lab's own export (it keeps only the query of the callback).
        if !(self.is_redirect_uri(url) || url.starts_with('?') && !self.logins.is_empty()) {
            return false;
        }
        if self.last_callback.as_deref() == Some(url) {
            // The document request that followed the 302 already drawn.
            return true;
        }
        let (query, fragment) = query_and_fragment(url);
        self.callback_parts(query, fragment, url, at)
    }

    pub(super) fn callback_parts(
        &mut self,
        query: &str,
        fragment: &str,
        url: &str,
        at: u64,
    ) -> bool {
        if matches!(parse_callback(query, fragment), Ok(None)) {
            return false;
        }
        self.last_callback = Some(url.to_owned());
        let parsed = engine::callback_received(&mut self.timeline, query, fragment, at);
        let back = self
            .timeline
            .last_of(StepKind::RedirectBack)
            .map_or(0, |(id, _)| id);
        let form_post = !url.contains('?') && !url.contains('#') && !query.is_empty();
        if let Some(s) = self.timeline.step_mut(back) {
            if let Some(x) = &mut s.exchange {
                let shown = sanitize_for_display(&mask_callback_query(base(url)), 2000);
                if form_post {
                    // response_mode=form_post: the answer rode in a POST body, not the URL.
                    x.method = "POST".into();
                    x.request_body = Some(x.url.trim_start_matches('?').to_owned());
                    x.url = shown;
                } else {
                    x.url = shown + &x.url;
                }
            }
        }
        let params = match parsed {
            Ok(Some(params)) => params,
            Ok(None) => return true,
            Err(_) => {
                if let Err(error) = parse_callback(query, fragment) {
                    let check = self.timeline.len() - 1;
                    self.callback_finding(&error, check, query);
                }
                return true;
            }
        };
        // The pending login a live run would have kept for this state (its `PendingSet::take`),
        // rebuilt from the HAR's authorization request and token request.
        let code = params.code.clone();
        let typed = validate_callback(
            params.clone(),
            self.lookup(&params.state, code.as_deref(), params.iss.as_deref()),
            at,
        );
        let pending = self.lookup(&params.state, code.as_deref(), params.iss.as_deref());
        let outcome = engine::check_callback(&mut self.timeline, params, pending, at);
        if let (Err(error), Err(_)) = (&typed, &outcome) {
            let check = self.timeline.len() - 1;
            self.callback_finding(error, check, query);
        }
        true
    }

    /// The live `PendingSet::take`: the login whose state equals the answer's.
    pub(super) fn lookup(
        &self,
        state: &State,
        code: Option<&str>,
        iss: Option<&str>,
    ) -> Option<PendingAuthorization> {
        self.logins
            .iter()
            .rev()
            .find(|l| l.state.as_deref() == Some(state.secret()))
            .and_then(|l| self.pending_for(l, code, iss))
    }

    pub(super) fn pending_for(
        &self,
        login: &Login,
        code: Option<&str>,
        iss: Option<&str>,
    ) -> Option<PendingAuthorization> {
        let state = State::parse(login.state.as_deref()?).ok()?;
        let verifier = self
            .redemptions
            .iter()
            .find(|r| Some(r.code.as_str()) == code)
            .and_then(|r| r.verifier.as_deref())
            .and_then(|v| CodeVerifier::parse(v).ok());
        Some(PendingAuthorization {
            state,
            verifier,
            issuer: login
                .issuer
                .clone()
                .or_else(|| iss.map(str::to_owned))
                .unwrap_or_default(),
            client_id: login.client_id.clone(),
            redirect_uri: login.redirect_uri.clone(),
            token_endpoint: login.token_endpoint.clone(),
            scope: login.scope.clone(),
            created_at_ms: login.started_ms,
            iss_parameter_supported: login.iss_supported,
            nonce: login.nonce.clone(),
        })
    }

    pub(super) fn callback_finding(&mut self, error: &CallbackError, step: StepId, query: &str) {
        let code = parse_query(query)
            .into_iter()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v);
        let redeemed = code
            .as_ref()
            .is_some_and(|c| self.redemptions.iter().any(|r| r.code == *c));
        let mut detail = crate::protocol::error::Explain::what_happened(error);
        if redeemed && !self.masked_export {
            detail.push_str(
                " The app redeemed the code anyway: it does not check the answer before \
                 trusting it.",
            );
        }
        let severity = if matches!(error, CallbackError::AuthorizationError { .. }) {
            Severity::Warn
        } else {
            Severity::Fail
        };
        if self.masked_export && matches!(error, CallbackError::MalformedState) {
            return;
        }
        self.find(
            severity,
            callback_row(error),
            "Callback check failed",
            detail,
            step,
        );
    }

    pub(super) fn end_session(&mut self, entry: &Entry, params: &[(String, String)]) {
        let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let hint = get("id_token_hint").map(crate::protocol::secret::IdToken::new);
        let back = get("post_logout_redirect_uri").unwrap_or_default();
        let client_id = get("client_id").unwrap_or_else(|| self.client_id.clone());
        let at = entry.started_ms();
        if lifecycle::end_session_planned(
            &mut self.timeline,
            base(&entry.request.url),
            hint.as_ref(),
            &back,
            &client_id,
            get("state")
                .and_then(|s| crate::protocol::state::State::parse(&s).ok())
                .as_ref(),
            at,
        )
        .is_err()
        {
            // The endpoint would not be accepted as a live one (e.g. plain http): drawn anyway.
            let step = self.timeline.push_done(
                Step::new(
                    StepKind::EndSession,
                    Actor::ClientApp,
                    Actor::AuthorizationServer,
                    Channel::Front,
                    "Send the browser to the provider to end its session",
                    at,
                ),
                entry.duration_ms(),
            );
            self.draw_request(step, entry);
        }
    }
}
