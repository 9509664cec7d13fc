//! Server nonces (RFC 9449 §8, §9): the `DPoP-Nonce` header's syntax, when an answer asks for
//! one, the one retry with it, and the `WWW-Authenticate: DPoP` challenge of a resource server.

use super::{DpopError, MAX_NONCE_LEN, MAX_SHOWN, USE_DPOP_NONCE};
use crate::protocol::document::parse_object;
use crate::protocol::error::sanitize_for_display;
use crate::protocol::http::HttpResponse;
use crate::protocol::resource::challenge_params;
use serde_json::Value;

/// A server nonce (RFC 9449 §8.1: `1*NQCHAR`, printable ASCII without `"` and `\`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpopNonce(String);

impl DpopNonce {
    /// Checks the `DPoP-Nonce` header's syntax.
    pub fn parse(value: &str) -> Result<DpopNonce, DpopError> {
        let ok = !value.is_empty()
            && value.len() <= MAX_NONCE_LEN
            && value
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if ok {
            Ok(DpopNonce(value.to_owned()))
        } else {
            Err(DpopError::NonceMalformed(sanitize_for_display(
                value, MAX_SHOWN,
            )))
        }
    }

    /// The nonce as it goes into the `nonce` claim.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which server answered: they ask for a nonce in different ways (RFC 9449 §8, §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DpopServer {
    /// The token endpoint: HTTP 400, JSON `{"error":"use_dpop_nonce"}`.
    Token,
    /// A resource server: HTTP 401, `WWW-Authenticate: DPoP error="use_dpop_nonce"`.
    Resource,
}

/// What an answer says about nonces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NonceDemand {
    /// Not a `use_dpop_nonce` error: the answer is the real one.
    NotAsked,
    /// The server refused the proof until it carries this nonce.
    Asked(DpopNonce),
}

/// Reads a `use_dpop_nonce` error from `response` (its `DPoP-Nonce` header passed as
/// `nonce_header`); a demand without a usable nonce is an error, as no retry can succeed.
pub fn nonce_demand(
    server: DpopServer,
    response: &HttpResponse,
    nonce_header: Option<&str>,
) -> Result<NonceDemand, DpopError> {
    let asked = match server {
        DpopServer::Token => {
            response.status == 400
                && parse_object(&response.body)
                    .ok()
                    .and_then(|o| o.get("error").and_then(Value::as_str).map(str::to_owned))
                    .as_deref()
                    == Some(USE_DPOP_NONCE)
        }
        DpopServer::Resource => {
            response.status == 401
                && response
                    .www_authenticate
                    .as_deref()
                    .and_then(parse_dpop_challenge)
                    .and_then(|c| c.error)
                    .as_deref()
                    == Some(USE_DPOP_NONCE)
        }
    };
    if !asked {
        return Ok(NonceDemand::NotAsked);
    }
    match nonce_header {
        None => Err(DpopError::NonceMissing),
        Some(value) => DpopNonce::parse(value.trim()).map(NonceDemand::Asked),
    }
}

/// The nonce rule as a state (RFC 9449 §8): the first `use_dpop_nonce` answer is retried once
/// with the server's nonce; a second one means the server will not take our proofs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceRetry {
    /// The request has gone out once.
    FirstTry,
    /// The request has been retried with a nonce.
    Retried,
}

/// What to do with an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NonceStep {
    /// The answer is final: read it as usual.
    Final,
    /// Send the request again with a fresh proof carrying `nonce`; the state becomes `next`.
    Retry {
        /// The nonce for the new proof.
        nonce: DpopNonce,
        /// The state for the retry's answer.
        next: NonceRetry,
    },
    /// Stop: the server keeps asking, or asked without a usable nonce.
    Fail(DpopError),
}

impl NonceRetry {
    /// The transition for one answer's [`nonce_demand`].
    pub fn on_answer(self, demand: Result<NonceDemand, DpopError>) -> NonceStep {
        match (self, demand) {
            (_, Ok(NonceDemand::NotAsked)) => NonceStep::Final,
            (NonceRetry::FirstTry, Ok(NonceDemand::Asked(nonce))) => NonceStep::Retry {
                nonce,
                next: NonceRetry::Retried,
            },
            (NonceRetry::Retried, Ok(NonceDemand::Asked(_))) => {
                NonceStep::Fail(DpopError::NonceRefusedTwice)
            }
            (_, Err(error)) => NonceStep::Fail(error),
        }
    }
}

/// A fresh nonce a server sent along with a successful answer (RFC 9449 §8.2), for the next
/// proof to the same server; a malformed header is ignored.
pub fn next_nonce(nonce_header: Option<&str>) -> Option<DpopNonce> {
    nonce_header.and_then(|value| DpopNonce::parse(value.trim()).ok())
}

// -------------------------------------------------------------------------- challenges

/// A `WWW-Authenticate: DPoP` challenge (RFC 9449 §7.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DpopChallenge {
    /// `error`: `invalid_token`, `invalid_dpop_proof`, `use_dpop_nonce`, ...
    pub error: Option<String>,
    /// `error_description`, sanitized for display.
    pub error_description: Option<String>,
    /// `algs`: the proof algorithms the server accepts, in its order.
    pub algs: Vec<String>,
}

/// The `DPoP` challenge of a `WWW-Authenticate` header, if it has one (other schemes, such as
/// a `Bearer` challenge next to it, are skipped).
pub fn parse_dpop_challenge(header: &str) -> Option<DpopChallenge> {
    let params = challenge_params(header, "dpop")?;
    let get = |wanted: &str| {
        params
            .iter()
            .find(|(name, value)| name == wanted && !value.is_empty())
            .map(|(_, value)| value.as_str())
    };
    Some(DpopChallenge {
        error: get("error").map(|e| sanitize_for_display(e, MAX_SHOWN)),
        error_description: get("error_description").map(|d| sanitize_for_display(d, 500)),
        algs: get("algs")
            .map(|algs| {
                algs.split(' ')
                    .filter(|a| !a.is_empty())
                    .map(|a| sanitize_for_display(a, 32))
                    .collect()
            })
            .unwrap_or_default(),
    })
}
