//! Provider metadata (RFC 8414, OpenID Connect Discovery): where the endpoints are and what the
//! provider supports. The `issuer` in the document must equal the configured one exactly, or a
//! malicious document could send the login somewhere else (RFC 8414 §3.3).

use crate::protocol::authorize::check_endpoint_query;
use crate::protocol::document::{
    is_json_media_type, parse_document, take, JsonProblem, Map, Member, Value,
};
use crate::protocol::error::{sanitize_for_display, Explain, Side};
use crate::protocol::http::HttpResponse;
use crate::protocol::uri::{HttpUrl, UriError};
use serde::Deserialize;

/// Largest metadata document accepted (D-13).
pub const MAX_METADATA_BODY: usize = 256 * 1024;
/// OpenID Connect Discovery suffix, appended to the issuer.
const OIDC_WELL_KNOWN: &str = "/.well-known/openid-configuration";
/// RFC 8414 well-known segment, inserted between host and path.
const OAUTH_WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
/// Longest untrusted value echoed in an error or warning.
const MAX_SHOWN: usize = 300;

/// What the app uses from the provider's metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderMetadata {
    /// The issuer, exactly equal to the configured one.
    pub issuer: String,
    /// Where the browser is sent to log in.
    pub authorization_endpoint: String,
    /// Where the code is redeemed.
    pub token_endpoint: String,
    /// OpenID Connect UserInfo endpoint.
    pub userinfo_endpoint: Option<String>,
    /// The provider's signing keys.
    pub jwks_uri: Option<String>,
    /// RFC 7009 token revocation.
    pub revocation_endpoint: Option<String>,
    /// OpenID Connect RP-initiated logout.
    pub end_session_endpoint: Option<String>,
    /// PKCE methods; without `S256` PKCE support is unknown (D-10).
    pub code_challenge_methods_supported: Vec<String>,
    /// Client authentication methods at the token endpoint.
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// Advertised scopes.
    pub scopes_supported: Vec<String>,
    /// RFC 9207: `iss` is in every authorization response (D-12).
    pub iss_parameter_supported: bool,
    /// RFC 9449 §5.1: the proof algorithms the provider takes (empty: DPoP not advertised).
    pub dpop_signing_alg_values_supported: Vec<String>,
    /// Non-fatal findings to show on the "Discover" step.
    pub warnings: Vec<String>,
}

/// A configured issuer must be an https (or loopback http) URL without query or fragment (D-15,
/// RFC 8414 §2).
pub fn validate_issuer(issuer: &str) -> Result<(), DiscoveryError> {
    let url = match HttpUrl::parse(issuer) {
        Ok(url) => url,
        Err(UriError::FragmentNotAllowed) => return Err(DiscoveryError::IssuerHasFragment),
        Err(error) => return Err(DiscoveryError::InvalidIssuer(error)),
    };
    if url.query().is_some() {
        return Err(DiscoveryError::IssuerHasQuery);
    }
    url.require_secure().map_err(DiscoveryError::InvalidIssuer)
}

/// Refuses a set of configured providers in which two share an issuer (D-15, RFC 9207 §4):
/// `iss` could then not tell them apart.
pub fn check_distinct_issuers(issuers: &[&str]) -> Result<(), DiscoveryError> {
    for (i, issuer) in issuers.iter().enumerate() {
        if issuers[..i].contains(issuer) {
            return Err(DiscoveryError::DuplicateIssuer(sanitize_for_display(
                issuer, MAX_SHOWN,
            )));
        }
    }
    Ok(())
}

/// OpenID Connect Discovery: `issuer` (without a trailing `/`) + `/.well-known/openid-configuration`
/// (D-14).
pub fn openid_configuration_url(issuer: &str) -> Result<String, DiscoveryError> {
    validate_issuer(issuer)?;
    Ok(format!("{}{OIDC_WELL_KNOWN}", issuer.trim_end_matches('/')))
}

/// RFC 8414 §3.1: `/.well-known/oauth-authorization-server` inserted between the host and the
/// issuer's path (trailing `/` removed) (D-14).
pub fn oauth_metadata_url(issuer: &str) -> Result<String, DiscoveryError> {
    validate_issuer(issuer)?;
    // validate_issuer guarantees `scheme://authority[/path]` with no query or fragment.
    let after_scheme = issuer.find("://").map_or(0, |i| i + 3);
    let path_start = issuer[after_scheme..]
        .find('/')
        .map_or(issuer.len(), |i| after_scheme + i);
    let (origin, path) = issuer.split_at(path_start);
    Ok(format!(
        "{origin}{OAUTH_WELL_KNOWN}{}",
        path.trim_end_matches('/')
    ))
}

fn json_problem(problem: JsonProblem) -> DiscoveryError {
    match problem {
        JsonProblem::NotJson | JsonProblem::Shape => DiscoveryError::NotJson,
        JsonProblem::NotAnObject => DiscoveryError::NotAnObject,
        JsonProblem::Duplicate(key) => {
            DiscoveryError::DuplicateField(sanitize_for_display(&key, 64))
        }
    }
}

/// The members of a metadata document this app reads (RFC 8414 §2, OpenID Connect Discovery
/// §3), as sent; unknown members are ignored, members of another type kept to be named.
#[derive(Deserialize)]
#[serde(from = "Map<String, Value>")]
struct MetadataDocument {
    issuer: Member<String>,
    authorization_endpoint: Member<String>,
    token_endpoint: Member<String>,
    userinfo_endpoint: Member<String>,
    jwks_uri: Member<String>,
    revocation_endpoint: Member<String>,
    end_session_endpoint: Member<String>,
    response_types_supported: Member<Vec<Member<String>>>,
    code_challenge_methods_supported: Member<Vec<Member<String>>>,
    token_endpoint_auth_methods_supported: Member<Vec<Member<String>>>,
    scopes_supported: Member<Vec<Member<String>>>,
    authorization_response_iss_parameter_supported: Member<bool>,
    dpop_signing_alg_values_supported: Member<Vec<Member<String>>>,
}

impl From<Map<String, Value>> for MetadataDocument {
    fn from(mut object: Map<String, Value>) -> Self {
        MetadataDocument {
            issuer: take(&mut object, "issuer"),
            authorization_endpoint: take(&mut object, "authorization_endpoint"),
            token_endpoint: take(&mut object, "token_endpoint"),
            userinfo_endpoint: take(&mut object, "userinfo_endpoint"),
            jwks_uri: take(&mut object, "jwks_uri"),
            revocation_endpoint: take(&mut object, "revocation_endpoint"),
            end_session_endpoint: take(&mut object, "end_session_endpoint"),
            response_types_supported: take(&mut object, "response_types_supported"),
            code_challenge_methods_supported: take(&mut object, "code_challenge_methods_supported"),
            token_endpoint_auth_methods_supported: take(
                &mut object,
                "token_endpoint_auth_methods_supported",
            ),
            scopes_supported: take(&mut object, "scopes_supported"),
            authorization_response_iss_parameter_supported: take(
                &mut object,
                "authorization_response_iss_parameter_supported",
            ),
            dpop_signing_alg_values_supported: take(
                &mut object,
                "dpop_signing_alg_values_supported",
            ),
        }
    }
}

/// A required endpoint: present, a string, a secure URL (D-5, D-6, D-7, D-8).
fn required_endpoint(
    member: &Member<String>,
    name: &'static str,
) -> Result<String, DiscoveryError> {
    let value = match member {
        Member::Is(s) if !s.is_empty() => s,
        _ => return Err(DiscoveryError::MissingEndpoint(name)),
    };
    HttpUrl::parse(value)
        .and_then(|url| url.require_secure())
        .map_err(|error| DiscoveryError::InvalidEndpoint { name, error })?;
    Ok(value.clone())
}

/// An optional endpoint: an unusable one is dropped with a warning rather than failing login.
fn optional_endpoint(
    member: &Member<String>,
    name: &str,
    warnings: &mut Vec<String>,
) -> Option<String> {
    let checked = match member {
        Member::Absent => return None,
        Member::Is(s) => HttpUrl::parse(s)
            .and_then(|url| url.require_secure())
            .map(|()| s.clone()),
        Member::Other(_) => Err(UriError::NotAbsolute),
    };
    match checked {
        Ok(url) => Some(url),
        Err(error) => {
            warnings.push(format!("{name} is not usable and was ignored: {error}."));
            None
        }
    }
}

/// A list of strings; non-string entries are dropped with a warning.
fn string_list(
    member: &Member<Vec<Member<String>>>,
    name: &'static str,
    warnings: &mut Vec<String>,
) -> Result<Option<Vec<String>>, DiscoveryError> {
    match member {
        m if m.is_absent_or_null() => Ok(None),
        Member::Is(items) => {
            let strings: Vec<String> = items
                .iter()
                .filter_map(Member::ok)
                // Raw: compared (`S256`, `code`, `none`); sanitized where drawn.
                .cloned()
                .collect();
            if strings.len() != items.len() {
                warnings.push(format!("{name} contains entries that are not strings."));
            }
            Ok(Some(strings))
        }
        _ => Err(DiscoveryError::InvalidField(name)),
    }
}

/// Validates a discovery answer against the configured issuer (D-1..D-13).
pub fn parse_metadata(
    expected_issuer: &str,
    response: &HttpResponse,
) -> Result<ProviderMetadata, DiscoveryError> {
    validate_issuer(expected_issuer)?;
    if response.body_len() > MAX_METADATA_BODY {
        return Err(DiscoveryError::BodyTooLarge {
            len: response.body_len(),
        });
    }
    if response.status != 200 {
        return Err(DiscoveryError::UnexpectedStatus(response.status));
    }
    let doc: MetadataDocument = parse_document(&response.body).map_err(json_problem)?;
    let mut warnings = Vec::new();
    if !is_json_media_type(response.content_type.as_deref()) {
        warnings.push(format!(
            "The metadata was sent as {} instead of application/json (RFC 8414 §3.2); accepted \
             because the body is valid JSON.",
            response
                .content_type
                .as_deref()
                .map(|ct| sanitize_for_display(ct, 100))
                .unwrap_or_else(|| "no content type".to_owned())
        ));
    }

    // D-1, D-2: exact string equality, never a silent fix-up (RFC 8414 §3.3).
    let issuer = match &doc.issuer {
        Member::Is(s) if !s.is_empty() => s,
        _ => return Err(DiscoveryError::MissingIssuer),
    };
    if issuer != expected_issuer {
        return Err(DiscoveryError::IssuerMismatch {
            expected: expected_issuer.to_owned(),
            actual: sanitize_for_display(issuer, MAX_SHOWN),
        });
    }

    let authorization_endpoint =
        required_endpoint(&doc.authorization_endpoint, "authorization_endpoint")?;
    // D-9: its own query is kept, but must not pre-set a parameter of the request (A-1, P-5).
    check_endpoint_query(&authorization_endpoint).map_err(|error| {
        DiscoveryError::InvalidEndpoint {
            name: "authorization_endpoint",
            error,
        }
    })?;
    let token_endpoint = required_endpoint(&doc.token_endpoint, "token_endpoint")?;

    // D-11: this client only does the code flow.
    match string_list(
        &doc.response_types_supported,
        "response_types_supported",
        &mut warnings,
    )? {
        Some(types) if !types.iter().any(|t| t == "code") => {
            return Err(DiscoveryError::UnsupportedResponseType)
        }
        Some(_) => {}
        None => warnings.push(
            "response_types_supported is missing (it is required, RFC 8414 §2); assuming the \
             code flow is supported."
                .to_owned(),
        ),
    }

    // D-10: warn, and still send S256 and state; never `plain`.
    let code_challenge_methods_supported = string_list(
        &doc.code_challenge_methods_supported,
        "code_challenge_methods_supported",
        &mut warnings,
    )?
    .unwrap_or_default();
    if !code_challenge_methods_supported.iter().any(|m| m == "S256") {
        warnings.push(
            "The provider does not advertise S256 in code_challenge_methods_supported, so PKCE \
             support is unknown. This app still sends an S256 challenge and a state, and never \
             falls back to plain."
                .to_owned(),
        );
    }

    let token_endpoint_auth_methods_supported = string_list(
        &doc.token_endpoint_auth_methods_supported,
        "token_endpoint_auth_methods_supported",
        &mut warnings,
    )?
    .unwrap_or_default();
    if !token_endpoint_auth_methods_supported.is_empty()
        && !token_endpoint_auth_methods_supported
            .iter()
            .any(|m| m == "none")
    {
        warnings.push(
            "token_endpoint_auth_methods_supported does not list \"none\": the provider may not \
             accept public clients like this browser app."
                .to_owned(),
        );
    }
    let scopes_supported =
        string_list(&doc.scopes_supported, "scopes_supported", &mut warnings)?.unwrap_or_default();

    // D-12: remembered, so the callback then requires iss (C-14).
    let iss_parameter_supported = match doc.authorization_response_iss_parameter_supported {
        m if m.is_absent_or_null() => false,
        Member::Is(b) => b,
        _ => {
            return Err(DiscoveryError::InvalidField(
                "authorization_response_iss_parameter_supported",
            ))
        }
    };

    let dpop_signing_alg_values_supported = string_list(
        &doc.dpop_signing_alg_values_supported,
        "dpop_signing_alg_values_supported",
        &mut warnings,
    )?
    .unwrap_or_default();

    let userinfo_endpoint =
        optional_endpoint(&doc.userinfo_endpoint, "userinfo_endpoint", &mut warnings);
    let jwks_uri = optional_endpoint(&doc.jwks_uri, "jwks_uri", &mut warnings);
    let revocation_endpoint = optional_endpoint(
        &doc.revocation_endpoint,
        "revocation_endpoint",
        &mut warnings,
    );
    let end_session_endpoint = optional_endpoint(
        &doc.end_session_endpoint,
        "end_session_endpoint",
        &mut warnings,
    );

    Ok(ProviderMetadata {
        issuer: issuer.clone(),
        authorization_endpoint,
        token_endpoint,
        userinfo_endpoint,
        jwks_uri,
        revocation_endpoint,
        end_session_endpoint,
        code_challenge_methods_supported,
        token_endpoint_auth_methods_supported,
        scopes_supported,
        iss_parameter_supported,
        dpop_signing_alg_values_supported,
        warnings,
    })
}

/// Why discovery failed or a configured issuer is unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiscoveryError {
    /// The configured issuer is not an acceptable URL (D-6, D-7, D-8, D-15).
    InvalidIssuer(UriError),
    /// The configured issuer has a `?query` (D-15).
    IssuerHasQuery,
    /// The configured issuer has a `#fragment` (D-15).
    IssuerHasFragment,
    /// Two configured providers share an issuer (D-15).
    DuplicateIssuer(String),
    /// Body larger than [`MAX_METADATA_BODY`] (D-13).
    BodyTooLarge {
        /// Length in bytes.
        len: usize,
    },
    /// Status other than 200; redirects are not followed (D-3).
    UnexpectedStatus(u16),
    /// Not JSON (D-4).
    NotJson,
    /// JSON but not an object (D-4).
    NotAnObject,
    /// A top-level key appears twice.
    DuplicateField(String),
    /// `issuer` missing, empty or not a string (D-2).
    MissingIssuer,
    /// The document's issuer is not exactly the configured one (D-1).
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// The issuer the document states (sanitized).
        actual: String,
    },
    /// A required endpoint is missing or not a string (D-5).
    MissingEndpoint(&'static str),
    /// A required endpoint is not an acceptable URL (D-5..D-8).
    InvalidEndpoint {
        /// Which endpoint.
        name: &'static str,
        /// Why.
        error: UriError,
    },
    /// `response_types_supported` does not contain `code` (D-11).
    UnsupportedResponseType,
    /// A field has the wrong type.
    InvalidField(&'static str),
}

impl std::fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidIssuer(e) => write!(f, "invalid issuer: {e}"),
            Self::IssuerHasQuery => f.write_str("issuer has a query"),
            Self::IssuerHasFragment => f.write_str("issuer has a fragment"),
            Self::DuplicateIssuer(i) => write!(f, "two providers share the issuer {i}"),
            Self::BodyTooLarge { len } => write!(f, "metadata too large ({len} bytes)"),
            Self::UnexpectedStatus(s) => write!(f, "unexpected HTTP status {s}"),
            Self::NotJson => f.write_str("metadata is not JSON"),
            Self::NotAnObject => f.write_str("metadata is not a JSON object"),
            Self::DuplicateField(k) => write!(f, "duplicate field in metadata: {k}"),
            Self::MissingIssuer => f.write_str("metadata has no issuer"),
            Self::IssuerMismatch { expected, actual } => {
                write!(f, "issuer mismatch: expected {expected}, got {actual}")
            }
            Self::MissingEndpoint(name) => write!(f, "metadata has no {name}"),
            Self::InvalidEndpoint { name, error } => write!(f, "invalid {name}: {error}"),
            Self::UnsupportedResponseType => f.write_str("provider does not support code"),
            Self::InvalidField(name) => write!(f, "invalid {name} in metadata"),
        }
    }
}

impl std::error::Error for DiscoveryError {}

impl Explain for DiscoveryError {
    fn what_happened(&self) -> String {
        match self {
            Self::InvalidIssuer(e) => {
                format!(
                    "The configured issuer cannot be used. {}",
                    e.what_happened()
                )
            }
            Self::IssuerHasQuery => "The configured issuer has a ?query; an issuer is an https \
                URL without query or fragment (RFC 8414 §2)."
                .to_owned(),
            Self::IssuerHasFragment => "The configured issuer has a #fragment; an issuer is an \
                https URL without query or fragment (RFC 8414 §2)."
                .to_owned(),
            Self::DuplicateIssuer(i) => format!(
                "Two configured providers share the issuer \"{i}\", so a response could not be \
                 told apart from the other provider's (RFC 9207 §4)."
            ),
            Self::BodyTooLarge { len } => format!(
                "The provider's metadata is at least {len} bytes, more than the {} KiB limit.",
                MAX_METADATA_BODY / 1024
            ),
            Self::UnexpectedStatus(0) => "The metadata address answered with a redirect, which \
                is not followed."
                .to_owned(),
            Self::UnexpectedStatus(s) => format!(
                "The metadata address answered {s} instead of 200 with the provider's metadata."
            ),
            Self::NotJson => "The metadata address did not answer with JSON (perhaps an HTML \
                page: is the issuer right?)."
                .to_owned(),
            Self::NotAnObject => "The metadata is JSON but not an object.".to_owned(),
            Self::DuplicateField(k) => format!(
                "The metadata contains \"{k}\" twice, so which value is meant is ambiguous."
            ),
            Self::MissingIssuer => "The metadata does not state its issuer.".to_owned(),
            Self::IssuerMismatch { expected, actual } => format!(
                "The metadata says its issuer is \"{actual}\", but the configured issuer is \
                 \"{expected}\". They must be identical (RFC 8414 §3.3), or a malicious \
                 document could redirect the login; the metadata was discarded."
            ),
            Self::MissingEndpoint(name) => format!("The metadata has no usable {name}."),
            Self::InvalidEndpoint { name, error } => {
                format!(
                    "The metadata's {name} cannot be used. {}",
                    error.what_happened()
                )
            }
            Self::UnsupportedResponseType => "The provider does not list response_type \"code\" \
                in response_types_supported, and the authorization code flow is the only one \
                this app uses."
                .to_owned(),
            Self::InvalidField(name) => {
                format!("The metadata's \"{name}\" field has the wrong type.")
            }
        }
    }

    fn whose_side(&self) -> Side {
        match self {
            Self::InvalidIssuer(_)
            | Self::IssuerHasQuery
            | Self::IssuerHasFragment
            | Self::DuplicateIssuer(_) => Side::ThisApp,
            _ => Side::Provider,
        }
    }

    fn what_to_do(&self) -> String {
        match self {
            Self::IssuerMismatch { actual, .. } => format!(
                "If you trust this provider, set the issuer in the settings to exactly \
                 \"{actual}\" (a trailing slash counts) and try again."
            ),
            Self::InvalidIssuer(_) | Self::IssuerHasQuery | Self::IssuerHasFragment => {
                "Enter the issuer as the provider documents it, e.g. https://login.example.com \
                 or https://login.example.com/tenant."
                    .to_owned()
            }
            Self::DuplicateIssuer(_) => "Remove one of the two providers.".to_owned(),
            Self::NotJson | Self::UnexpectedStatus(_) => "Check the issuer in the settings: \
                the metadata lives at <issuer>/.well-known/openid-configuration."
                .to_owned(),
            Self::UnsupportedResponseType => "Enable the authorization code flow for this \
                provider, or use another provider."
                .to_owned(),
            _ => {
                "Check the provider's configuration; its metadata must follow RFC 8414.".to_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests;
