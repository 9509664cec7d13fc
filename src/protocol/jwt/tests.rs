use super::*;
use crate::protocol::http::HttpResponse;

const ISSUER: &str = "https://as.example";
const CLIENT: &str = "flow-lab";
const NOW_MS: u64 = 1_764_000_000_000;
const NOW_S: u64 = NOW_MS / 1000;

fn b64(json: &Value) -> String {
    URL_SAFE_NO_PAD.encode(json.to_string())
}

fn token(header: Value, claims: Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(&header),
        b64(&claims),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// The access token's digest for `alg`, as WebCrypto computes it in the app.
fn digest_of(alg: JwsAlg, token: &str) -> Vec<u8> {
    use sha2::Digest;
    match alg.hash_bits() {
        256 => sha2::Sha256::digest(token).to_vec(),
        384 => sha2::Sha384::digest(token).to_vec(),
        _ => sha2::Sha512::digest(token).to_vec(),
    }
}

fn good_claims() -> Value {
    serde_json::json!({
        "iss": ISSUER, "sub": "alice", "aud": CLIENT, "exp": NOW_S + 300, "iat": NOW_S - 5,
        "nonce": "n-0S6_WzA2Mj", "name": "Alice Liddell"
    })
}

fn rules() -> ClaimRules {
    ClaimRules {
        issuer: ISSUER.into(),
        client_id: CLIENT.into(),
        nonce: NonceRule::Expected("n-0S6_WzA2Mj".into()),
        expected_sub: None,
        now_ms: NOW_MS,
    }
}

fn check(claims: Value) -> Result<IdTokenClaims, JwtError> {
    check_claims(claims.as_object().unwrap(), &rules())
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    if value.is_null() {
        claims.as_object_mut().unwrap().remove(name);
    } else {
        claims[name] = value;
    }
    claims
}

fn rsa_key(kid: &str) -> Value {
    // A 2048-bit modulus: 256 bytes, first byte non-zero.
    let n = URL_SAFE_NO_PAD.encode([0xC5u8; 256]);
    serde_json::json!({ "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n, "e": "AQAB" })
}

fn ec_key(kid: &str, crv: &str) -> Value {
    let c = URL_SAFE_NO_PAD.encode([7u8; 32]);
    serde_json::json!({ "kty": "EC", "kid": kid, "crv": crv, "x": c, "y": c })
}

fn jwks(keys: Vec<Value>) -> Jwks {
    Jwks {
        keys: keys
            .into_iter()
            .map(|k| serde_json::from_value(k).unwrap())
            .collect(),
    }
}

/// The JWKS answer for `keys`, a JSON text written by hand so members can repeat.
fn jwks_answer(keys: &str) -> HttpResponse {
    HttpResponse::json(200, format!(r#"{{"keys":[{keys}]}}"#))
}

/// Issue 13 defect 9 (T-28 at every depth): a key with `"use":"enc","use":"sig"` must not be
/// selected as a signing key; the whole JWKS is refused.
#[test]
fn t28_jwks_key_with_repeated_use_is_refused() {
    let n = URL_SAFE_NO_PAD.encode([0xC5u8; 256]);
    let key = format!(r#"{{"kty":"RSA","kid":"k1","use":"enc","use":"sig","n":"{n}","e":"AQAB"}}"#);
    assert!(
        matches!(
            parse_jwks(&jwks_answer(&key)),
            Err(JwtError::JwksInvalid(_))
        ),
        "{:?}",
        parse_jwks(&jwks_answer(&key))
    );
    // The same key without the repeat is read.
    let once = key.replace(r#""use":"enc","#, "");
    assert_eq!(parse_jwks(&jwks_answer(&once)).unwrap().kids(), ["k1"]);
}

/// T-28 at every depth in the ID token: a repeated member inside a nested claim.
#[test]
fn t28_nested_repeated_claim_is_refused() {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#);
    let claims = URL_SAFE_NO_PAD.encode(r#"{"sub":"a","address":{"country":"x","country":"y"}}"#);
    assert_eq!(
        decode(&format!("{header}.{claims}.c2ln")).unwrap_err(),
        JwtError::DuplicateMember("country".into())
    );
}

// proptest is a host-only dev-dependency (Cargo.toml).
#[cfg(not(target_arch = "wasm32"))]
proptest::proptest! {
    /// T-28 as a rule over generated keys: any member this client reads, repeated with any
    /// two values, makes the JWKS unusable; the key with one copy is read.
    #[test]
    fn t28_any_repeated_key_member_refuses_the_jwks(
        member in proptest::sample::select(vec![
            "kty", "kid", "use", "alg", "key_ops", "crv", "n", "e", "x", "y", "d",
        ]),
        first in "[a-zA-Z0-9_-]{0,12}",
        second in "[a-zA-Z0-9_-]{0,12}",
        position in 0usize..3,
    ) {
        let mut members = vec![
            r#""kty":"RSA""#.to_owned(),
            r#""kid":"k1""#.to_owned(),
            r#""e":"AQAB""#.to_owned(),
        ];
        members.insert(position, format!(r#""{member}":"{first}""#));
        let once = format!("{{{}}}", members.join(","));
        members.push(format!(r#""{member}":"{second}""#));
        let twice = format!("{{{}}}", members.join(","));
        proptest::prop_assert!(
            matches!(parse_jwks(&jwks_answer(&twice)), Err(JwtError::JwksInvalid(_))),
            "{twice}"
        );
        let dedup = once.matches(&format!(r#""{member}":"#)).count() == 1;
        if dedup {
            proptest::prop_assert!(parse_jwks(&jwks_answer(&once)).is_ok(), "{once}");
        }
    }
}

#[test]
fn decodes_header_claims_and_signing_input() {
    let jwt = token(
        serde_json::json!({"alg":"RS256","kid":"k1"}),
        good_claims(),
        b"sig",
    );
    let decoded = decode(&jwt).unwrap();
    assert_eq!(decoded.kid(), Some("k1"));
    assert_eq!(decoded.algorithm().unwrap(), JwsAlg::Rs256);
    assert_eq!(decoded.claims["sub"], "alice");
    assert_eq!(decoded.signature, b"sig");
    assert_eq!(
        decoded.signing_input,
        jwt.rsplit_once('.').unwrap().0,
        "the signature covers header.payload exactly as received"
    );
    assert!(decoded.claims_json().contains("Alice Liddell"));
    assert!(
        !format!("{decoded:?}").contains("Alice"),
        "Debug hides claims"
    );
}

#[test]
fn malformed_tokens_are_refused_without_panicking() {
    for bad in [
        "",
        "a",
        "a.b",
        "a.b.c.d",
        "!!.e30.",
        "e30.!!.",
        "e30.e30.!!",
        "W10.e30.",
    ] {
        assert!(
            matches!(decode(bad), Err(JwtError::Malformed(_))),
            "{bad}: {:?}",
            decode(bad)
        );
    }
    assert_eq!(decode("a.b.c.d.e"), Err(JwtError::Encrypted));
    // Padded base64 is not base64url-without-padding (RFC 7515 §2).
    let padded = format!("{}=.e30.", URL_SAFE_NO_PAD.encode("{\"alg\":\"RS256\"}"));
    assert!(decode(&padded).is_err());
    let long = "a".repeat(MAX_JWT_LEN + 1);
    assert!(matches!(decode(&long), Err(JwtError::TooLarge { .. })));
    let dup = format!(
        "{}.e30.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","alg":"none"}"#)
    );
    assert_eq!(decode(&dup), Err(JwtError::DuplicateMember("alg".into())));
}

#[test]
fn alg_none_symmetric_and_unknown_algorithms_are_refused() {
    let alg = |a: &str| {
        decode(&token(serde_json::json!({ "alg": a }), good_claims(), b""))
            .unwrap()
            .algorithm()
    };
    assert_eq!(alg("none"), Err(JwtError::AlgNone));
    assert_eq!(alg("None"), Err(JwtError::AlgNone));
    assert_eq!(alg("HS256"), Err(JwtError::SymmetricAlg("HS256".into())));
    assert_eq!(alg("EdDSA"), Err(JwtError::UnsupportedAlg("EdDSA".into())));
    assert_eq!(alg("rs256"), Err(JwtError::UnsupportedAlg("rs256".into())));
    let no_alg = decode(&token(serde_json::json!({}), good_claims(), b"")).unwrap();
    assert!(matches!(no_alg.algorithm(), Err(JwtError::Malformed(_))));
    let crit = decode(&token(
        serde_json::json!({"alg":"RS256","crit":["exp"]}),
        good_claims(),
        b"",
    ))
    .unwrap();
    assert_eq!(crit.algorithm(), Err(JwtError::CriticalHeader));
    assert_eq!(JwtError::AlgNone.whose_side(), Side::Attacker);
}

#[test]
fn ecdsa_signature_must_be_raw_r_and_s() {
    let es = |len: usize| {
        decode(&token(
            serde_json::json!({"alg":"ES256"}),
            good_claims(),
            &vec![1u8; len],
        ))
        .unwrap()
        .algorithm()
    };
    assert_eq!(es(64), Ok(JwsAlg::Es256));
    assert_eq!(
        es(70),
        Err(JwtError::SignatureLength {
            expected: 64,
            actual: 70
        })
    );
}

#[test]
fn webcrypto_parameters_per_algorithm() {
    assert_eq!(
        JwsAlg::Rs256.import_params_json(),
        r#"{"hash":"SHA-256","name":"RSASSA-PKCS1-v1_5"}"#
    );
    assert_eq!(
        JwsAlg::Rs256.verify_params_json(),
        r#"{"name":"RSASSA-PKCS1-v1_5"}"#
    );
    assert_eq!(
        JwsAlg::Es256.import_params_json(),
        r#"{"name":"ECDSA","namedCurve":"P-256"}"#
    );
    assert_eq!(
        JwsAlg::Es384.verify_params_json(),
        r#"{"hash":"SHA-384","name":"ECDSA"}"#
    );
    assert_eq!(
        JwsAlg::Ps512.verify_params_json(),
        r#"{"name":"RSA-PSS","saltLength":64}"#
    );
}

#[test]
fn key_is_chosen_by_kid_among_fitting_keys() {
    let set = jwks(vec![rsa_key("old"), rsa_key("new"), ec_key("ec", "P-256")]);
    let key = select_key(&set, JwsAlg::Rs256, Some("new")).unwrap();
    assert_eq!(key.kid.as_deref(), Some("new"));
    assert_eq!(key.rsa_bits, 2048);
    let jwk: Value = serde_json::from_str::<serde_json::Value>(&key.jwk_json).unwrap();
    assert_eq!(jwk["kty"], "RSA");
    assert!(jwk.get("alg").is_none() && jwk.get("kid").is_none() && jwk.get("d").is_none());
    // A kid that names a key of another type does not select it.
    assert_eq!(
        select_key(&set, JwsAlg::Rs256, Some("ec")),
        Err(JwtError::KeyNotFound {
            kid: Some("ec".into()),
            alg: "RS256"
        })
    );
    let ec = select_key(&set, JwsAlg::Es256, Some("ec")).unwrap();
    let jwk: Value = serde_json::from_str::<serde_json::Value>(&ec.jwk_json).unwrap();
    assert_eq!(jwk["crv"], "P-256");
    // The curve must match the algorithm.
    assert!(select_key(&set, JwsAlg::Es384, Some("ec")).is_err());
}

#[test]
fn without_kid_exactly_one_fitting_key_is_required() {
    let one = jwks(vec![rsa_key("a"), ec_key("e", "P-256")]);
    assert_eq!(
        select_key(&one, JwsAlg::Rs256, None)
            .unwrap()
            .kid
            .as_deref(),
        Some("a")
    );
    let two = jwks(vec![rsa_key("a"), rsa_key("b")]);
    assert_eq!(
        select_key(&two, JwsAlg::Rs256, None),
        Err(JwtError::AmbiguousKey)
    );
    assert!(matches!(
        select_key(&Jwks::default(), JwsAlg::Rs256, None),
        Err(JwtError::KeyNotFound { kid: None, .. })
    ));
}

#[test]
fn keys_for_encryption_or_another_alg_are_not_used() {
    let mut enc = rsa_key("k");
    enc["use"] = "enc".into();
    let mut other_alg = rsa_key("k");
    other_alg["alg"] = "PS256".into();
    let mut sign_only = rsa_key("k");
    sign_only["key_ops"] = serde_json::json!(["sign"]);
    for key in [enc, other_alg, sign_only] {
        assert!(
            select_key(&jwks(vec![key.clone()]), JwsAlg::Rs256, Some("k")).is_err(),
            "{key}"
        );
    }
    // No use/alg/key_ops at all is fine.
    let mut bare = rsa_key("k");
    for m in ["use", "alg"] {
        bare.as_object_mut().unwrap().remove(m);
    }
    assert!(select_key(&jwks(vec![bare]), JwsAlg::Rs256, Some("k")).is_ok());
}

#[test]
fn weak_or_incomplete_keys_are_refused() {
    let mut small = rsa_key("k");
    small["n"] = URL_SAFE_NO_PAD.encode([0xC5u8; 128]).into();
    assert_eq!(
        select_key(&jwks(vec![small]), JwsAlg::Rs256, Some("k")),
        Err(JwtError::WeakKey { bits: 1024 })
    );
    let mut no_e = rsa_key("k");
    no_e.as_object_mut().unwrap().remove("e");
    assert_eq!(
        select_key(&jwks(vec![no_e]), JwsAlg::Rs256, Some("k")),
        Err(JwtError::InvalidKey("e"))
    );
    let mut bad_x = ec_key("k", "P-256");
    bad_x["x"] = "not base64!".into();
    assert_eq!(
        select_key(&jwks(vec![bad_x]), JwsAlg::Es256, Some("k")),
        Err(JwtError::InvalidKey("x"))
    );
}

/// RFC 7517 §5: `keys` is an array of JWKs, and a JWK is a JSON object (§4). An entry that
/// is not one is dropped, never read as a key: serde's derive read an array entry field by
/// field (`["RSA","k"]` as `kty` and `kid`), which the map-based reading no longer does.
#[test]
fn rfc7517_jwks_entries_that_are_not_objects_are_dropped() {
    let body = serde_json::json!({"keys": [["RSA", "positional"], rsa_key("a"), null, "k", 3]});
    let set = parse_jwks(&HttpResponse::json(200, body.to_string())).unwrap();
    assert_eq!(set.kids(), ["a"]);
}

#[test]
fn jwks_document_is_validated() {
    let response = |status: u16, body: &str| HttpResponse {
        unread: None,
        dpop_nonce: None,
        status,
        content_type: Some("application/jwk-set+json".into()),
        body: body.into(),
        www_authenticate: None,
        cache_control: None,
    };
    let set = parse_jwks(&response(
        200,
        &serde_json::json!({"keys":[rsa_key("a"), 3]}).to_string(),
    ))
    .unwrap();
    assert_eq!(set.kids(), ["a"]);
    assert_eq!(
        parse_jwks(&response(404, "{}")),
        Err(JwtError::JwksStatus(404))
    );
    assert!(matches!(
        parse_jwks(&response(200, "<html>")),
        Err(JwtError::JwksInvalid(_))
    ));
    assert!(matches!(
        parse_jwks(&response(200, "{\"keys\":{}}")),
        Err(JwtError::JwksInvalid(_))
    ));
}

#[test]
fn good_claims_pass() {
    let claims = check(good_claims()).unwrap();
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.sub, "alice");
    assert_eq!(claims.aud, [CLIENT]);
    assert_eq!(claims.nonce, NonceCheck::Matches);
    assert_eq!(claims.name.as_deref(), Some("Alice Liddell"));
}

#[test]
fn wrong_issuer_is_refused_even_by_a_trailing_slash() {
    for iss in ["https://evil.example", "https://as.example/"] {
        assert!(matches!(
            check(with(good_claims(), "iss", iss.into())),
            Err(JwtError::IssuerMismatch { .. })
        ));
    }
    assert_eq!(
        check(with(good_claims(), "iss", Value::Null)),
        Err(JwtError::MissingClaim("iss"))
    );
}

#[test]
fn wrong_audience_is_refused() {
    let err = check(with(good_claims(), "aud", "another-app".into())).unwrap_err();
    assert!(matches!(err, JwtError::AudienceMismatch { .. }));
    assert_eq!(err.whose_side(), Side::Attacker);
    assert!(err.what_happened().contains("another-app"));
    assert!(check(with(good_claims(), "aud", serde_json::json!(["x", "y"]))).is_err());
    assert_eq!(
        check(with(good_claims(), "aud", serde_json::json!([]))),
        Err(JwtError::InvalidClaim("aud"))
    );
    assert_eq!(
        check(with(good_claims(), "aud", 42.into())),
        Err(JwtError::InvalidClaim("aud"))
    );
}

#[test]
fn several_audiences_need_azp_equal_to_this_client() {
    let multi = with(good_claims(), "aud", serde_json::json!([CLIENT, "api"]));
    assert_eq!(check(multi.clone()), Err(JwtError::MissingClaim("azp")));
    assert!(check(with(multi.clone(), "azp", CLIENT.into())).is_ok());
    assert_eq!(
        check(with(multi, "azp", "api".into())),
        Err(JwtError::AzpMismatch("api".into()))
    );
    // A single audience with a foreign azp is refused too.
    assert!(check(with(good_claims(), "azp", "other".into())).is_err());
}

#[test]
fn expiry_and_issue_time_allow_a_small_skew_only() {
    assert!(check(with(good_claims(), "exp", (NOW_S - 30).into())).is_ok());
    assert_eq!(
        check(with(good_claims(), "exp", (NOW_S - 61).into())),
        Err(JwtError::Expired { seconds_ago: 61 })
    );
    assert!(check(with(good_claims(), "iat", (NOW_S + 30).into())).is_ok());
    assert_eq!(
        check(with(good_claims(), "iat", (NOW_S + 3600).into())),
        Err(JwtError::IssuedInFuture {
            seconds_ahead: 3600
        })
    );
    assert_eq!(
        check(with(good_claims(), "exp", Value::Null)),
        Err(JwtError::MissingClaim("exp"))
    );
    assert_eq!(
        check(with(good_claims(), "exp", "tomorrow".into())),
        Err(JwtError::InvalidClaim("exp"))
    );
    assert_eq!(
        check(with(good_claims(), "iat", (-5).into())),
        Err(JwtError::InvalidClaim("iat"))
    );
    // Fractional NumericDates are allowed (RFC 7519 §2).
    assert!(check(with(
        good_claims(),
        "exp",
        ((NOW_S + 10) as f64 + 0.5).into()
    ))
    .is_ok());
}

#[test]
fn wrong_or_missing_nonce_is_refused() {
    assert_eq!(
        check(with(good_claims(), "nonce", "someone-elses".into())),
        Err(JwtError::NonceMismatch)
    );
    assert_eq!(
        check(with(good_claims(), "nonce", Value::Null)),
        Err(JwtError::MissingClaim("nonce"))
    );
    // After a refresh the nonce may be absent, or must be the original.
    let refresh = ClaimRules {
        nonce: NonceRule::IfPresent(Some("n-0S6_WzA2Mj".into())),
        expected_sub: Some("alice".into()),
        ..rules()
    };
    let no_nonce = with(good_claims(), "nonce", Value::Null);
    assert_eq!(
        check_claims(no_nonce.as_object().unwrap(), &refresh)
            .unwrap()
            .nonce,
        NonceCheck::Absent
    );
    let other = with(good_claims(), "nonce", "x".into());
    assert_eq!(
        check_claims(other.as_object().unwrap(), &refresh),
        Err(JwtError::NonceMismatch)
    );
    let bob = with(good_claims(), "sub", "bob".into());
    assert_eq!(
        check_claims(bob.as_object().unwrap(), &refresh),
        Err(JwtError::SubjectChanged)
    );
}

#[test]
fn subject_is_required() {
    for sub in [Value::Null, "".into()] {
        assert_eq!(
            check(with(good_claims(), "sub", sub)),
            Err(JwtError::MissingClaim("sub"))
        );
    }
}

#[test]
fn at_hash_binds_the_access_token() {
    // OIDC Core §A.3 example: access token and its at_hash.
    let access = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
    let claims = serde_json::json!({ "at_hash": "77QmUPtjPfzWtF2AnpK9RQ" });
    let claims = claims.as_object().unwrap();
    assert_eq!(
        check_at_hash(claims, JwsAlg::Rs256, &digest_of(JwsAlg::Rs256, access)),
        Ok(AtHash::Matches)
    );
    assert_eq!(
        check_at_hash(
            claims,
            JwsAlg::Rs256,
            &digest_of(JwsAlg::Rs256, "another-token")
        ),
        Err(JwtError::AtHashMismatch)
    );
    assert_eq!(
        check_at_hash(
            &Map::new(),
            JwsAlg::Rs256,
            &digest_of(JwsAlg::Rs256, access)
        ),
        Ok(AtHash::Absent)
    );
    // No digest (WebCrypto failed) or one of another size: said so, not a pass.
    assert_eq!(
        check_at_hash(claims, JwsAlg::Rs384, &digest_of(JwsAlg::Rs256, access)),
        Err(JwtError::DigestUnavailable("SHA-384"))
    );
    assert_eq!(
        check_at_hash(claims, JwsAlg::Rs256, &[]),
        Err(JwtError::DigestUnavailable("SHA-256"))
    );
}

#[test]
fn oidc3_1_3_6_at_hash_is_checked_for_the_384_and_512_algorithms() {
    // The left half of SHA-384 / SHA-512 of the OIDC Core §A.3 access token, computed
    // with Python's hashlib (an independent implementation).
    let access = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
    for (algs, at_hash) in [
        (
            [JwsAlg::Rs384, JwsAlg::Ps384, JwsAlg::Es384],
            "jtAeDp945y1dDqU3nkIVGNZP1HjH_MFs",
        ),
        (
            [JwsAlg::Rs512, JwsAlg::Ps512, JwsAlg::Es512],
            "q7nS86GgvvFaZkzALLWqJYaJIKw2wCDAVfCAsm5CrBM",
        ),
    ] {
        let claims = serde_json::json!({ "at_hash": at_hash });
        let claims = claims.as_object().unwrap();
        for alg in algs {
            assert_eq!(
                check_at_hash(claims, alg, &digest_of(alg, access)),
                Ok(AtHash::Matches),
                "{alg:?}"
            );
            assert_eq!(
                check_at_hash(claims, alg, &digest_of(alg, "another-token")),
                Err(JwtError::AtHashMismatch),
                "{alg:?}"
            );
        }
        // The SHA-256 half does not pass for a 384/512 algorithm.
        let sha256 = serde_json::json!({ "at_hash": "77QmUPtjPfzWtF2AnpK9RQ" });
        assert_eq!(
            check_at_hash(
                sha256.as_object().unwrap(),
                algs[0],
                &digest_of(algs[0], access)
            ),
            Err(JwtError::AtHashMismatch)
        );
    }
}

#[test]
fn rfc7519_4_1_5_nbf_in_the_future_is_refused_beyond_the_skew() {
    assert!(check(with(good_claims(), "nbf", (NOW_S + 30).into())).is_ok());
    assert!(check(with(good_claims(), "nbf", (NOW_S - 3600).into())).is_ok());
    assert_eq!(
        check(with(good_claims(), "nbf", (NOW_S + 3600).into())),
        Err(JwtError::NotYetValid {
            seconds_ahead: 3600
        })
    );
    assert_eq!(
        check(with(good_claims(), "nbf", "soon".into())),
        Err(JwtError::InvalidClaim("nbf"))
    );
}

#[test]
fn oidc12_2_subject_is_compared_raw_not_in_its_display_form() {
    // OIDC Core §2 allows 255 ASCII characters; the display form is cut at 200.
    let long = "s".repeat(255);
    let first = check(with(good_claims(), "sub", long.clone().into())).unwrap();
    let refresh = |expected: &str| ClaimRules {
        nonce: NonceRule::IfPresent(Some("n-0S6_WzA2Mj".into())),
        expected_sub: Some(expected.to_owned()),
        ..rules()
    };
    let again = with(good_claims(), "sub", long.clone().into());
    assert!(check_claims(again.as_object().unwrap(), &refresh(&first.sub)).is_ok());
    // Another user whose raw sub is the first one's escaped form is not the same user.
    let first = check(with(good_claims(), "sub", "a\u{202E}b".into())).unwrap();
    let other = with(good_claims(), "sub", "a\\u{202E}b".into());
    assert_eq!(
        check_claims(other.as_object().unwrap(), &refresh(&first.sub)),
        Err(JwtError::SubjectChanged)
    );
}

#[test]
fn hostile_claim_values_are_sanitized_for_display() {
    let claims = with(good_claims(), "name", "\u{202E}evil".into());
    assert_eq!(
        check(claims).unwrap().name.as_deref(),
        Some("\\u{202E}evil")
    );
    let err = check(with(good_claims(), "iss", "https://x\u{202E}".into())).unwrap_err();
    assert!(err.what_happened().contains("\\u{202E}"));
}
