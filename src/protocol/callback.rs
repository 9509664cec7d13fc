//! The redirect back from the provider, checked in the checklist's order (§8): size caps and
//! duplicates, implicit/hybrid/JARM, `state` (lookup by the caller), TTL, `iss`, `error`, `code`.
//! Split in two because looking the pending login up by `state` is I/O done by the caller.

use crate::protocol::error::{sanitize_for_display, Explain, Side};
use crate::protocol::pending::PendingAuthorization;
use crate::protocol::secret::AuthorizationCode;
use crate::protocol::state::{State, StateError, MAX_STATE_LEN};
use crate::protocol::uri::parse_query;

/// Longest whole query accepted (C-24).
pub const MAX_QUERY_LEN: usize = 16 * 1024;
/// Longest `code` accepted (C-24); RFC 6749 sets no size, so the cap is generous.
pub const MAX_CODE_LEN: usize = 4 * 1024;
/// Longest `iss` accepted (C-24).
pub const MAX_ISS_LEN: usize = 2 * 1024;
/// `error_description` is cut to this many characters for display, not rejected (C-24, X-5).
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// `error_uri` is cut to this many characters for display.
const MAX_ERROR_URI_CHARS: usize = 2048;
/// Longest parameter name echoed back in an error.
const MAX_NAME_CHARS: usize = 64;

/// Parameters that make a page load an authorization response (in the query or the fragment).
const OAUTH_PARAMS: [&str; 10] = [
    "code",
    "state",
    "error",
    "error_description",
    "error_uri",
    "iss",
    "access_token",
    "token",
    "id_token",
    "response",
];

/// Callback parameters this app knows to be harmless, drawn as they arrived (C-17, S-2). Every
/// other parameter is masked wherever the callback is shown, saved or exported: `code` and
/// `state` with a reveal, anything else (`access_token`, `id_token`, `token`, `refresh_token`,
/// a JARM `response`, names never seen before) without one. An allow-list, because a provider
/// can send a credential under any name.
pub const HARMLESS_CALLBACK_PARAMETERS: [&str; 6] = [
    "iss",
    "error",
    "error_description",
    "error_uri",
    "session_state",
    "scope",
];

/// Whether a callback parameter may be shown as it arrived (see [`HARMLESS_CALLBACK_PARAMETERS`]).
pub fn is_harmless_callback_parameter(name: &str) -> bool {
    HARMLESS_CALLBACK_PARAMETERS.contains(&name)
}

/// The raw callback parameters, after the checks that need no pending login.
#[derive(Clone, PartialEq, Eq)]
pub struct CallbackParams {
    /// The `state` returned (well-formed, not yet matched).
    pub state: State,
    /// The authorization code, decoded, unchecked; `None` if absent or empty.
    pub code: Option<String>,
    /// The `iss` parameter, decoded; `None` if absent or empty.
    pub iss: Option<String>,
    /// The `error` code, raw; `None` if absent or empty.
    pub error: Option<String>,
    /// The `error_description`, raw (untrusted text).
    pub error_description: Option<String>,
    /// The `error_uri`, raw (untrusted; see `uri::safe_error_uri`).
    pub error_uri: Option<String>,
}

impl std::fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackParams")
            .field("state", &self.state)
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .field("iss", &self.iss)
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .field("error_uri", &self.error_uri)
            .finish()
    }
}

/// A callback that passed every check: the code may now be redeemed.
#[derive(Debug)]
pub struct AuthorizedCallback {
    /// The authorization code.
    pub code: AuthorizationCode,
    /// The pending login it answers (already removed from storage).
    pub pending: PendingAuthorization,
    /// The `iss` returned, if any (equal to `pending.issuer`).
    pub iss: Option<String>,
}

/// Reads the page's query and fragment. `Ok(None)` means an ordinary page load: no OAuth
/// parameter anywhere (C-1). Otherwise runs the checks that need no pending login.
pub fn parse_callback(
    query: &str,
    fragment: &str,
) -> Result<Option<CallbackParams>, CallbackError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    let pairs = parse_query(query);
    let fragment_pairs = parse_query(fragment);
    let is_oauth = |pairs: &[(String, String)]| {
        pairs
            .iter()
            .any(|(name, _)| OAUTH_PARAMS.contains(&name.as_str()))
    };
    let fragment_is_oauth = is_oauth(&fragment_pairs);
    if !is_oauth(&pairs) && !fragment_is_oauth {
        return Ok(None);
    }

    // 1. Size caps and duplicates (C-24, C-5), before anything is looked up.
    if query.len() > MAX_QUERY_LEN {
        return Err(CallbackError::ParameterTooLarge("query".into()));
    }
    if fragment.len() > MAX_QUERY_LEN {
        return Err(CallbackError::ParameterTooLarge("fragment".into()));
    }
    for (name, value) in &pairs {
        let cap = match name.as_str() {
            "code" => MAX_CODE_LEN,
            "state" => MAX_STATE_LEN,
            "iss" => MAX_ISS_LEN,
            _ => continue,
        };
        if value.len() > cap {
            return Err(CallbackError::ParameterTooLarge(name.clone()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (name, _) in &pairs {
        if !seen.insert(name.as_str()) {
            return Err(CallbackError::DuplicateParameter(sanitize_for_display(
                name,
                MAX_NAME_CHARS,
            )));
        }
    }
    let get = |wanted: &str| {
        pairs
            .iter()
            .find(|(name, _)| name == wanted)
            .map(|(_, value)| value.as_str())
    };

    // 2. Response types and modes this client never asks for (C-17, C-18, C-19).
    if ["access_token", "token", "id_token"]
        .iter()
        .any(|name| get(name).is_some())
    {
        return Err(CallbackError::ImplicitOrHybridResponse);
    }
    if get("response").is_some() {
        return Err(CallbackError::UnsupportedResponseMode);
    }
    if fragment_is_oauth {
        return Err(CallbackError::FragmentResponse);
    }

    // 3. state must be there before anything else can be trusted (C-2, C-4, C-7).
    let state = match get("state") {
        None | Some("") => return Err(CallbackError::MissingState),
        Some(value) => State::parse(value).map_err(|e| match e {
            StateError::Empty => CallbackError::MissingState,
            StateError::TooLong { .. } => CallbackError::ParameterTooLarge("state".into()),
            StateError::InvalidCharacter { .. } => CallbackError::MalformedState,
        })?,
    };
    // RFC 6749 §3.1: a parameter without a value counts as omitted.
    let non_empty = |name: &str| get(name).filter(|v| !v.is_empty()).map(str::to_owned);
    Ok(Some(CallbackParams {
        state,
        code: non_empty("code"),
        iss: non_empty("iss"),
        error: non_empty("error"),
        error_description: non_empty("error_description"),
        error_uri: non_empty("error_uri"),
    }))
}

/// Checks the callback against the pending login the caller took out of storage for its
/// `state` (consumed whatever the outcome): TTL, `iss`, then `error`, then `code`.
pub fn validate_callback(
    params: CallbackParams,
    pending: Option<PendingAuthorization>,
    now_ms: u64,
) -> Result<AuthorizedCallback, CallbackError> {
    // Unknown state, replay, or another tab's login (C-3, C-20, C-22a).
    let Some(pending) = pending else {
        return Err(CallbackError::NoPendingAuthorization);
    };
    // The caller looked up by state; checked again so a wrong lookup cannot slip through.
    if pending.state != params.state {
        return Err(CallbackError::StateMismatch);
    }
    if pending.is_expired(now_ms) {
        return Err(CallbackError::Expired);
    }
    // RFC 9207 §2.4: decoded value, simple string comparison, before the error is believed.
    match &params.iss {
        Some(iss) if *iss != pending.issuer => {
            return Err(CallbackError::IssuerMismatch {
                expected: pending.issuer.clone(),
                received: sanitize_for_display(iss, MAX_ISS_LEN),
            });
        }
        None if pending.iss_parameter_supported => return Err(CallbackError::IssuerMissing),
        _ => {}
    }
    // An error wins over a code sent alongside it (C-9).
    if let Some(error) = &params.error {
        return Err(CallbackError::AuthorizationError {
            code: AuthorizationErrorCode::parse(error),
            description: params
                .error_description
                .as_deref()
                .map(|d| sanitize_for_display(d, MAX_DESCRIPTION_CHARS)),
            uri: params
                .error_uri
                .as_deref()
                .map(|u| sanitize_for_display(u, MAX_ERROR_URI_CHARS)),
        });
    }
    let Some(code) = params.code else {
        return Err(CallbackError::MissingCode);
    };
    // RFC 6749 Appendix A.11: code = 1*VSCHAR.
    if !code.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
        return Err(CallbackError::MalformedCode);
    }
    Ok(AuthorizedCallback {
        code: AuthorizationCode::new(code),
        pending,
        iss: params.iss,
    })
}

/// The `error` codes of RFC 6749 §4.1.2.1; anything else is kept as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizationErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `access_denied`
    AccessDenied,
    /// `unsupported_response_type`
    UnsupportedResponseType,
    /// `invalid_scope`
    InvalidScope,
    /// `server_error`
    ServerError,
    /// `temporarily_unavailable`
    TemporarilyUnavailable,
    /// Any other code (e.g. OIDC `login_required`), made safe for display.
    Other(String),
}

impl AuthorizationErrorCode {
    /// Maps a raw `error` value; unknown values become `Other` (sanitized, X-3).
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "unauthorized_client" => Self::UnauthorizedClient,
            "access_denied" => Self::AccessDenied,
            "unsupported_response_type" => Self::UnsupportedResponseType,
            "invalid_scope" => Self::InvalidScope,
            "server_error" => Self::ServerError,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            other => Self::Other(sanitize_for_display(other, 100)),
        }
    }

    /// The code as sent on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::Other(code) => code,
        }
    }

    /// A fixed plain-language meaning (C-8).
    pub fn meaning(&self) -> String {
        match self {
            Self::InvalidRequest => "the request was malformed or missing a parameter (for \
                example, the provider requires PKCE and none was sent)"
                .to_owned(),
            Self::UnauthorizedClient => {
                "this client is not allowed to use the authorization code flow".to_owned()
            }
            Self::AccessDenied => {
                "access was denied, by you or by the provider's policy".to_owned()
            }
            Self::UnsupportedResponseType => {
                "the provider does not allow response_type=code for this client".to_owned()
            }
            Self::InvalidScope => {
                "a requested scope is unknown, malformed or not allowed for this client".to_owned()
            }
            Self::ServerError => "the provider hit an internal error".to_owned(),
            Self::TemporarilyUnavailable => {
                "the provider is overloaded or down for maintenance".to_owned()
            }
            Self::Other(code) => format!("an error this app does not know (\"{code}\")"),
        }
    }
}

/// Why a callback was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackError {
    /// A parameter (or the whole query) is larger than any real provider sends (C-24).
    ParameterTooLarge(String),
    /// A parameter appears more than once (C-5); the name is sanitized.
    DuplicateParameter(String),
    /// `access_token`, `token` or `id_token` in the URL: implicit or hybrid flow (C-17).
    ImplicitOrHybridResponse,
    /// A JARM `response` parameter (C-18).
    UnsupportedResponseMode,
    /// OAuth parameters in the `#fragment` instead of the query (C-19).
    FragmentResponse,
    /// No `state`, or an empty one (C-2, C-4).
    MissingState,
    /// A `state` this app cannot have made (characters outside `%x20-7E`).
    MalformedState,
    /// No pending login for this `state`: unknown, already used, or another tab's (C-3, C-20).
    NoPendingAuthorization,
    /// The pending login handed in is not the one for this `state`.
    StateMismatch,
    /// The pending login is older than 10 minutes (C-23).
    Expired,
    /// `iss` names another server than the one the login was sent to (C-13).
    IssuerMismatch {
        /// The issuer the login was sent to.
        expected: String,
        /// The `iss` received (sanitized).
        received: String,
    },
    /// `iss` missing though the provider promised it (C-14).
    IssuerMissing,
    /// The provider answered with an error (C-6, C-8).
    AuthorizationError {
        /// The error code.
        code: AuthorizationErrorCode,
        /// `error_description`, sanitized and truncated for display.
        description: Option<String>,
        /// `error_uri`, sanitized; link it only through `uri::safe_error_uri`.
        uri: Option<String>,
    },
    /// Neither a code nor an error (C-10, C-11).
    MissingCode,
    /// A code with characters outside `%x20-7E` (C-12).
    MalformedCode,
}

impl std::fmt::Display for CallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ParameterTooLarge(name) => write!(f, "parameter too large: {name}"),
            Self::DuplicateParameter(name) => write!(f, "duplicate parameter: {name}"),
            Self::ImplicitOrHybridResponse => f.write_str("implicit or hybrid response refused"),
            Self::UnsupportedResponseMode => f.write_str("unsupported response mode (JARM)"),
            Self::FragmentResponse => f.write_str("unexpected fragment response"),
            Self::MissingState => f.write_str("state missing"),
            Self::MalformedState => f.write_str("state malformed"),
            Self::NoPendingAuthorization => f.write_str("no pending login for this state"),
            Self::StateMismatch => f.write_str("state mismatch"),
            Self::Expired => f.write_str("pending login expired"),
            Self::IssuerMismatch { expected, received } => {
                write!(
                    f,
                    "issuer mismatch: expected {expected}, received {received}"
                )
            }
            Self::IssuerMissing => f.write_str("iss missing"),
            Self::AuthorizationError { code, .. } => {
                write!(f, "authorization error: {}", code.as_str())
            }
            Self::MissingCode => f.write_str("code missing"),
            Self::MalformedCode => f.write_str("code malformed"),
        }
    }
}

impl std::error::Error for CallbackError {}

impl Explain for CallbackError {
    fn what_happened(&self) -> String {
        match self {
            Self::ParameterTooLarge(name) => format!(
                "The response from the provider has an oversized \"{name}\", far larger than \
                 any real provider sends. It was refused before anything in it was looked up."
            ),
            Self::DuplicateParameter(name) => format!(
                "The response has the parameter \"{name}\" more than once. OAuth forbids \
                 repeated parameters (RFC 6749 §3.1): a second value is a classic way to \
                 smuggle something past a check."
            ),
            Self::ImplicitOrHybridResponse => "The provider sent tokens directly in the \
                redirect URL (the implicit or hybrid flow). That flow is deprecated because \
                URLs leak into history and logs. The tokens were neither stored nor shown."
                .to_owned(),
            Self::UnsupportedResponseMode => "The provider answered with a signed \"response\" \
                parameter (JARM), which this app does not support: it asks for plain query \
                parameters."
                .to_owned(),
            Self::FragmentResponse => "The provider put its answer in the URL fragment (#…) \
                instead of the query. This app asks for the answer in the query; fragment \
                answers belong to the deprecated implicit flow. Nothing in it was used."
                .to_owned(),
            Self::MissingState => "The response has no state, so nothing shows that this tab \
                asked for it. It could be a forged login link (CSRF), so nothing in it was used."
                .to_owned(),
            Self::MalformedState => "The response's state contains characters this app never \
                puts in a state, so it was not made here. Nothing in it was used."
                .to_owned(),
            Self::NoPendingAuthorization => "This login response was already used or has \
                expired, or it belongs to a login started in another tab. It was not used again."
                .to_owned(),
            Self::StateMismatch => "The state in the response does not match the login this \
                tab started, so the response may be forged (CSRF). Nothing in it was used."
                .to_owned(),
            Self::Expired => "This login took more than 10 minutes to come back, so it was \
                discarded: authorization codes are short-lived and single-use."
                .to_owned(),
            Self::IssuerMismatch { expected, received } => format!(
                "The response says it comes from \"{received}\", but this login was sent to \
                 \"{expected}\". That is what a mix-up attack looks like (RFC 9207), so the \
                 response was refused, including any error message in it."
            ),
            Self::IssuerMissing => "The provider promised to name itself (iss) in every \
                response, but this response has no iss, so it may come from another server."
                .to_owned(),
            Self::AuthorizationError {
                code, description, ..
            } => match description {
                Some(d) => format!(
                    "The provider did not log you in: {}. It said: \"{d}\"",
                    code.meaning()
                ),
                None => format!("The provider did not log you in: {}.", code.meaning()),
            },
            Self::MissingCode => "The provider came back with neither an authorization code \
                nor an error."
                .to_owned(),
            Self::MalformedCode => "The authorization code contains characters an OAuth code \
                cannot contain (only visible ASCII is allowed, RFC 6749 Appendix A.11)."
                .to_owned(),
        }
    }

    fn whose_side(&self) -> Side {
        match self {
            Self::ParameterTooLarge(_)
            | Self::DuplicateParameter(_)
            | Self::MissingState
            | Self::MalformedState
            | Self::StateMismatch
            | Self::IssuerMismatch { .. } => Side::Attacker,
            Self::NoPendingAuthorization | Self::Expired => Side::User,
            Self::AuthorizationError { code, .. } => match code {
                AuthorizationErrorCode::AccessDenied => Side::User,
                AuthorizationErrorCode::InvalidRequest | AuthorizationErrorCode::InvalidScope => {
                    Side::ThisApp
                }
                _ => Side::Provider,
            },
            Self::ImplicitOrHybridResponse
            | Self::UnsupportedResponseMode
            | Self::FragmentResponse
            | Self::IssuerMissing
            | Self::MissingCode
            | Self::MalformedCode => Side::Provider,
        }
    }

    fn what_to_do(&self) -> String {
        match self {
            Self::NoPendingAuthorization => "Start a new login from this tab.".to_owned(),
            Self::Expired => "Start a new login and finish it within 10 minutes.".to_owned(),
            Self::ImplicitOrHybridResponse => "Configure the client at the provider for the \
                authorization code flow (response_type=code) only, then log in again."
                .to_owned(),
            Self::UnsupportedResponseMode | Self::FragmentResponse => "Set the client's \
                response mode to query at the provider, then log in again."
                .to_owned(),
            Self::IssuerMismatch { .. } => "Start a new login. If you use several providers, \
                check that each one's issuer is configured exactly."
                .to_owned(),
            Self::IssuerMissing => "Start a new login. If it keeps happening, the provider is \
                not sending iss although its metadata says it does."
                .to_owned(),
            Self::MissingCode | Self::MalformedCode => {
                "Start a new login. If it keeps happening, the provider is misbehaving.".to_owned()
            }
            Self::AuthorizationError { code, .. } => match code {
                AuthorizationErrorCode::AccessDenied => {
                    "If that was a mistake, log in again and choose Allow.".to_owned()
                }
                AuthorizationErrorCode::InvalidScope => {
                    "Fix the scopes in the settings, then log in again.".to_owned()
                }
                AuthorizationErrorCode::InvalidRequest => "Check the client id, redirect URI \
                    and scopes in the settings, and the provider's description."
                    .to_owned(),
                AuthorizationErrorCode::UnauthorizedClient
                | AuthorizationErrorCode::UnsupportedResponseType => "Register the client at \
                    the provider as a public client allowed to use the authorization code flow \
                    with PKCE."
                    .to_owned(),
                AuthorizationErrorCode::ServerError
                | AuthorizationErrorCode::TemporarilyUnavailable => {
                    "Wait a moment, then start a new login.".to_owned()
                }
                AuthorizationErrorCode::Other(_) => "Read the provider's description and its \
                    documentation for this error code, then start a new login."
                    .to_owned(),
            },
            _ => "Nothing was used from this response. If you did not just log in, ignore it; \
                otherwise start a new login from this tab."
                .to_owned(),
        }
    }
}

#[cfg(test)]
mod tests;
