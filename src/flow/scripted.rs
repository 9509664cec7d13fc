//! A scripted driver in pure code: a provider that answers the session's commands from fixed
//! documents, and a storage kept in memory. Explain mode runs the live session under it, and
//! the host tests use it to play whole runs (so the two cannot disagree).

use crate::flow::attack::LabRecord;
use crate::flow::engine::LoginEntropy;
use crate::flow::session::{
    Command, DpopKeyRole, Entropy, Event, HttpRequest, LabEntropy, Persist, Saved, Session,
};
use crate::flow::settings::{ClientType, ProviderSettings};
use crate::protocol::http::HttpResponse;
use crate::protocol::pending::PendingSet;
use crate::protocol::uri::parse_query;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// RFC 7636 Appendix B: the octets whose base64url is the verifier `dBjftJeZ…`.
pub const APPENDIX_B_OCTETS: [u8; 32] = [
    116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77,
    105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
];

/// The example issuer of scripted runs.
pub const ISSUER: &str = "https://as.example";
/// The example app's address (its redirect URI).
pub const REDIRECT: &str = "https://app.example/";
/// The example app's origin.
pub const ORIGIN: &str = "https://app.example";
/// The scripted provider's authorization code (RFC 6749 §4.1.2's example).
pub const CODE: &str = "SplxlOBeZQQYbYS6WxSbIA";
/// The scripted access token.
pub const ACCESS_TOKEN: &str = "2YotnFZFEjr1zCsicMWpAA";
/// The scripted refresh token.
pub const REFRESH_TOKEN: &str = "tGzv3JOkF0XG5Qx2TlKWIA";
/// The confidential demo client's secret of scripted runs.
pub const CLIENT_SECRET: &str = "demo-secret-example";
/// The scripted clock: every event happens at this instant plus a few milliseconds.
pub const START_MS: u64 = 1_700_000_000_000;

/// Fixed randomness: the RFC 7636 Appendix B verifier, and fixed state and nonce bytes.
pub fn appendix_b_entropy() -> LoginEntropy {
    LoginEntropy {
        verifier: APPENDIX_B_OCTETS,
        state: [0x5a; 32],
        nonce: [0xa5; 32],
    }
}

/// WebCrypto's answer to `Command::MakeDpopKey` in a scripted run: `key`'s pair made, its public
/// half `public_jwk_json`, with a fixed `jti` seed.
pub fn key_ready(key: DpopKeyRole, public_jwk_json: &str, now: u64) -> Event {
    Event::DpopKeyReady {
        key,
        public_jwk_json: public_jwk_json.to_owned(),
        jti_seed: [7; 32],
        now,
    }
}

/// Fixed randomness for the attack lab: `n` distinct 32-byte values.
pub fn lab_entropy(n: u8) -> LabEntropy {
    LabEntropy(Ok((0..n).map(|i| [0x30 + i; 32]).collect()))
}

/// The settings of a scripted run: the example provider, `openid read:profile`.
pub fn settings(client_type: ClientType) -> ProviderSettings {
    ProviderSettings {
        issuer: ISSUER.to_owned(),
        client_id: "demo-app".to_owned(),
        scope: "openid read:profile".to_owned(),
        api_base: "https://api.example".to_owned(),
        client_type,
        ..ProviderSettings::default()
    }
}

/// The example provider's metadata document.
pub fn metadata_json() -> String {
    format!(
        r#"{{"issuer":"{ISSUER}","authorization_endpoint":"{ISSUER}/authorize",
           "token_endpoint":"{ISSUER}/token","jwks_uri":"{ISSUER}/jwks",
           "userinfo_endpoint":"{ISSUER}/userinfo","revocation_endpoint":"{ISSUER}/revoke",
           "response_types_supported":["code"],"code_challenge_methods_supported":["S256"],
           "authorization_response_iss_parameter_supported":true}}"#
    )
}

/// The example provider's key set: one RS256 key, `k1` (a 2048-bit modulus).
pub fn jwks_json() -> String {
    let n = URL_SAFE_NO_PAD.encode([0xC5u8; 256]);
    format!(
        r#"{{"keys":[{{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":"{n}","e":"AQAB"}}]}}"#
    )
}

/// An RS256 ID token for `alice` (its signature is scripted: the verdict comes from the
/// script, as WebCrypto's would in the browser).
pub fn id_token(client_id: &str, nonce: Option<&str>, now_ms: u64) -> String {
    let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s.as_bytes());
    let header = b64(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#);
    let digest = Sha256::digest(ACCESS_TOKEN.as_bytes());
    let at_hash = URL_SAFE_NO_PAD.encode(&digest[..16]);
    let now_s = now_ms / 1000;
    let nonce = nonce
        .map(|n| format!(r#","nonce":"{n}""#))
        .unwrap_or_default();
    let claims = b64(&format!(
        r#"{{"iss":"{ISSUER}","aud":"{client_id}","sub":"alice","iat":{now_s},"exp":{},"at_hash":"{at_hash}","name":"Alice Example"{nonce}}}"#,
        now_s + 3600
    ));
    let signature = URL_SAFE_NO_PAD.encode([0x42u8; 256]);
    format!("{header}.{claims}.{signature}")
}

/// The token endpoint's answer to the code (with an ID token when `nonce` says openid).
pub fn token_json(client_id: &str, nonce: Option<&str>, now_ms: u64) -> String {
    format!(
        r#"{{"access_token":"{ACCESS_TOKEN}","token_type":"Bearer","expires_in":3600,
           "refresh_token":"{REFRESH_TOKEN}","scope":"openid read:profile",
           "id_token":"{}"}}"#,
        id_token(client_id, nonce, now_ms)
    )
}

/// A driver that answers from the script and keeps storage in memory.
#[derive(Debug)]
pub struct ScriptedDriver {
    /// The session under test.
    pub session: Session,
    /// The pending logins as sessionStorage would hold them.
    pub pending: PendingSet,
    /// The saved timeline (written before each navigation, as the real driver does).
    pub saved_timeline: Option<crate::flow::timeline::Timeline>,
    /// The attack lab's record as saved beside the timeline.
    pub saved_lab: LabRecord,
    /// The URLs loaded in the lab's window, in order.
    pub popups: Vec<String>,
    /// The runs kept under their run ids.
    pub runs: Vec<(String, crate::flow::timeline::Timeline)>,
    /// Whether the end-session marker is set.
    pub end_session_mark: bool,
    /// The `state` of the logout request, as the marker holds it.
    pub end_session_state: Option<String>,
    /// Every request sent, in order.
    pub sent: Vec<HttpRequest>,
    /// Every navigation, in order.
    pub navigations: Vec<String>,
    /// The provider metadata this tab kept.
    pub metadata: Vec<crate::protocol::discovery::ProviderMetadata>,
    /// The scripted clock.
    pub now: u64,
    /// The signature verdict the scripted WebCrypto gives.
    pub signature_valid: bool,
}

impl ScriptedDriver {
    /// A fresh page of the example app with these settings.
    pub fn new(settings: ProviderSettings) -> Self {
        ScriptedDriver {
            session: Session::new(settings, ORIGIN),
            pending: PendingSet::new(),
            saved_timeline: None,
            saved_lab: LabRecord::default(),
            popups: Vec::new(),
            runs: Vec::new(),
            end_session_mark: false,
            end_session_state: None,
            sent: Vec::new(),
            navigations: Vec::new(),
            metadata: Vec::new(),
            now: START_MS,
            signature_valid: true,
        }
    }

    fn tick(&mut self) -> u64 {
        self.now += 5;
        self.now
    }

    /// Hands `event` to the session and answers its commands until it waits for the user
    /// (or leaves the page); returns every command it issued, in order.
    pub fn play(&mut self, event: Event) -> Vec<String> {
        let mut log = Vec::new();
        let mut queue = vec![event];
        while let Some(event) = queue.pop() {
            let commands = self.session.handle(event);
            for command in commands {
                // The log is for the host tests; the wasm (explain mode) keeps no strings.
                if cfg!(test) {
                    log.push(describe(&command));
                }
                if let Some(next) = self.answer(command) {
                    queue.insert(0, next);
                }
            }
        }
        log
    }

    /// Presses Log in with the Appendix B entropy.
    pub fn login(&mut self) -> Vec<String> {
        let now = self.tick();
        self.play(Event::LoginPressed {
            redirect_uri: REDIRECT.to_owned(),
            entropy: Entropy(Ok(appendix_b_entropy())),
            intent: None,
            now,
        })
    }

    /// The provider sends the browser back with its code for the last navigation's `state`:
    /// a new page of the app is loaded, with the storage this one left.
    pub fn come_back(&mut self) -> Vec<String> {
        let state = self
            .navigations
            .last()
            .and_then(|url| query_value(url, "state"))
            .unwrap_or_default();
        let query = format!("code={CODE}&state={state}&iss=https%3A%2F%2Fas.example");
        self.reload_with(&query)
    }

    /// A new page load with `query`, and the storage as this tab left it.
    pub fn reload_with(&mut self, query: &str) -> Vec<String> {
        let settings = self.session.settings.clone();
        self.session = Session::new(settings, ORIGIN);
        let now = self.tick();
        let saved = self.saved();
        self.play(Event::PageLoaded {
            query: query.to_owned(),
            fragment: String::new(),
            saved,
            entropy: lab_entropy(1),
            now,
        })
    }

    /// What this tab's storage holds (the pending set is handed over; the rest is copied).
    pub fn saved(&mut self) -> Saved {
        Saved {
            pending: Ok(std::mem::take(&mut self.pending)),
            timeline: self.saved_timeline.clone(),
            runs: self.runs.clone(),
            end_session_mark: self.end_session_mark,
            end_session_state: self.end_session_state.clone(),
            lab: self.saved_lab.clone(),
            metadata: self.metadata.clone(),
        }
    }

    fn answer(&mut self, command: Command) -> Option<Event> {
        match command {
            Command::Fetch { id, request } => {
                let response = self.respond(&request);
                self.sent.push(request);
                let now = self.tick();
                Some(Event::HttpAnswered {
                    id,
                    outcome: Ok(response),
                    now,
                })
            }
            Command::Navigate { url } => {
                self.saved_timeline = Some(self.session.timeline.clone());
                self.saved_lab = self.session.attack.clone();
                self.navigations.push(url);
                None
            }
            Command::Persist(what) => {
                match what {
                    Persist::PendingLogin(pending) => self.pending.insert(pending),
                    Persist::PendingLogins(set) => self.pending = set,
                    Persist::Run { state, timeline } => {
                        let id = crate::flow::session::run_id(&state);
                        self.runs.retain(|(run, _)| *run != id);
                        // Kept in memory as the run was (explain mode's inspector reveals
                        // its example secrets); the real driver stores masks only.
                        self.runs.push((id, timeline));
                    }
                    Persist::Runs(runs) => self.runs = runs,
                    Persist::EndSessionMark(state) => {
                        self.end_session_mark = true;
                        self.end_session_state = Some(state);
                    }
                    Persist::Metadata(metadata) => {
                        self.metadata.retain(|m| m.issuer != metadata.issuer);
                        self.metadata.push(metadata);
                    }
                    Persist::Settings(_) => {}
                }
                None
            }
            Command::Forget(_) => {
                self.end_session_mark = false;
                self.end_session_state = None;
                None
            }
            Command::CheckIdToken {
                id,
                hash,
                access_token,
                ..
            } => {
                // The script signs with RS256 only; another hash gives an empty digest, which
                // the claims check reports (SHA-384/512 in the wasm cost 3.1 KB gzip).
                let digest = match hash {
                    "SHA-256" => Sha256::digest(access_token.secret().as_bytes()).to_vec(),
                    _ => Vec::new(),
                };
                let now = self.tick();
                Some(Event::IdTokenChecked {
                    id,
                    verdict: Ok(self.signature_valid),
                    digest,
                    now,
                })
            }
            // RFC 9449's example key and a placeholder signature (marked as such on the step).
            Command::MakeDpopKey { key, .. } => {
                let now = self.tick();
                Some(key_ready(
                    key,
                    crate::protocol::dpop::RFC9449_EXAMPLE_JWK,
                    now,
                ))
            }
            Command::Sign { id, .. } => {
                let now = self.tick();
                Some(Event::Signed {
                    id,
                    signature: crate::protocol::dpop::PLACEHOLDER_SIGNATURE.to_vec(),
                    now,
                })
            }
            Command::PopupTo { url } => {
                self.popups.push(url);
                None
            }
            // The window's answers and timers are played by hand in the tests.
            Command::CleanAddressBar
            | Command::MarkDrawn(_)
            | Command::OpenPopup
            | Command::ClosePopup
            | Command::SetTimer { .. } => None,
        }
    }

    /// The scripted provider and API.
    fn respond(&self, request: &HttpRequest) -> HttpResponse {
        let url = request.url.as_str();
        if url.ends_with("/.well-known/openid-configuration") {
            return HttpResponse::json(200, metadata_json());
        }
        if url.ends_with("/jwks") {
            return HttpResponse::json(200, jwks_json());
        }
        if url.ends_with("/token") {
            let body = request.body.clone().unwrap_or_default();
            let client_id = form_value(&body, "client_id").unwrap_or_else(|| "demo-app".into());
            let nonce = self
                .navigations
                .last()
                .and_then(|url| query_value(url, "nonce"));
            let json = token_json(&client_id, nonce.as_deref(), self.now);
            // With a proof the example provider binds the token to the key (RFC 9449 §5).
            let json = if request.headers.iter().any(|(name, _)| *name == "DPoP") {
                json.replace(r#""token_type":"Bearer""#, r#""token_type":"DPoP""#)
            } else {
                json
            };
            return HttpResponse::json(200, json);
        }
        if url.ends_with("/api/profile") {
            return HttpResponse::json(200, r#"{"sub":"alice","name":"Alice Example"}"#);
        }
        HttpResponse::json(404, r#"{"error":"not_found"}"#)
    }
}

fn query_value(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    parse_query(query)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

fn form_value(body: &str, name: &str) -> Option<String> {
    parse_query(body)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// A command in one line, for tests and the log (no secret values).
pub fn describe(command: &Command) -> String {
    match command {
        Command::Fetch { request, .. } => format!("Fetch {} {}", request.method, request.url),
        Command::Navigate { url } => format!("Navigate {}", url.split('?').next().unwrap_or("")),
        Command::CleanAddressBar => "CleanAddressBar".to_owned(),
        Command::Persist(what) => format!(
            "Persist {}",
            match what {
                Persist::PendingLogin(_) => "PendingLogin",
                Persist::PendingLogins(_) => "PendingLogins",
                Persist::Settings(_) => "Settings",
                Persist::Metadata(_) => "Metadata",
                Persist::Run { .. } => "Run",
                Persist::Runs(_) => "Runs",
                Persist::EndSessionMark(_) => "EndSessionMark",
            }
        ),
        Command::Forget(what) => format!("Forget {what:?}"),
        Command::CheckIdToken { hash, .. } => format!("CheckIdToken {hash}"),
        Command::MarkDrawn(name) => format!("MarkDrawn {name}"),
        Command::MakeDpopKey { .. } => "MakeDpopKey".to_owned(),
        Command::Sign { .. } => "Sign".to_owned(),
        Command::OpenPopup => "OpenPopup".to_owned(),
        Command::PopupTo { url } => format!("PopupTo {}", url.split('?').next().unwrap_or("")),
        Command::ClosePopup => "ClosePopup".to_owned(),
        Command::SetTimer { after_ms, .. } => format!("SetTimer {after_ms}"),
    }
}

/// Test support shared by the engine's and the lab's host tests: one login at an issuer with a
/// path, planned with fixed entropy and its callback checked, with no session around it.
#[cfg(test)]
pub mod fixtures {
    use crate::flow::engine::{callback_received, check_callback, plan_login, LoginEntropy};
    use crate::flow::settings::ProviderSettings;
    use crate::flow::timeline::Timeline;
    use crate::protocol::callback::AuthorizedCallback;
    use crate::protocol::discovery::parse_metadata;
    use crate::protocol::http::HttpResponse;

    /// The issuer of the step-level tests (with a path, as a Keycloak realm's).
    pub const ISSUER: &str = "https://as.example/realms/lab";

    /// A discovery document for `issuer`, its endpoints at `https://as.example/…`.
    pub fn metadata_json(issuer: &str) -> String {
        format!(
            r#"{{"issuer":"{issuer}","authorization_endpoint":"https://as.example/auth",
               "token_endpoint":"https://as.example/token","response_types_supported":["code"],
               "code_challenge_methods_supported":["S256"],"jwks_uri":"https://as.example/jwks",
               "authorization_response_iss_parameter_supported":true}}"#
        )
    }

    /// A login that came back with its code, its callback checked.
    pub struct CheckedLogin {
        /// The checked callback, ready to redeem.
        pub authorized: AuthorizedCallback,
        /// The `state` the login sent.
        pub state: String,
        /// The PKCE verifier the login holds.
        pub verifier: String,
        /// The `nonce`, when `openid` was asked for.
        pub nonce: Option<String>,
    }

    /// Plans a login at [`ISSUER`] asking for `scope` (verifier, state and nonce bytes `[7; 32]`,
    /// `[8; 32]`, `[9; 32]`), comes back with `code`, the right `state` and `iss`, and checks
    /// the callback, drawing every step on `timeline`.
    pub fn checked_login(timeline: &mut Timeline, scope: &str, code: &str) -> CheckedLogin {
        let settings = ProviderSettings {
            issuer: ISSUER.into(),
            scope: scope.into(),
            ..ProviderSettings::default()
        };
        let metadata = parse_metadata(ISSUER, &HttpResponse::json(200, metadata_json(ISSUER)))
            .expect("the fixture's metadata");
        let entropy = LoginEntropy {
            verifier: [7; 32],
            state: [8; 32],
            nonce: [9; 32],
        };
        let plan = plan_login(
            timeline,
            &settings,
            &metadata,
            "https://app.example/",
            entropy,
            1,
        )
        .expect("a login plan");
        let state = plan.pending.state.secret().to_owned();
        let verifier = plan
            .pending
            .verifier
            .as_ref()
            .expect("PKCE")
            .secret()
            .to_owned();
        let nonce = plan.pending.nonce.clone();
        let query =
            format!("?code={code}&state={state}&iss=https%3A%2F%2Fas.example%2Frealms%2Flab");
        let params = callback_received(timeline, &query, "", 2)
            .expect("a readable callback")
            .expect("a callback");
        let authorized =
            check_callback(timeline, params, Some(plan.pending), 2).expect("a valid callback");
        CheckedLogin {
            authorized,
            state,
            verifier,
            nonce,
        }
    }
}
