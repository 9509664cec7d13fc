use super::*;
use crate::protocol::http::HttpResponse;

/// RFC 7638 §3.1's RSA key (the RFC 7517 Appendix A.1 example key).
const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

/// A P-256 public key as WebCrypto exports it (with its `ext` and `key_ops` members).
const EC_JWK: &str = r#"{"crv":"P-256","ext":true,"key_ops":["verify"],"kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;

fn ec_key() -> PublicJwk {
    PublicJwk::from_json(EC_JWK).unwrap()
}

fn decode_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn proof_for(request: ProofRequest<'_>) -> UnsignedProof {
    unsigned_proof(
        &ec_key(),
        DpopAlg::Es256,
        &request,
        1_700_000_000,
        &[7u8; 16],
    )
    .unwrap()
}

#[test]
fn r7638_3_1_rsa_thumbprint_test_vector() {
    let json =
        format!(r#"{{"kty":"RSA","n":"{RFC7638_N}","e":"AQAB","alg":"RS256","kid":"2011-04-29"}}"#);
    let key = PublicJwk::from_json(&json).unwrap();
    assert_eq!(
        key.canonical_json(),
        format!(r#"{{"e":"AQAB","kty":"RSA","n":"{RFC7638_N}"}}"#)
    );
    assert_eq!(
        key.thumbprint(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

/// RFC 8037 §A.2's Ed25519 public key.
const RFC8037_JWK: &str =
    r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;

#[test]
fn r8037_a_3_ed25519_thumbprint_test_vector() {
    let key = PublicJwk::from_json(RFC8037_JWK).unwrap();
    assert_eq!(
        key.canonical_json(),
        r#"{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
    );
    assert_eq!(
        key.thumbprint(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
    // A private OKP key is refused for the header.
    let private = RFC8037_JWK.replace(
        "\"kty\"",
        "\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\",\"kty\"",
    );
    assert_eq!(
        PublicJwk::from_json(&private).unwrap_err(),
        DpopError::KeyHasPrivateMember("d")
    );
}

#[test]
fn r9449_4_2_header_alg_and_jwk_per_key_type() {
    let request = ProofRequest {
        method: "POST",
        url: "https://as.example/token",
        access_token: None,
        nonce: None,
    };
    let rsa = PublicJwk::from_json(&format!(
        r#"{{"kty":"RSA","n":"{RFC7638_N}","e":"AQAB","alg":"PS256","ext":true}}"#
    ))
    .unwrap();
    let okp = PublicJwk::from_json(RFC8037_JWK).unwrap();
    for (key, alg, members, sig_len) in [
        (&ec_key(), DpopAlg::Es256, &["crv", "kty", "x", "y"][..], 64),
        (&rsa, DpopAlg::Rs256, &["e", "kty", "n"][..], 256),
        (&rsa, DpopAlg::Ps256, &["e", "kty", "n"][..], 256),
        (&okp, DpopAlg::EdDsa, &["crv", "kty", "x"][..], 64),
        (&okp, DpopAlg::Ed25519, &["crv", "kty", "x"][..], 64),
    ] {
        let proof = unsigned_proof(key, alg, &request, 1, &[3u8; 16]).unwrap();
        let header = decode_part(proof.signing_input().split('.').next().unwrap());
        assert_eq!(header["alg"], alg.name());
        let jwk = header["jwk"].as_object().unwrap();
        assert_eq!(jwk.keys().map(String::as_str).collect::<Vec<_>>(), members);
        assert_eq!(
            proof.clone().finish(&vec![1u8; sig_len + 1]).unwrap_err(),
            DpopError::SignatureLength {
                expected: sig_len,
                got: sig_len + 1
            },
            "{alg:?}"
        );
        assert!(proof.finish(&vec![1u8; sig_len]).is_ok());
    }
    assert_eq!(
        unsigned_proof(&okp, DpopAlg::Es256, &request, 1, &[0; 16]).unwrap_err(),
        DpopError::KeyDoesNotFitAlg { alg: "ES256" }
    );
    assert_eq!(
        unsigned_proof(&rsa, DpopAlg::Ed25519, &request, 1, &[0; 16]).unwrap_err(),
        DpopError::KeyDoesNotFitAlg { alg: "Ed25519" }
    );
}

#[test]
fn r9449_5_1_alg_is_what_server_challenge_and_browser_allow_es256_first() {
    let list = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    let bundled = list(&["ES256", "ES384", "PS256", "RS256", "Ed25519", "EdDSA"]);
    let all = allowed_algs(&bundled, None, None);
    assert_eq!(all, DpopAlg::ALL.to_vec());
    assert_eq!(choose_alg(&all, None), DpopAlg::Es256);
    assert_eq!(choose_alg(&all, Some(DpopAlg::Ps256)), DpopAlg::Ps256);
    // A pick the server does not list is not used.
    let rsa_only = allowed_algs(&list(&["RS256"]), None, None);
    assert_eq!(choose_alg(&rsa_only, Some(DpopAlg::Es256)), DpopAlg::Rs256);
    // RFC 9864's name when the provider lists only that one.
    let ed = allowed_algs(&list(&["Ed25519"]), None, None);
    assert_eq!(choose_alg(&ed, None), DpopAlg::Ed25519);
    // The API's algs hint and the browser's probe narrow the list.
    let hint = list(&["PS256", "EdDSA"]);
    assert_eq!(
        allowed_algs(
            &bundled,
            Some(&hint),
            Some(&[DpopAlg::Es256, DpopAlg::Ps256])
        ),
        vec![DpopAlg::Ps256]
    );
    // Nothing in common (or no metadata): the pick, else ES256; the server's answer then
    // says what it wants.
    assert_eq!(
        choose_alg(&allowed_algs(&list(&["ES384"]), None, None), None),
        DpopAlg::Es256
    );
    assert_eq!(choose_alg(&[], Some(DpopAlg::Rs256)), DpopAlg::Rs256);
    assert_eq!(DpopAlg::parse("EdDSA"), Some(DpopAlg::EdDsa));
    assert_eq!(DpopAlg::parse("es256"), None);
    assert!(DpopAlg::EdDsa.same_key(DpopAlg::Ed25519));
    assert!(!DpopAlg::Rs256.same_key(DpopAlg::Ps256));
    assert!(DpopAlg::Ps256
        .sign_params_json()
        .contains(r#""saltLength":32"#));
}

#[test]
fn r7638_3_2_ec_thumbprint_uses_only_required_members_in_order() {
    let key = ec_key();
    assert_eq!(
        key.canonical_json(),
        r#"{"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#
    );
    // The same key with other optional members has the same thumbprint.
    let decorated = EC_JWK.replace("\"ext\":true", "\"kid\":\"k1\",\"use\":\"sig\"");
    assert_eq!(
        PublicJwk::from_json(&decorated).unwrap().thumbprint(),
        key.thumbprint()
    );
    assert_eq!(key.thumbprint().len(), 43);
}

#[test]
fn r9449_4_2_header_has_typ_alg_and_public_jwk_only() {
    let proof = proof_for(ProofRequest {
        method: "POST",
        url: "https://as.example/token",
        access_token: None,
        nonce: None,
    });
    let (header, _) = proof.signing_input().split_once('.').unwrap();
    let header = decode_part(header);
    assert_eq!(header["typ"], "dpop+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(
        header["jwk"],
        serde_json::json!({"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})
    );
    assert_eq!(header.as_object().unwrap().len(), 3);
}

#[test]
fn r9449_4_2_private_keys_never_go_into_a_header() {
    for private in ["d", "k", "p"] {
        let json = EC_JWK.replace("\"ext\":true", &format!("\"{private}\":\"AAAA\""));
        assert_eq!(
            PublicJwk::from_json(&json).unwrap_err(),
            DpopError::KeyHasPrivateMember(match private {
                "d" => "d",
                "k" => "k",
                _ => "p",
            })
        );
    }
    assert_eq!(
        PublicJwk::from_json(r#"{"kty":"oct"}"#).unwrap_err(),
        DpopError::UnsupportedKeyType("oct".into())
    );
    assert_eq!(
        PublicJwk::from_json(r#"{"kty":"EC","crv":"P-256","x":"a+b","y":"AA"}"#).unwrap_err(),
        DpopError::KeyMemberMissing("x")
    );
    assert_eq!(
        PublicJwk::from_json("[1]").unwrap_err(),
        DpopError::KeyNotJson
    );
}

#[test]
fn r9449_4_2_token_request_claims() {
    let proof = proof_for(ProofRequest {
        method: "POST",
        url: "https://as.example/token",
        access_token: None,
        nonce: None,
    });
    let (_, claims) = proof.signing_input().split_once('.').unwrap();
    let claims = decode_part(claims);
    assert_eq!(
        claims,
        serde_json::json!({
            "jti": URL_SAFE_NO_PAD.encode([7u8; 16]),
            "htm": "POST",
            "htu": "https://as.example/token",
            "iat": 1_700_000_000u64,
        })
    );
    assert_eq!(proof.claims().htm, "POST");
}

#[test]
fn r9449_4_2_jti_is_fresh_entropy_of_at_least_128_bits() {
    let request = ProofRequest {
        method: "GET",
        url: "https://rs.example/api",
        access_token: None,
        nonce: None,
    };
    let a = unsigned_proof(&ec_key(), DpopAlg::Es256, &request, 1, &[1u8; 16]).unwrap();
    let b = unsigned_proof(&ec_key(), DpopAlg::Es256, &request, 1, &[2u8; 16]).unwrap();
    assert_ne!(a.claims().jti, b.claims().jti);
    assert_eq!(
        unsigned_proof(&ec_key(), DpopAlg::Es256, &request, 1, &[1u8; 15]).unwrap_err(),
        DpopError::TooLittleEntropy { got: 15 }
    );
}

#[test]
fn r9449_4_2_ath_is_base64url_sha256_of_the_access_token() {
    // SHA-256("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU") from RFC 9449 §7.1's example.
    let token = AccessToken::new("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU".into());
    assert_eq!(ath(&token), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
    let proof = proof_for(ProofRequest {
        method: "GET",
        url: "https://resource.example.org/protectedresource",
        access_token: Some(&token),
        nonce: None,
    });
    assert_eq!(
        proof.claims().ath.as_deref(),
        Some("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo")
    );
    assert_eq!(
        dpop_authorization(&token),
        format!("DPoP {}", token.secret())
    );
}

#[test]
fn r9449_4_2_htu_has_no_query_and_no_fragment() {
    assert_eq!(
        normalize_htu("https://rs.example/api/profile?x=1&access_token=no#frag").unwrap(),
        "https://rs.example/api/profile"
    );
    assert_eq!(
        normalize_htu("https://rs.example/api#only-fragment").unwrap(),
        "https://rs.example/api"
    );
}

#[test]
fn r9449_4_3_htu_scheme_host_case_and_default_port_are_normalised() {
    assert_eq!(
        normalize_htu("HTTPS://AS.Example:443/Token").unwrap(),
        "https://as.example/Token"
    );
    assert_eq!(
        normalize_htu("http://127.0.0.1:80").unwrap(),
        "http://127.0.0.1/"
    );
    assert_eq!(
        normalize_htu("http://127.0.0.1:9000/token").unwrap(),
        "http://127.0.0.1:9000/token"
    );
    assert_eq!(
        normalize_htu("https://[::1]:8443/a/%7e").unwrap(),
        "https://[::1]:8443/a/%7e"
    );
    assert!(matches!(
        normalize_htu("ftp://as.example/token"),
        Err(DpopError::InvalidHtu(UriError::ForbiddenScheme(_)))
    ));
    assert!(normalize_htu("https://user@as.example/").is_err());
}

#[test]
fn r9449_8_nonce_goes_into_the_claims() {
    let nonce = DpopNonce::parse("eyJ7S_zG.eyJH0-Z.HX4w-7v").unwrap();
    let proof = proof_for(ProofRequest {
        method: "POST",
        url: "https://as.example/token",
        access_token: None,
        nonce: Some(&nonce),
    });
    assert_eq!(
        proof.claims().nonce.as_deref(),
        Some("eyJ7S_zG.eyJH0-Z.HX4w-7v")
    );
    for bad in ["", "a b", "a\"b", "a\\b", "é", "\n"] {
        assert!(DpopNonce::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn r9449_4_2_method_and_key_are_checked() {
    let request = ProofRequest {
        method: "PO ST",
        url: "https://as.example/token",
        access_token: None,
        nonce: None,
    };
    assert!(matches!(
        unsigned_proof(&ec_key(), DpopAlg::Es256, &request, 1, &[0; 16]),
        Err(DpopError::InvalidMethod(_))
    ));
    let request = ProofRequest {
        method: "POST",
        ..request
    };
    assert_eq!(
        unsigned_proof(&ec_key(), DpopAlg::EdDsa, &request, 1, &[0; 16]).unwrap_err(),
        DpopError::KeyDoesNotFitAlg { alg: "EdDSA" }
    );
    assert_eq!(
        unsigned_proof(&ec_key(), DpopAlg::Rs256, &request, 1, &[0; 16]).unwrap_err(),
        DpopError::KeyDoesNotFitAlg { alg: "RS256" }
    );
}

#[test]
fn r7518_3_4_es256_signature_is_64_bytes_raw_and_is_appended() {
    let proof = proof_for(ProofRequest {
        method: "POST",
        url: "https://as.example/token",
        access_token: None,
        nonce: None,
    });
    let input = proof.signing_input().to_owned();
    // A DER-encoded signature (70-72 bytes) is not a JWS signature.
    assert_eq!(
        proof.clone().finish(&[0x30; 71]).unwrap_err(),
        DpopError::SignatureLength {
            expected: 64,
            got: 71
        }
    );
    let signed = proof.finish(&[0xAB; 64]).unwrap();
    assert_eq!(
        signed.header_value(),
        format!("{input}.{}", URL_SAFE_NO_PAD.encode([0xAB; 64]))
    );
    assert_eq!(signed.masked(), format!("{input}.[signature hidden]"));
}

#[test]
fn inspector_decodes_the_masked_proof_header_and_claims_only() {
    let proof = proof_for(ProofRequest {
        method: "POST",
        url: "https://as.example/token?x=1",
        access_token: None,
        nonce: None,
    });
    let masked = proof.finish(&[0xAB; 64]).unwrap().masked();
    let (header, claims) = decode_masked(&masked).unwrap();
    assert!(header.contains("\"typ\": \"dpop+jwt\""), "{header}");
    assert!(
        claims.contains("\"htu\": \"https://as.example/token\""),
        "{claims}"
    );
    assert!(decode_masked("not a proof").is_none());
    let example = PublicJwk::from_json(RFC9449_EXAMPLE_JWK).unwrap();
    assert!(example.fits(DpopAlg::Es256));
}

#[test]
fn x08_proof_signature_is_redacted_in_debug() {
    let signed = proof_for(ProofRequest {
        method: "POST",
        url: "https://as.example/token",
        access_token: None,
        nonce: None,
    })
    .finish(&[0xAB; 64])
    .unwrap();
    let signature = URL_SAFE_NO_PAD.encode([0xAB; 64]);
    let debug = format!("{signed:?}");
    assert!(!debug.contains(&signature), "{debug}");
    assert!(debug.contains("[redacted]"));
    assert!(!signed.masked().contains(&signature));
    // The access token behind `ath` stays redacted too.
    let token = AccessToken::new("SECRET-ACCESS-TOKEN".into());
    let request = ProofRequest {
        method: "GET",
        url: "https://rs.example/",
        access_token: Some(&token),
        nonce: None,
    };
    assert!(!format!("{request:?}").contains("SECRET-ACCESS-TOKEN"));
}

fn token_error(body: &str) -> HttpResponse {
    HttpResponse::json(400, body)
}

fn api_401(www: &str) -> HttpResponse {
    HttpResponse {
        status: 401,
        www_authenticate: Some(www.into()),
        ..HttpResponse::default()
    }
}

#[test]
fn r9449_8_token_endpoint_use_dpop_nonce_is_a_400_with_the_nonce_header() {
    let response = token_error(
        r#"{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}"#,
    );
    assert_eq!(
        nonce_demand(
            DpopServer::Token,
            &response,
            Some("eyJ7S_zG.eyJH0-Z.HX4w-7v")
        ),
        Ok(NonceDemand::Asked(
            DpopNonce::parse("eyJ7S_zG.eyJH0-Z.HX4w-7v").unwrap()
        ))
    );
    assert_eq!(
        nonce_demand(DpopServer::Token, &response, None),
        Err(DpopError::NonceMissing)
    );
    // Other errors, and a nonce header on a success, are not a demand.
    assert_eq!(
        nonce_demand(
            DpopServer::Token,
            &token_error(r#"{"error":"invalid_grant"}"#),
            Some("n")
        ),
        Ok(NonceDemand::NotAsked)
    );
    assert_eq!(
        nonce_demand(
            DpopServer::Token,
            &HttpResponse::json(200, r#"{"error":"use_dpop_nonce"}"#),
            Some("n")
        ),
        Ok(NonceDemand::NotAsked)
    );
}

#[test]
fn r9449_9_resource_use_dpop_nonce_is_a_401_dpop_challenge() {
    let response = api_401(
        r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#,
    );
    assert_eq!(
        nonce_demand(DpopServer::Resource, &response, Some("abc")),
        Ok(NonceDemand::Asked(DpopNonce::parse("abc").unwrap()))
    );
    // The same error code in a Bearer challenge is not DPoP's.
    let bearer = api_401(r#"Bearer error="use_dpop_nonce""#);
    assert_eq!(
        nonce_demand(DpopServer::Resource, &bearer, Some("abc")),
        Ok(NonceDemand::NotAsked)
    );
    assert!(matches!(
        nonce_demand(DpopServer::Resource, &response, Some("bad nonce")),
        Err(DpopError::NonceMalformed(_))
    ));
}

#[test]
fn r9449_8_nonce_retry_happens_exactly_once() {
    let nonce = DpopNonce::parse("n1").unwrap();
    let step = NonceRetry::FirstTry.on_answer(Ok(NonceDemand::Asked(nonce.clone())));
    assert_eq!(
        step,
        NonceStep::Retry {
            nonce,
            next: NonceRetry::Retried
        }
    );
    // The retry's answer asks again: failure with a clear message, no third request.
    let again =
        NonceRetry::Retried.on_answer(Ok(NonceDemand::Asked(DpopNonce::parse("n2").unwrap())));
    assert_eq!(again, NonceStep::Fail(DpopError::NonceRefusedTwice));
    assert!(DpopError::NonceRefusedTwice
        .what_happened()
        .contains("asked for a DPoP nonce again"));
    // Any other answer is final, on the first try and on the retry.
    assert_eq!(
        NonceRetry::FirstTry.on_answer(Ok(NonceDemand::NotAsked)),
        NonceStep::Final
    );
    assert_eq!(
        NonceRetry::Retried.on_answer(Ok(NonceDemand::NotAsked)),
        NonceStep::Final
    );
    // A demand without a nonce cannot be retried.
    assert_eq!(
        NonceRetry::FirstTry.on_answer(Err(DpopError::NonceMissing)),
        NonceStep::Fail(DpopError::NonceMissing)
    );
}

#[test]
fn r9449_8_2_a_fresh_nonce_on_success_is_kept_for_the_next_proof() {
    assert_eq!(next_nonce(Some(" n-2 ")), DpopNonce::parse("n-2").ok());
    assert_eq!(next_nonce(Some("a b")), None);
    assert_eq!(next_nonce(None), None);
}

#[test]
fn r9449_7_1_dpop_challenge_algs_and_error() {
    let challenge = parse_dpop_challenge(
        r#"Bearer realm="flow-lab-api", DPoP realm="flow-lab-api", error="invalid_dpop_proof", error_description="DPoP proof htu mismatch", algs="ES256 PS256""#,
    )
    .unwrap();
    assert_eq!(
        challenge,
        DpopChallenge {
            error: Some("invalid_dpop_proof".into()),
            error_description: Some("DPoP proof htu mismatch".into()),
            algs: vec!["ES256".into(), "PS256".into()],
        }
    );
    assert_eq!(
        parse_dpop_challenge(r#"dpop algs="ES256""#).unwrap().algs,
        vec!["ES256".to_owned()]
    );
    assert_eq!(
        parse_dpop_challenge("DPoP").unwrap(),
        DpopChallenge::default()
    );
    assert_eq!(
        parse_dpop_challenge(r#"Bearer error="invalid_token""#),
        None
    );
    assert_eq!(parse_dpop_challenge(""), None);
    // The Bearer reading of the same header is unchanged.
    assert_eq!(
        crate::protocol::resource::parse_www_authenticate(
            r#"Bearer realm="r", DPoP error="invalid_token""#
        ),
        vec![("realm".to_owned(), "r".to_owned())]
    );
}

#[test]
fn r9449_5_token_type_dpop_only_when_a_proof_was_sent() {
    assert_eq!(accept_token_type("DPoP", true), Ok(TokenBinding::Dpop));
    assert_eq!(accept_token_type("dpop", true), Ok(TokenBinding::Dpop));
    assert_eq!(
        accept_token_type("DPoP", false),
        Err(DpopError::DpopTokenWithoutProof)
    );
    assert_eq!(
        accept_token_type("Bearer", false),
        Ok(TokenBinding::Bearer {
            proof_ignored: false
        })
    );
    let ignored = accept_token_type("bearer", true).unwrap();
    assert_eq!(
        ignored,
        TokenBinding::Bearer {
            proof_ignored: true
        }
    );
    assert!(ignored.note().unwrap().contains("Bearer token"));
    assert_eq!(
        accept_token_type("mac", true),
        Err(DpopError::UnsupportedTokenType("mac".into()))
    );
    let token = AccessToken::new("t".into());
    assert_eq!(TokenBinding::Dpop.authorization(&token), "DPoP t");
    assert_eq!(ignored.authorization(&token), "Bearer t");
}

#[test]
fn r9449_6_cnf_jkt_is_read_from_claims() {
    let claims: Map<String, Value> = serde_json::from_str(
        r#"{"active":true,"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}"#,
    )
    .unwrap();
    assert_eq!(
        cnf_jkt(&claims),
        Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")
    );
    let unbound: Map<String, Value> = serde_json::from_str(r#"{"active":true}"#).unwrap();
    assert_eq!(cnf_jkt(&unbound), None);
}

// proptest is a host-only dev-dependency (Cargo.toml).
#[cfg(not(target_arch = "wasm32"))]
proptest::proptest! {
    /// No panic on any input, and the rules hold for whatever a server sends: a nonce that
    /// parses is printable ASCII without `"` and `\\`; an `htu` that builds has no query
    /// or fragment.
    #[test]
    fn r9449_parsers_take_any_input(
        input in "[ -~\\t\\né\\u{202E}]{0,80}",
        status in proptest::sample::select(vec![200u16, 400, 401, 403]),
    ) {
        if let Ok(nonce) = DpopNonce::parse(&input) {
            proptest::prop_assert!(nonce
                .as_str()
                .bytes()
                .all(|b| (0x21..=0x7E).contains(&b) && b != b'"' && b != b'\\'));
        }
        if let Ok(htu) = normalize_htu(&input) {
            proptest::prop_assert!(!htu.contains('?') && !htu.contains('#'));
        }
        let _ = parse_dpop_challenge(&input);
        let _ = PublicJwk::from_json(&input);
        let response = HttpResponse {
            status,
            body: input.clone(),
            www_authenticate: Some(input.clone()),
            ..HttpResponse::default()
        };
        for server in [DpopServer::Token, DpopServer::Resource] {
            let _ = nonce_demand(server, &response, Some(&input));
        }
    }
}

#[test]
fn dpop_errors_say_what_to_do() {
    for error in [
        DpopError::KeyNotJson,
        DpopError::NonceMissing,
        DpopError::NonceRefusedTwice,
        DpopError::DpopTokenWithoutProof,
        DpopError::InvalidHtu(UriError::FragmentNotAllowed),
    ] {
        assert!(!error.what_happened().is_empty());
        assert!(!error.what_to_do().is_empty());
    }
}
