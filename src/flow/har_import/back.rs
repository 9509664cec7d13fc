//! The back channel of an imported login: discovery, keys, the token exchange and its ID token,
//! refresh, revocation, UserInfo and resource calls, each through the live step functions.

use super::*;

impl Importer {
    pub(super) fn preflight(&mut self, entry: &Entry) -> bool {
        let url = base(&entry.request.url);
        let to_token = self
            .metadata
            .as_ref()
            .is_some_and(|m| m.token_endpoint == url)
            || self.logins.iter().any(|l| l.token_endpoint == url)
            || url.ends_with("/token");
        if !to_token {
            return false;
        }
        let asked = header(&entry.request.headers, "access-control-request-headers")
            .unwrap_or("")
            .to_owned();
        self.preflight = Some(sanitize_for_display(&asked, 200));
        true
    }

    pub(super) fn discovery(&mut self, entry: &Entry) {
        let url = &entry.request.url;
        let at = entry.started_ms();
        let (issuer, attempt) =
            if let Some((issuer, _)) = url.split_once("/.well-known/openid-configuration") {
                (issuer.to_owned(), 0)
            } else {
                let (host, path) = url
                    .split_once("/.well-known/oauth-authorization-server")
                    .unwrap_or((url, ""));
                (format!("{host}{}", base(path)), 1)
            };
        let step = engine::discovery_started(&mut self.timeline, url, attempt, at);
        if entry.response.content.text.is_none() {
            self.timeline.complete(step, end_ms(entry));
            self.not_checked.push(
                "The discovery document's body is not in the HAR: the provider's metadata \
                 (issuer, iss support, PKCE methods) was not checked."
                    .into(),
            );
            return;
        }
        if let Ok(metadata) = engine::discovery_finished(
            &mut self.timeline,
            step,
            &issuer,
            Ok(http_response(entry)),
            false,
            end_ms(entry),
        ) {
            let (verdict, detail) = judge_s256(Some(&metadata.code_challenge_methods_supported));
            if verdict != Verdict::Pass {
                self.find(
                    if verdict == Verdict::Fail {
                        Severity::Fail
                    } else {
                        Severity::Warn
                    },
                    "D-10",
                    "PKCE S256 not advertised",
                    detail,
                    step,
                );
            }
            self.metadata = Some(metadata);
        }
    }

    pub(super) fn jwks(&mut self, entry: &Entry) {
        let step =
            oidc::jwks_fetch_started(&mut self.timeline, &entry.request.url, entry.started_ms());
        if entry.response.content.text.is_none() {
            self.timeline.complete(step, end_ms(entry));
            return;
        }
        if let Ok(jwks) = oidc::jwks_fetch_finished(
            &mut self.timeline,
            step,
            Ok(http_response(entry)),
            end_ms(entry),
        ) {
            self.jwks = Some(jwks);
        }
    }

    pub(super) fn token_exchange(&mut self, entry: &Entry, form: &[(String, String)]) {
        let get = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let at = entry.started_ms();
        let code = get("code").unwrap_or_default();
        let login = self.logins.last().cloned();
        let secret = get("client_secret").filter(|s| !s.is_empty());
        let basic = header(&entry.request.headers, "authorization")
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("basic "));
        let verifier = get("code_verifier").and_then(|v| CodeVerifier::parse(&v).ok());
        let pending = PendingAuthorization {
            state: State::parse("imported").expect("a valid state literal"),
            verifier,
            issuer: login
                .as_ref()
                .and_then(|l| l.issuer.clone())
                .unwrap_or_default(),
            client_id: get("client_id")
                .or_else(|| login.as_ref().map(|l| l.client_id.clone()))
                .unwrap_or_default(),
            redirect_uri: get("redirect_uri").unwrap_or_default(),
            token_endpoint: base(&entry.request.url).to_owned(),
            scope: login.as_ref().map(|l| l.scope.clone()).unwrap_or_default(),
            created_at_ms: at,
            iss_parameter_supported: false,
            nonce: login.as_ref().and_then(|l| l.nonce.clone()),
        };
        let authorized = AuthorizedCallback {
            code: AuthorizationCode::new(code.clone()),
            pending,
            iss: None,
        };
        let client_secret = secret.clone().map(ClientSecret::new);
        let call = match engine::token_request_started(
            &mut self.timeline,
            authorized,
            client_secret.as_ref(),
            at,
        ) {
            Ok(call) => call,
            Err(_) => self.token_request_without_proof(entry, &code, login.as_ref(), at),
        };
        self.draw_request(call.step, entry);
        if secret.is_some() || basic {
            self.find(
                Severity::Fail,
                "BBA-3",
                "Client secret sent from the browser",
                "The token request carries a client secret: anything shipped to a browser is \
                 public. Register the app as a public client with PKCE."
                    .into(),
                call.step,
            );
        }
        self.custom_headers(entry, call.step);
        let response = http_response(entry);
        let cache_control = response.cache_control.clone();
        let unkept = entry.response.content.text.is_none();
        let typed = parse_token_response(&response, &call.requested_scope, call.openid_requested);
        let outcome =
            engine::token_response_received(&mut self.timeline, &call, Ok(response), end_ms(entry));
        let answer = self.timeline.len() - 1;
        if let Err(error) = &typed {
            if !unkept {
                self.find(
                    Severity::Fail,
                    token_row(error),
                    "Token request failed",
                    crate::protocol::error::Explain::what_happened(error),
                    answer,
                );
            }
        }
        if entry.status() == 200 {
            let (verdict, detail) = judge_no_store(cache_control.as_deref());
            if verdict == Verdict::Fail {
                self.find(
                    Severity::Fail,
                    "RFC 6749 §5.1",
                    "Token response may be cached",
                    detail,
                    answer,
                );
            }
        }
        if let Ok(tokens) = outcome {
            self.access_token = Some(tokens.access_token.secret().to_owned());
            self.refresh = tokens.refresh_token.as_ref().map(|r| r.secret().to_owned());
            if let Some(id_token) = &tokens.id_token {
                self.id_token(id_token, &call, tokens.access_token.secret(), end_ms(entry));
            }
        } else if unkept {
            self.not_checked.push(
                "The token response's body is not in the HAR: the tokens, the ID token and \
                 its claims were not checked."
                    .into(),
            );
        }
    }

    /// A code redeemed with neither verifier nor secret: the live engine never sends one, so
    /// the step is drawn here, with the server's check noted as "no verifier".
    pub(super) fn token_request_without_proof(
        &mut self,
        entry: &Entry,
        code: &str,
        login: Option<&Login>,
        at: u64,
    ) -> TokenCall {
        let step = self.timeline.push(
            Step::new(
                StepKind::TokenRequest,
                Actor::ClientApp,
                Actor::AuthorizationServer,
                Channel::Back,
                "Exchange the code (no verifier, no secret) for tokens",
                at,
            )
            .with_params(vec![
                Param::public("grant_type", "authorization_code"),
                Param::secret("code", mask(code), code),
            ])
            .with_exchange(HttpExchange::default()),
        );
        let checks = server_check::code_checks(&mut self.timeline, Proof::NoVerifier, at);
        let scope = login.map(|l| l.scope.clone()).unwrap_or_default();
        TokenCall {
            step,
            request: TokenRequest {
                url: entry.request.url.clone(),
                body: String::new(),
            },
            openid_requested: scope.split_whitespace().any(|s| s == "openid"),
            requested_scope: scope,
            issuer: login.and_then(|l| l.issuer.clone()).unwrap_or_default(),
            client_id: login.map(|l| l.client_id.clone()).unwrap_or_default(),
            nonce: login.and_then(|l| l.nonce.clone()),
            checks,
            proof_sent: false,
        }
    }

    /// Headers the app added that are neither set by the browser nor CORS-safelisted force a
    /// preflight (T-26, BBA §6.3.3.4).
    pub(super) fn custom_headers(&mut self, entry: &Entry, step: StepId) {
        let custom: Vec<String> = entry
            .request
            .headers
            .iter()
            .map(|h| h.name.to_ascii_lowercase())
            .filter(|n| {
                !n.starts_with(':')
                    && !n.starts_with("sec-")
                    && !BROWSER_HEADERS.contains(&n.as_str())
                    && !SAFELISTED.contains(&n.as_str())
            })
            .map(|n| sanitize_for_display(&n, 64))
            .collect();
        let preflight = self.preflight.take();
        if custom.is_empty() && preflight.is_none() {
            return;
        }
        let names = if custom.is_empty() {
            preflight.unwrap_or_default()
        } else {
            custom.join(", ")
        };
        self.find(
            Severity::Warn,
            "T-26",
            "CORS preflight on the token request",
            format!(
                "The app added {names} to the token request, which makes the browser send an \
                 OPTIONS preflight first: one more round trip, and a failure point with \
                 providers that do not answer it. Send only Content-Type and Accept."
            ),
            step,
        );
    }

    pub(super) fn id_token(
        &mut self,
        token: &crate::protocol::secret::IdToken,
        call: &TokenCall,
        access_token: &str,
        at: u64,
    ) {
        let Ok(check) = oidc::id_token_received(&mut self.timeline, token, at) else {
            let step = self.timeline.len() - 1;
            let reason = match &self.timeline.steps()[step].status {
                StepStatus::Failed { reason } => reason.clone(),
                _ => String::new(),
            };
            self.find(
                Severity::Fail,
                "OIDC Core §3.1.3.7",
                "ID token refused",
                reason,
                step,
            );
            return;
        };
        match &self.jwks {
            Some(jwks) => {
                let jwks = jwks.clone();
                if let Ok(key) = oidc::signature_check(&mut self.timeline, &check, &jwks, at) {
                    self.signature = Some((check.clone(), key));
                }
            }
            None => self.not_checked.push(
                "The ID token's signature was not checked: the provider's keys (JWKS) are not \
                 in the HAR."
                    .into(),
            ),
        }
        // Unknown issuer (no discovery in the HAR): the token's own iss, said in "not checked".
        let issuer = if call.issuer.is_empty() {
            check
                .decoded
                .claims
                .get("iss")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        } else {
            call.issuer.clone()
        };
        let rules = ClaimRules {
            issuer,
            client_id: call.client_id.clone(),
            nonce: match &call.nonce {
                Some(nonce) => NonceRule::Expected(nonce.clone()),
                None => NonceRule::IfPresent(None),
            },
            expected_sub: None,
            now_ms: at,
        };
        let digest = match check.alg.hash_bits() {
            384 => sha2::Sha384::digest(access_token.as_bytes()).to_vec(),
            512 => sha2::Sha512::digest(access_token.as_bytes()).to_vec(),
            _ => sha2::Sha256::digest(access_token.as_bytes()).to_vec(),
        };
        if oidc::claims_checked(&mut self.timeline, &check, &rules, &digest, at).is_err() {
            let step = self.timeline.len() - 1;
            let reason = match &self.timeline.steps()[step].status {
                StepStatus::Failed { reason } => reason.clone(),
                _ => String::new(),
            };
            self.find(
                Severity::Fail,
                "OIDC Core §3.1.3.7",
                "ID token claims wrong",
                reason,
                step,
            );
        }
    }

    pub(super) fn refresh(&mut self, entry: &Entry, form: &[(String, String)]) {
        let get = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let sent = get("refresh_token").unwrap_or_default();
        let token = RefreshToken::new(sent.clone());
        let client_id = get("client_id").unwrap_or_else(|| self.client_id.clone());
        let openid = self.scope.split_whitespace().any(|s| s == "openid");
        let url = base(&entry.request.url).to_owned();
        let Ok(call) = lifecycle::refresh_started(
            &mut self.timeline,
            &url,
            &token,
            &client_id,
            &self.scope.clone(),
            openid,
            entry.started_ms(),
        ) else {
            return;
        };
        self.draw_request(call.step, entry);
        if let Ok(refreshed) = lifecycle::refresh_response_received(
            &mut self.timeline,
            &call,
            Ok(http_response(entry)),
            end_ms(entry),
        ) {
            let answer = self.timeline.len() - 1;
            // What the answer itself carried (the engine keeps the old one when none came).
            let new = refreshed
                .replaced
                .is_some()
                .then(|| {
                    refreshed
                        .tokens
                        .refresh_token
                        .as_ref()
                        .map(|t| t.secret().to_owned())
                })
                .flatten()
                .or_else(|| {
                    serde_json::from_str::<serde_json::Value>(&http_response(entry).body)
                        .ok()
                        .and_then(|v| v["refresh_token"].as_str().map(str::to_owned))
                });
            let (verdict, detail) = judge_rotation(Some(&sent), new.as_deref());
            if verdict == Verdict::Fail && !self.masked_export {
                self.find(
                    Severity::Fail,
                    "R9700-10",
                    "Refresh token not rotated",
                    detail,
                    answer,
                );
            }
            self.access_token = Some(refreshed.tokens.access_token.secret().to_owned());
        }
    }

    pub(super) fn revocation(&mut self, entry: &Entry, form: &[(String, String)]) {
        let get = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let kind = if get("token_type_hint").as_deref() == Some("refresh_token") {
            TokenKind::Refresh
        } else {
            TokenKind::Access
        };
        let client_id = get("client_id").unwrap_or_else(|| self.client_id.clone());
        let token = get("token").unwrap_or_default();
        if let Ok((step, _)) = lifecycle::revocation_started(
            &mut self.timeline,
            base(&entry.request.url),
            kind,
            &token,
            &client_id,
            entry.started_ms(),
        ) {
            self.draw_request(step, entry);
            let _ = lifecycle::revocation_finished(
                &mut self.timeline,
                step,
                Ok(http_response(entry)),
                end_ms(entry),
            );
        }
    }

    pub(super) fn userinfo(&mut self, entry: &Entry, token: &str) {
        let token = AccessToken::new(token.to_owned());
        let (step, _) = oidc::userinfo_request_started(
            &mut self.timeline,
            &entry.request.url,
            &token,
            entry.started_ms(),
        );
        self.draw_request(step, entry);
        let _ = oidc::userinfo_response_received(
            &mut self.timeline,
            step,
            Ok(http_response(entry)),
            None,
            end_ms(entry),
        );
    }

    pub(super) fn resource(&mut self, entry: &Entry, token: &str) {
        let token = AccessToken::new(token.to_owned());
        let (step, _) = engine::resource_request_started(
            &mut self.timeline,
            &entry.request.url,
            &token,
            entry.started_ms(),
        );
        self.draw_request(step, entry);
        let _ = engine::resource_response_received(
            &mut self.timeline,
            step,
            Ok(http_response(entry)),
            end_ms(entry),
        );
    }
}
