//! OpenID Connect steps: fetching the provider's keys, verifying the ID token (the signature by
//! WebCrypto in the glue, everything else here) and calling UserInfo. Pure, like the engine:
//! each function validates with `protocol` and appends the matching step.

use crate::flow::engine::{fail_step, path_of, record_response, with_token_get};
use crate::flow::problem::{Problem, TransportError};
use crate::flow::timeline::{
    Actor, Channel, HttpExchange, Param, Step, StepId, StepKind, Timeline,
};
use crate::protocol::error::Explain;
use crate::protocol::http::HttpResponse;
use crate::protocol::jwt::{
    check_at_hash, check_claims, decode, parse_jwks, select_key, AtHash, ClaimRules, DecodedJwt,
    IdTokenClaims, Jwks, JwsAlg, JwtError, NonceCheck, CLOCK_SKEW_SECS,
};
use crate::protocol::secret::{AccessToken, IdToken};
use crate::protocol::userinfo::parse_userinfo;
use serde_json::{Map, Value};

/// An ID token whose header was accepted, waiting for its key and signature check.
#[derive(Clone, Debug)]
pub struct IdTokenCheck {
    /// The raw token (kept for `id_token_hint` at logout).
    pub token: IdToken,
    /// Decoded header and claims (not trusted yet).
    pub decoded: DecodedJwt,
    /// The accepted algorithm.
    pub alg: JwsAlg,
}

/// What WebCrypto needs to check the signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureCheck {
    /// The public JWK to import.
    pub jwk_json: String,
    /// `importKey` algorithm, as JSON.
    pub import_params_json: String,
    /// `verify` algorithm, as JSON.
    pub verify_params_json: String,
    /// The signed bytes (`header.payload`).
    pub signing_input: String,
    /// The signature.
    pub signature: Vec<u8>,
    /// The key's id, for the step.
    pub kid: Option<String>,
}

/// A verified ID token: the app's statement of who logged in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedIdToken {
    /// The raw token.
    pub token: IdToken,
    /// The checked claims.
    pub claims: IdTokenClaims,
    /// The header, pretty-printed.
    pub header_json: String,
    /// All claims, pretty-printed.
    pub claims_json: String,
    /// The signature algorithm.
    pub alg: &'static str,
    /// The key that verified it.
    pub kid: Option<String>,
    /// What the at_hash check found.
    pub at_hash: AtHash,
}

fn verify_step(now_ms: u64) -> Step {
    Step::local(
        StepKind::VerifyIdToken,
        "Verify the ID token's signature (WebCrypto)",
        now_ms,
    )
    .with_note(t!("oidc.the_id_token"))
    .with_callout(t!("oidc.pitfall_decoding_a"))
}

/// Decodes the ID token and checks its header: `alg: none`, symmetric and unknown algorithms
/// are refused here, before any key is fetched (a failed "Verify" step).
pub fn id_token_received(
    timeline: &mut Timeline,
    token: &IdToken,
    now_ms: u64,
) -> Result<IdTokenCheck, Problem> {
    let outcome = decode(token.secret()).and_then(|decoded| {
        let alg = decoded.algorithm()?;
        Ok((decoded, alg))
    });
    match outcome {
        Ok((decoded, alg)) => Ok(IdTokenCheck {
            token: token.clone(),
            decoded,
            alg,
        }),
        Err(error) => {
            let mut step = verify_step(now_ms);
            if let Ok(decoded) = decode(token.secret()) {
                step.params = header_params(&decoded);
            }
            timeline.push_failed(step, &error.what_happened());
            Err(Problem::from_error(&error))
        }
    }
}

fn header_params(decoded: &DecodedJwt) -> Vec<Param> {
    ["alg", "kid", "typ"]
        .iter()
        .filter_map(|name| {
            decoded
                .header
                .get(*name)
                .map(|v| Param::public(name, &shown_value(v)))
        })
        .collect()
}

fn shown_value(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    crate::protocol::error::sanitize_for_display(&text, 120)
}

/// Appends the JWKS request step.
pub fn jwks_fetch_started(timeline: &mut Timeline, url: &str, now_ms: u64) -> StepId {
    timeline.push(jwks_step(url, now_ms).with_note(t!("oidc.the_public_keys")))
}

/// Appends the key set's fetch sent while the code is redeemed, before any ID token arrived:
/// the keys are public and the same for every answer, so the token's check need not wait a
/// round trip for them.
pub fn jwks_fetch_started_early(timeline: &mut Timeline, url: &str, now_ms: u64) -> StepId {
    timeline.push(jwks_step(url, now_ms).with_note(t!("oidc.the_public_keys_early")))
}

fn jwks_step(url: &str, now_ms: u64) -> Step {
    Step::new(
        StepKind::FetchJwks,
        Actor::ClientApp,
        Actor::AuthorizationServer,
        Channel::Back,
        "Fetch the provider's signing keys (JWKS)",
        now_ms,
    )
    .with_exchange(HttpExchange::json_get(url))
}

/// Validates the key set and completes or fails its step.
pub fn jwks_fetch_finished(
    timeline: &mut Timeline,
    step: StepId,
    outcome: Result<HttpResponse, TransportError>,
    now_ms: u64,
) -> Result<Jwks, Problem> {
    let response = record_response(timeline, step, outcome, |body| body.to_owned(), now_ms)?;
    match parse_jwks(&response) {
        Ok(jwks) => {
            if let Some(s) = timeline.step_mut(step) {
                s.params = vec![Param::public("kid", &jwks.kids().join(", "))];
            }
            timeline.complete(step, now_ms);
            Ok(jwks)
        }
        Err(error) => Err(fail_step(timeline, step, &error, now_ms)),
    }
}

/// A failed "Verify" step for a provider without `jwks_uri`.
pub fn no_jwks_uri(timeline: &mut Timeline, check: &IdTokenCheck, now_ms: u64) -> Problem {
    let error = JwtError::NoJwksUri;
    timeline.push_failed(
        verify_step(now_ms).with_params(header_params(&check.decoded)),
        &error.what_happened(),
    );
    Problem::from_error(&error)
}

/// Whether a key set fetched earlier (on this page) has the key for this token; if not, the
/// glue fetches it again (the provider may have rotated its keys).
pub fn has_key_for(jwks: &Jwks, check: &IdTokenCheck) -> bool {
    select_key(jwks, check.alg, check.decoded.kid()).is_ok()
}

/// What WebCrypto needs to check a JWT access token's signature as the API would (RFC 9068
/// §4): the same algorithm rules and key selection as for the ID token.
pub fn access_token_signature_check(
    jwt: &DecodedJwt,
    jwks: &Jwks,
) -> Result<SignatureCheck, JwtError> {
    let alg = jwt.algorithm()?;
    let key = select_key(jwks, alg, jwt.kid())?;
    Ok(SignatureCheck {
        jwk_json: key.jwk_json,
        import_params_json: alg.import_params_json(),
        verify_params_json: alg.verify_params_json(),
        signing_input: jwt.signing_input.clone(),
        signature: jwt.signature.clone(),
        kid: key.kid,
    })
}

/// Picks the verification key, or fails the "Verify" step when none fits.
pub fn signature_check(
    timeline: &mut Timeline,
    check: &IdTokenCheck,
    jwks: &Jwks,
    now_ms: u64,
) -> Result<SignatureCheck, Problem> {
    match select_key(jwks, check.alg, check.decoded.kid()) {
        Ok(key) => Ok(SignatureCheck {
            jwk_json: key.jwk_json,
            import_params_json: check.alg.import_params_json(),
            verify_params_json: check.alg.verify_params_json(),
            signing_input: check.decoded.signing_input.clone(),
            signature: check.decoded.signature.clone(),
            kid: key.kid,
        }),
        Err(error) => {
            timeline.push_failed(
                verify_step(now_ms).with_params(header_params(&check.decoded)),
                &error.what_happened(),
            );
            Err(Problem::from_error(&error))
        }
    }
}

/// Records WebCrypto's verdict: `Ok(true)` verified, `Ok(false)` a bad signature, `Err` WebCrypto
/// refused the key or the operation.
pub fn signature_checked(
    timeline: &mut Timeline,
    check: &IdTokenCheck,
    key: &SignatureCheck,
    verdict: Result<bool, String>,
    now_ms: u64,
) -> Result<(), Problem> {
    let mut params = header_params(&check.decoded);
    if let Some(kid) = &key.kid {
        params.retain(|p| p.name != "kid");
        params.push(Param::public("kid", kid));
    }
    let step = verify_step(now_ms).with_params(params);
    let error = match verdict {
        Ok(true) => {
            timeline.push_done(step, 0.0);
            return Ok(());
        }
        Ok(false) => JwtError::BadSignature,
        Err(message) => JwtError::Verifier(message),
    };
    timeline.push_failed(step, &error.what_happened());
    Err(Problem::from_error(&error))
}

/// Checks the claims of a token whose signature was verified, and `at_hash` against the access
/// token that came with it: `access_token_digest` is its hash with [`JwsAlg::hash_name`]
/// (WebCrypto's `digest` in the app; empty if that failed).
pub fn claims_checked(
    timeline: &mut Timeline,
    check: &IdTokenCheck,
    rules: &ClaimRules,
    access_token_digest: &[u8],
    now_ms: u64,
) -> Result<VerifiedIdToken, Problem> {
    let step = Step::local(
        StepKind::CheckIdTokenClaims,
        "Check the ID token's claims: iss, aud, exp, nonce",
        now_ms,
    )
    .with_note(&format!(
        "Only a verified token's claims are looked at. iss must be the provider the login was \
         sent to; aud must contain this client's id (a token minted for another app must not \
         log you in here); exp and iat are compared with this browser's clock, allowing \
         {CLOCK_SKEW_SECS} s of skew; nonce must be the random value this tab sent, so a token \
         from another login cannot be replayed into this one."
    ));
    let claims = &check.decoded.claims;
    let outcome = check_claims(claims, rules).and_then(|checked| {
        let at_hash = check_at_hash(claims, check.alg, access_token_digest)?;
        Ok((checked, at_hash))
    });
    match outcome {
        Ok((checked, at_hash)) => {
            let mut params = vec![
                Param::public("iss", &format!("{} ✓", checked.iss)),
                Param::public("aud", &format!("{} ✓", checked.aud.join(" "))),
                Param::public("sub", &checked.shown_sub()),
                Param::public(
                    "exp",
                    &format!("in {} s ✓", checked.exp.saturating_sub(rules.now_ms / 1000)),
                ),
            ];
            // Only what was compared gets a ✓ (a refresh may carry no nonce to compare).
            params.push(Param::public(
                "nonce",
                match checked.nonce {
                    NonceCheck::Matches => "matches ✓ (the one this tab sent)",
                    NonceCheck::Absent => "absent (allowed after a refresh); nothing compared",
                    NonceCheck::NotCompared => {
                        t!("oidc.present_not_compared")
                    }
                },
            ));
            if at_hash == AtHash::Matches {
                params.push(Param::public("at_hash", "matches ✓"));
            }
            timeline.push_done(step.with_params(params), 0.0);
            Ok(VerifiedIdToken {
                token: check.token.clone(),
                claims: checked,
                header_json: check.decoded.header_json(),
                claims_json: check.decoded.claims_json(),
                alg: check.alg.name(),
                kid: check.decoded.kid().map(str::to_owned),
                at_hash,
            })
        }
        Err(error) => {
            timeline.push_failed(step, &error.what_happened());
            Err(Problem::from_error(&error))
        }
    }
}

/// Appends the UserInfo request step and returns it with the `Authorization` header value.
pub fn userinfo_request_started(
    timeline: &mut Timeline,
    url: &str,
    token: &AccessToken,
    now_ms: u64,
) -> (StepId, String) {
    userinfo_request_started_as(timeline, url, token, false, now_ms)
}

/// [`userinfo_request_started`] for a DPoP-bound token (`dpop`): `Authorization: DPoP …`.
pub fn userinfo_request_started_as(
    timeline: &mut Timeline,
    url: &str,
    token: &AccessToken,
    dpop: bool,
    now_ms: u64,
) -> (StepId, String) {
    let (step, header) = with_token_get(
        Step::new(
            StepKind::UserInfoRequest,
            Actor::ClientApp,
            Actor::AuthorizationServer,
            Channel::Back,
            &format!("Ask the provider who this is: GET {}", path_of(url)),
            now_ms,
        ),
        url,
        token,
        dpop,
    );
    let step = timeline.push(step.with_note(t!("oidc.userinfo_is_an")));
    (step, header)
}

/// Validates the UserInfo answer (its `sub` must equal the ID token's) and records it.
pub fn userinfo_response_received(
    timeline: &mut Timeline,
    step: StepId,
    outcome: Result<HttpResponse, TransportError>,
    expected_sub: Option<&str>,
    now_ms: u64,
) -> Result<Map<String, Value>, Problem> {
    let response = record_response(timeline, step, outcome, |body| body.to_owned(), now_ms)?;
    timeline.complete(step, now_ms);
    let answer = Step::new(
        StepKind::UserInfoResponse,
        Actor::AuthorizationServer,
        Actor::ClientApp,
        Channel::Back,
        &format!("UserInfo answers {}", response.status),
        now_ms,
    );
    match parse_userinfo(&response, expected_sub) {
        Ok(claims) => {
            let params = ["sub", "name", "email"]
                .iter()
                .filter_map(|name| {
                    claims
                        .get(*name)
                        .map(|v| Param::public(name, &shown_value(v)))
                })
                .collect();
            timeline.push_done(answer.with_params(params), 0.0);
            Ok(claims)
        }
        Err(error) => {
            timeline.push_failed(answer, &error.what_happened());
            Err(Problem::from_error(&error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::jwt::NonceRule;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    const NOW_MS: u64 = 1_764_000_000_000;

    fn token(header: Value, claims: Value) -> IdToken {
        let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        IdToken::new(format!(
            "{}.{}.{}",
            part(&header),
            part(&claims),
            URL_SAFE_NO_PAD.encode([9u8; 256])
        ))
    }

    /// The SHA-256 of an access token, as WebCrypto computes it for an RS256 token.
    fn digest(token: &str) -> Vec<u8> {
        use sha2::Digest;
        sha2::Sha256::digest(token).to_vec()
    }

    fn claims() -> Value {
        serde_json::json!({"iss":"https://as.example","sub":"alice","aud":"flow-lab",
            "exp": NOW_MS / 1000 + 600, "iat": NOW_MS / 1000, "nonce":"n1"})
    }

    fn rules() -> ClaimRules {
        ClaimRules {
            issuer: "https://as.example".into(),
            client_id: "flow-lab".into(),
            nonce: NonceRule::Expected("n1".into()),
            expected_sub: None,
            now_ms: NOW_MS,
        }
    }

    fn jwks_json() -> Value {
        let n = URL_SAFE_NO_PAD.encode([0xC1u8; 256]);
        serde_json::json!({"keys": [{"kty":"RSA","kid":"k1","n":n,"e":"AQAB"}]})
    }

    fn jwks() -> Jwks {
        parse_jwks(&HttpResponse::json(200, jwks_json().to_string())).unwrap()
    }

    fn kinds(timeline: &Timeline) -> Vec<(StepKind, &'static str)> {
        timeline
            .steps()
            .iter()
            .map(|s| (s.kind, s.status.css()))
            .collect()
    }

    #[test]
    fn rfc9068_4_access_jwt_signature_uses_the_jwks_key_and_refuses_alg_none() {
        let at = token(
            serde_json::json!({"alg":"RS256","kid":"k1","typ":"at+jwt"}),
            claims(),
        );
        let decoded = decode(at.secret()).unwrap();
        let check = access_token_signature_check(&decoded, &jwks()).unwrap();
        assert_eq!(check.kid.as_deref(), Some("k1"));
        assert_eq!(check.signing_input, decoded.signing_input);
        let none = decode(token(serde_json::json!({"alg":"none"}), claims()).secret()).unwrap();
        assert!(access_token_signature_check(&none, &jwks()).is_err());
        let other = token(serde_json::json!({"alg":"RS256","kid":"k9"}), claims());
        assert!(access_token_signature_check(&decode(other.secret()).unwrap(), &jwks()).is_err());
    }

    #[test]
    fn alg_none_fails_the_verify_step_before_any_key_is_fetched() {
        let mut timeline = Timeline::new();
        let none = token(serde_json::json!({"alg":"none"}), claims());
        let problem = id_token_received(&mut timeline, &none, NOW_MS).unwrap_err();
        assert!(problem.what_happened.contains("alg \"none\""));
        assert_eq!(kinds(&timeline), [(StepKind::VerifyIdToken, "failed")]);
        assert_eq!(timeline.steps()[0].params[0].shown, "none");
    }

    #[test]
    fn good_token_goes_jwks_then_verify_then_claims() {
        let mut timeline = Timeline::new();
        let id = token(serde_json::json!({"alg":"RS256","kid":"k1"}), claims());
        let check = id_token_received(&mut timeline, &id, NOW_MS).unwrap();
        let step = jwks_fetch_started(&mut timeline, "https://as.example/jwks", NOW_MS);
        let body = jwks_json().to_string();
        let keys = jwks_fetch_finished(
            &mut timeline,
            step,
            Ok(HttpResponse::json(200, body)),
            NOW_MS,
        )
        .unwrap();
        assert!(has_key_for(&keys, &check));
        let key = signature_check(&mut timeline, &check, &keys, NOW_MS).unwrap();
        assert_eq!(key.kid.as_deref(), Some("k1"));
        assert_eq!(key.signing_input, check.decoded.signing_input);
        signature_checked(&mut timeline, &check, &key, Ok(true), NOW_MS).unwrap();
        let verified =
            claims_checked(&mut timeline, &check, &rules(), &digest("at"), NOW_MS).unwrap();
        assert_eq!(verified.claims.sub, "alice");
        assert_eq!(
            kinds(&timeline),
            [
                (StepKind::FetchJwks, "ok"),
                (StepKind::VerifyIdToken, "ok"),
                (StepKind::CheckIdTokenClaims, "ok")
            ]
        );
    }

    #[test]
    fn bad_signature_is_a_red_verify_step() {
        let mut timeline = Timeline::new();
        let id = token(serde_json::json!({"alg":"RS256","kid":"k1"}), claims());
        let check = id_token_received(&mut timeline, &id, NOW_MS).unwrap();
        let key = signature_check(&mut timeline, &check, &jwks(), NOW_MS).unwrap();
        let problem =
            signature_checked(&mut timeline, &check, &key, Ok(false), NOW_MS).unwrap_err();
        assert!(problem.what_happened.contains("signature does not match"));
        assert_eq!(kinds(&timeline), [(StepKind::VerifyIdToken, "failed")]);
    }

    #[test]
    fn unknown_kid_fails_and_wrong_nonce_fails_the_claims_step() {
        let mut timeline = Timeline::new();
        let id = token(serde_json::json!({"alg":"RS256","kid":"rotated"}), claims());
        let check = id_token_received(&mut timeline, &id, NOW_MS).unwrap();
        assert!(!has_key_for(&jwks(), &check));
        assert!(signature_check(&mut timeline, &check, &jwks(), NOW_MS).is_err());

        let mut timeline = Timeline::new();
        let mut other = claims();
        other["nonce"] = "n2".into();
        let id = token(serde_json::json!({"alg":"RS256","kid":"k1"}), other);
        let check = id_token_received(&mut timeline, &id, NOW_MS).unwrap();
        let problem =
            claims_checked(&mut timeline, &check, &rules(), &digest("at"), NOW_MS).unwrap_err();
        assert!(problem.what_happened.contains("nonce"));
        assert_eq!(kinds(&timeline), [(StepKind::CheckIdTokenClaims, "failed")]);
    }

    /// Runs a token with `claims` through the claims step under `rules`.
    fn claims_step(
        claims: Value,
        rules: &ClaimRules,
    ) -> (Timeline, Result<VerifiedIdToken, Problem>) {
        let mut timeline = Timeline::new();
        let id = token(serde_json::json!({"alg":"RS256","kid":"k1"}), claims);
        let check = id_token_received(&mut timeline, &id, NOW_MS).unwrap();
        let outcome = claims_checked(&mut timeline, &check, rules, &digest("at"), NOW_MS);
        (timeline, outcome)
    }

    fn chip(timeline: &Timeline, name: &str) -> Option<String> {
        let (_, step) = timeline.last_of(StepKind::CheckIdTokenClaims)?;
        step.params
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.shown.clone())
    }

    #[test]
    fn oidc12_2_nonce_chip_says_what_was_compared() {
        let refresh = |original: Option<&str>| ClaimRules {
            nonce: NonceRule::IfPresent(original.map(str::to_owned)),
            expected_sub: Some("alice".into()),
            ..rules()
        };
        let mut without = claims();
        without.as_object_mut().unwrap().remove("nonce");
        // A refresh after a login without a nonce: nothing was compared, whatever the token says.
        for token_claims in [claims(), without.clone()] {
            let (timeline, outcome) = claims_step(token_claims.clone(), &refresh(None));
            assert!(outcome.is_ok());
            let shown = chip(&timeline, "nonce").expect("the nonce line is drawn");
            assert!(
                !shown.contains("match") && !shown.contains('✓'),
                "{token_claims}: {shown}"
            );
        }
        // Absent after a refresh with a known original: allowed, and said so.
        let (timeline, _) = claims_step(without, &refresh(Some("n1")));
        let shown = chip(&timeline, "nonce").unwrap();
        assert!(
            shown.contains("absent") && !shown.contains("match"),
            "{shown}"
        );
        // Compared and equal: only then "matches".
        let (timeline, _) = claims_step(claims(), &refresh(Some("n1")));
        assert!(chip(&timeline, "nonce").unwrap().contains("matches"));
        let (timeline, _) = claims_step(claims(), &rules());
        assert!(chip(&timeline, "nonce").unwrap().contains("matches"));
    }

    #[test]
    fn oidc5_3_2_sub_is_kept_raw_for_comparisons_and_escaped_where_drawn() {
        // 255 characters (allowed by OIDC Core §2), beyond the 200 shown.
        let long = "s".repeat(255);
        let mut c = claims();
        c["sub"] = long.clone().into();
        let (_, verified) = claims_step(c, &rules());
        let verified = verified.unwrap();
        let body = serde_json::json!({ "sub": long }).to_string();
        assert!(crate::protocol::userinfo::parse_userinfo(
            &HttpResponse::json(200, body),
            Some(&verified.claims.sub)
        )
        .is_ok());
        // Drawn escaped, never raw.
        let mut c = claims();
        c["sub"] = "al\u{202E}ice".into();
        let (timeline, verified) = claims_step(c, &rules());
        assert_eq!(chip(&timeline, "sub").unwrap(), "al\\u{202E}ice");
        assert_eq!(verified.unwrap().claims.sub, "al\u{202E}ice");
    }

    #[test]
    fn userinfo_about_someone_else_is_refused() {
        let mut timeline = Timeline::new();
        let (step, header) = userinfo_request_started(
            &mut timeline,
            "https://as.example/me",
            &AccessToken::new("secret-access-token".into()),
            NOW_MS,
        );
        assert_eq!(header, "Bearer secret-access-token");
        assert!(!timeline.to_json().contains("secret-access-token"));
        let outcome = Ok(HttpResponse::json(200, r#"{"sub":"mallory"}"#));
        let problem =
            userinfo_response_received(&mut timeline, step, outcome, Some("alice"), NOW_MS)
                .unwrap_err();
        assert!(problem.what_happened.contains("mallory"));
        assert_eq!(
            kinds(&timeline),
            [
                (StepKind::UserInfoRequest, "ok"),
                (StepKind::UserInfoResponse, "failed")
            ]
        );
    }
}
