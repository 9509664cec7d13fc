//! The session's vocabulary with its driver: what the driver hands in at page load
//! ([`Saved`], the entropy), the [`Event`]s it feeds, and the [`Command`]s it carries out
//! (requests to send, pages to open, what to persist or forget).

use super::*;

/// What this tab kept in sessionStorage, read by the driver at page load and handed in: the
/// session decides what to consume and answers with the commands that forget it.
#[derive(Debug)]
pub struct Saved {
    /// The pending logins (an unreadable or tampered set is the problem it makes).
    pub pending: Result<PendingSet, Problem>,
    /// The last run of this tab.
    pub timeline: Option<Timeline>,
    /// The runs of the logins still pending, by run id (as read back from storage: masks only).
    pub runs: Vec<(String, Timeline)>,
    /// Whether the browser left for the provider's end-session endpoint.
    pub end_session_mark: bool,
    /// The `state` that logout request carried (to check the one the provider hands back).
    pub end_session_state: Option<String>,
    /// The attack lab's record of this tab (reports, scorecard, lab logins, probe states).
    pub lab: LabRecord,
    /// The provider metadata this tab validated earlier (re-validated when read).
    pub metadata: Vec<ProviderMetadata>,
}

impl Default for Saved {
    fn default() -> Self {
        Saved {
            pending: Ok(PendingSet::new()),
            timeline: None,
            runs: Vec::new(),
            end_session_mark: false,
            end_session_state: None,
            lab: LabRecord::default(),
            metadata: Vec::new(),
        }
    }
}

/// A login's randomness as the driver drew it (or why it could not), never printed.
pub struct Entropy(pub Result<LoginEntropy, Problem>);

impl std::fmt::Debug for Entropy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Entropy([redacted])")
    }
}

/// Fresh 32-byte values for the attack lab (verifier guesses, probe and forged `state`s, the
/// attacker's login), drawn by the driver (or why there are none), never printed.
pub struct LabEntropy(pub Result<Vec<[u8; 32]>, Problem>);

impl LabEntropy {
    /// Draws `n` values from the platform's CSPRNG (the driver calls it; the session never
    /// draws).
    pub fn draw(n: usize) -> Self {
        LabEntropy((0..n).map(|_| engine::random_32()).collect())
    }

    /// Takes the next value, or the problem saying why there is none.
    pub(super) fn take(&mut self) -> Result<[u8; 32], Problem> {
        match &mut self.0 {
            Ok(values) => values.pop().ok_or_else(|| {
                Problem::local(
                    "The attack lab ran out of fresh random values.",
                    "Reload the page and run the experiment again.",
                )
            }),
            Err(problem) => Err(problem.clone()),
        }
    }
}

impl std::fmt::Debug for LabEntropy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LabEntropy([redacted])")
    }
}

/// Names one timer the session set (`Command::SetTimer`); it comes back in `TimerFired`.
pub type TimerId = u64;

/// What happened: everything the session learns comes in as one of these.
// Each event is built once and moved into `handle`: boxing the large one would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Event {
    /// The page was loaded (perhaps as the provider's callback) with this URL and storage.
    PageLoaded {
        /// The query string, without `?`.
        query: String,
        /// The fragment, without `#`.
        fragment: String,
        /// What this tab had kept.
        saved: Saved,
        /// Fresh randomness for a lab login's experiment (the guessed verifier).
        entropy: LabEntropy,
        /// Now, epoch ms.
        now: u64,
    },
    /// The user pressed Log in (or the attack lab started a login for `intent`).
    LoginPressed {
        /// This page's redirect URI.
        redirect_uri: String,
        /// Fresh randomness for verifier, state and nonce (or why there is none).
        entropy: Entropy,
        /// Set when the lab starts this login for an experiment.
        intent: Option<LabLogin>,
        /// Now, epoch ms.
        now: u64,
    },
    /// A `Command::Fetch` was answered (or failed at the network level).
    HttpAnswered {
        /// The request's id.
        id: RequestId,
        /// What came back.
        outcome: Outcome,
        /// Now, epoch ms.
        now: u64,
    },
    /// WebCrypto's answers to a `Command::CheckIdToken`.
    IdTokenChecked {
        /// The request's id.
        id: RequestId,
        /// The signature: `Ok(valid)`, or why the browser could not check.
        verdict: Result<bool, String>,
        /// The access token's hash for `at_hash` (empty when it could not be computed).
        digest: Vec<u8>,
        /// Now, epoch ms.
        now: u64,
    },
    /// PKCE off: the user typed the client secret.
    SecretTyped {
        /// The secret (dropped once the token request is built).
        secret: String,
        /// Now, epoch ms.
        now: u64,
    },
    /// A button of the logged-in session.
    Action {
        /// Which one.
        action: Action,
        /// This page's redirect URI (the end-session return address).
        redirect_uri: String,
        /// Now, epoch ms.
        now: u64,
    },
    /// The settings form changed (the whole new value).
    SettingsEdited(ProviderSettings),
    /// A preset was chosen in the settings form.
    PresetChosen(String),
    /// The user pressed one of the attack lab's Run buttons.
    LabStarted {
        /// Which experiment (or the checkup).
        run: LabStart,
        /// This page's redirect URI (where the lab's logins and probes come back).
        redirect_uri: String,
        /// Fresh randomness for it.
        entropy: LabEntropy,
        /// Now, epoch ms.
        now: u64,
    },
    /// The lab's window came back to the redirect URI and handed its full URL over (same
    /// origin, checked by the driver).
    PopupReturned {
        /// The URL it landed on.
        url: String,
        /// Now, epoch ms.
        now: u64,
    },
    /// The browser refused to open (or load) the lab's window.
    PopupBlocked,
    /// The user closed the lab's window before it came back.
    PopupClosed {
        /// Now, epoch ms.
        now: u64,
    },
    /// The user pressed Retry after a blocked window (the window opens from this click).
    RetryPressed {
        /// Now, epoch ms.
        now: u64,
    },
    /// A `Command::SetTimer` ran out.
    TimerFired {
        /// The timer's id.
        id: TimerId,
        /// Now, epoch ms.
        now: u64,
    },
    /// The driver could not carry out a command (storage refused, navigation failed): the
    /// commands after it in the same batch were not carried out.
    CommandFailed {
        /// What went wrong and what to do.
        problem: Problem,
    },
    /// A DPoP key pair was made (`Command::MakeDpopKey`).
    DpopKeyReady {
        /// Whose key.
        key: DpopKeyRole,
        /// The public key as WebCrypto exported it (JWK).
        public_jwk_json: String,
        /// Fresh randomness the proofs' `jti`s are derived from.
        jti_seed: [u8; 32],
        /// Now, epoch ms.
        now: u64,
    },
    /// Which DPoP key algorithms this browser's WebCrypto can make (probed once by the
    /// driver with `generateKey`); the Provider panel offers only these.
    DpopAlgsProbed {
        /// The algorithms whose key pair this browser made.
        algs: Vec<crate::protocol::dpop::DpopAlg>,
    },
    /// The browser could not make the key pair.
    DpopKeyFailed {
        /// Whose key.
        key: DpopKeyRole,
        /// WebCrypto's message.
        message: String,
        /// Now, epoch ms.
        now: u64,
    },
    /// A `Command::Sign` was carried out: the proof's signature (raw `r || s`).
    Signed {
        /// The request's id.
        id: RequestId,
        /// The signature bytes.
        signature: Vec<u8>,
        /// Now, epoch ms.
        now: u64,
    },
    /// WebCrypto refused to sign.
    SignFailed {
        /// The request's id.
        id: RequestId,
        /// WebCrypto's message.
        message: String,
        /// Now, epoch ms.
        now: u64,
    },
}

/// A user action on the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Call the demo resource API at this path.
    CallApi(&'static str),
    /// Call the provider's UserInfo endpoint.
    UserInfo,
    /// Trade the refresh token for new tokens.
    Refresh,
    /// Revoke a token at the provider (RFC 7009).
    Revoke(TokenKind),
    /// RP-initiated logout at the provider, with the random bytes of its `state`.
    LogoutAtProvider([u8; 32]),
    /// Forget the tokens held in memory.
    Logout,
}

/// One back-channel request, exactly as the driver must send it.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Absolute URL.
    pub url: String,
    /// Headers to send (only CORS-safelisted ones plus `Authorization` where needed).
    pub headers: Vec<(&'static str, String)>,
    /// Form body, for `POST`.
    pub body: Option<String>,
}

/// The body and the header values carry secrets (verifier, client secret, refresh token,
/// bearer token): `Debug` names them only.
impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| *name).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &names)
            .field("body", &self.body.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl HttpRequest {
    /// A JSON `GET`, optionally with an `Authorization` header.
    pub fn get(url: &str, authorization: Option<String>) -> Self {
        let mut headers = vec![("Accept", "application/json".to_owned())];
        if let Some(value) = authorization {
            headers.push(("Authorization", value));
        }
        HttpRequest {
            method: "GET",
            url: url.to_owned(),
            headers,
            body: None,
        }
    }

    /// A form `POST` to the token, revocation or similar endpoint (T-1 headers only).
    pub fn form(request: &TokenRequest) -> Self {
        HttpRequest {
            method: "POST",
            url: request.url.clone(),
            headers: TokenRequest::headers()
                .iter()
                .map(|(name, value)| (*name, (*value).to_owned()))
                .collect(),
            body: Some(request.body.clone()),
        }
    }
}

/// What the driver must do. A closed set: the lab adds its own variants in its own files.
// Each command is built once and moved to the driver: boxing the large one would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Command {
    /// Send this request through `browser::http`; answer with `Event::HttpAnswered`.
    Fetch {
        /// Echoed in the answer.
        id: RequestId,
        /// What to send.
        request: HttpRequest,
    },
    /// Leave the page for this URL (the driver saves the timeline just before).
    Navigate {
        /// Where to.
        url: String,
    },
    /// Remove the query and fragment from the address bar and history (C-25).
    CleanAddressBar,
    /// Write this to storage.
    Persist(Persist),
    /// Remove this from storage.
    Forget(Forget),
    /// Check an ID token with WebCrypto: its JWS signature and, at the same time, the hash of
    /// the access token that came with it (for `at_hash`); answer with `Event::IdTokenChecked`.
    CheckIdToken {
        /// Echoed in the answer.
        id: RequestId,
        /// Key, algorithm, signed bytes and signature.
        check: SignatureCheck,
        /// `SHA-256`, `SHA-384` or `SHA-512`: the ID token's algorithm's hash.
        hash: &'static str,
        /// The access token that came with it (its `Debug` is redacted).
        access_token: AccessToken,
    },
    /// Mark the moment the page holds what this event changed (`scripts/bench`).
    MarkDrawn(&'static str),
    /// Open the lab's window (blank) now: issued in the same batch as the click's event, so
    /// the browser sees the click's user activation. A refusal shows at `PopupTo`.
    OpenPopup,
    /// Load `url` in the lab's window; answer `Event::PopupBlocked` when there is no window
    /// to load it in, `Event::PopupReturned` when it comes back, `Event::PopupClosed` when
    /// the user closes it.
    PopupTo {
        /// The authorization request.
        url: String,
    },
    /// Close the lab's window.
    ClosePopup,
    /// Answer `Event::TimerFired { id }` after `after_ms` milliseconds.
    SetTimer {
        /// Echoed in the answer.
        id: TimerId,
        /// How long to wait.
        after_ms: u32,
    },
    /// Make this tab's non-extractable DPoP key pair (once); answer with
    /// `Event::DpopKeyReady` or `Event::DpopKeyFailed`.
    MakeDpopKey {
        /// The tab's key (made once per algorithm, reused), or the stolen-token experiment's
        /// attacker key (a fresh one each run).
        key: DpopKeyRole,
        /// The proof algorithm the key is for.
        alg: crate::protocol::dpop::DpopAlg,
    },
    /// Sign a DPoP proof's signing input with `key`; answer with `Event::Signed` or
    /// `Event::SignFailed`.
    Sign {
        /// Echoed in the answer.
        id: RequestId,
        /// Which key signs.
        key: DpopKeyRole,
        /// `BASE64URL(header).BASE64URL(claims)`.
        input: String,
    },
}

/// Which DPoP key pair a command means: the driver keeps both in memory, side by side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DpopKeyRole {
    /// This tab's key: the tokens are bound to it.
    Tab,
    /// The stolen-token experiment's attacker: a key of its own, not the one in `cnf.jkt`.
    Attacker,
}

/// What to write to storage.
#[derive(Debug)]
pub enum Persist {
    /// Add a pending login (sessionStorage; refused storage must stop the login).
    PendingLogin(PendingAuthorization),
    /// Replace the pending logins by these (what is left after one was consumed or expired).
    PendingLogins(PendingSet),
    /// The non-secret settings (localStorage).
    Settings(ProviderSettings),
    /// Validated provider metadata for this tab.
    Metadata(ProviderMetadata),
    /// The run of a login about to leave, under its `state`'s run id.
    Run {
        /// The login's `state`.
        state: State,
        /// Its timeline so far.
        timeline: Timeline,
    },
    /// Replace the kept runs by these, by run id.
    Runs(Vec<(String, Timeline)>),
    /// The browser leaves for the provider's end-session endpoint with this `state`.
    EndSessionMark(String),
}

/// What to remove from storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forget {
    /// The end-session marker, once the return from the provider's logout was seen.
    EndSessionMark,
}
