//! ID tokens (checklist §8.5: RFC 7515/7519, OIDC Core §3.1.3.7) and the provider's JWKS.
//! Input: a first line with a compact JWT, then the JWKS body (served as a 200 answer).
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_flow_lab_fuzz::protocol::http::HttpResponse;
use oauth_flow_lab_fuzz::protocol::jwt::{
    check_at_hash, check_claims, decode, parse_jwks, select_key, ClaimRules, NonceCheck, NonceRule,
    CLOCK_SKEW_SECS, MIN_RSA_BITS,
};
use oauth_flow_lab_fuzz::{assert_displayable, assert_explained};
use sha2::Digest as _;

const ISSUER: &str = "https://as.example";
const CLIENT: &str = "flow-lab";
const NOW_MS: u64 = 1_764_000_000_000;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (token, body) = text.split_once('\n').unwrap_or((&text, ""));

    let jwks = match parse_jwks(&HttpResponse::json(200, body)) {
        Ok(jwks) => {
            for kid in jwks.kids() {
                assert_displayable("kid", &kid);
            }
            Some(jwks)
        }
        Err(error) => {
            assert_explained(&error);
            None
        }
    };

    let decoded = match decode(token) {
        Ok(decoded) => decoded,
        Err(error) => return assert_explained(&error),
    };
    let _ = (decoded.header_json(), decoded.claims_json());
    let alg = match decoded.algorithm() {
        Ok(alg) => alg,
        Err(error) => return assert_explained(&error),
    };
    if let Some(jwks) = &jwks {
        match select_key(jwks, alg, decoded.kid()) {
            Ok(key) => {
                // Only the public members reach WebCrypto, with the token's own key type.
                let jwk: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&key.jwk_json).expect("the selected JWK is JSON");
                let names: Vec<&str> = jwk.keys().map(String::as_str).collect();
                if alg.key_type() == "RSA" {
                    assert_eq!(names, ["e", "kty", "n"]);
                    assert!(key.rsa_bits >= MIN_RSA_BITS, "weak RSA key selected");
                } else {
                    assert_eq!(names, ["crv", "kty", "x", "y"]);
                }
                assert_eq!(jwk["kty"], alg.key_type());
            }
            Err(error) => assert_explained(&error),
        }
    }

    let rules = ClaimRules {
        issuer: ISSUER.to_owned(),
        client_id: CLIENT.to_owned(),
        nonce: NonceRule::Expected("n-0S6_WzA2Mj".to_owned()),
        expected_sub: None,
        now_ms: NOW_MS,
    };
    match check_claims(&decoded.claims, &rules) {
        Ok(claims) => {
            assert_eq!(claims.iss, ISSUER, "iss exact");
            assert!(
                claims.aud.iter().any(|a| a == CLIENT),
                "aud holds the client"
            );
            assert!(NOW_MS / 1000 < claims.exp + CLOCK_SKEW_SECS, "not expired");
            assert!(
                claims.iat <= NOW_MS / 1000 + CLOCK_SKEW_SECS,
                "not issued in the future"
            );
            assert_eq!(claims.nonce, NonceCheck::Matches, "nonce compared");
        }
        Err(error) => assert_explained(&error),
    }
    // The app takes the digest from WebCrypto; here sha2 stands in with the same SHA-2 sizes.
    let token = "an-access-token";
    let digest = match alg.hash_bits() {
        256 => sha2::Sha256::digest(token).to_vec(),
        384 => sha2::Sha384::digest(token).to_vec(),
        _ => sha2::Sha512::digest(token).to_vec(),
    };
    if let Err(error) = check_at_hash(&decoded.claims, alg, &digest) {
        assert_explained(&error);
    }
});
