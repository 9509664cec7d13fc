//! Token endpoint answers (checklist §8.4) and the same answers from a resource server
//! (RFC 6750). Input: a first line `STATUS CONTENT-TYPE` (`-` for none), then the raw body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_flow_lab_fuzz::protocol::error::sanitize_for_display;
use oauth_flow_lab_fuzz::protocol::http::{BodyReader, HttpResponse, Unread, READ_CAP};
use oauth_flow_lab_fuzz::protocol::resource::{parse_resource_response, parse_www_authenticate};
use oauth_flow_lab_fuzz::protocol::token::{
    parse_token_response, MAX_EXPIRES_IN_SECS, MAX_TOKEN_BODY,
};
use oauth_flow_lab_fuzz::{assert_displayable, assert_explained};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let head = String::from_utf8_lossy(&data[..split]);
    let raw_body = data.get(split + 1..).unwrap_or_default();
    let mut words = head.splitn(2, ' ');
    let status = words
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(200);
    let content_type = words.next().filter(|ct| *ct != "-").map(str::to_owned);
    // The bytes go through the back channel's own reader (T-24 cap, T-29 strict UTF-8), in
    // chunks cut where the input says, as the browser's stream would deliver them.
    let mut reader = BodyReader::default();
    let cut = usize::from(data.first().copied().unwrap_or(0)) % (raw_body.len() + 1);
    let pushed = reader
        .push(&raw_body[..cut])
        .and_then(|()| reader.push(&raw_body[cut..]));
    let (body, unread) = match pushed {
        Ok(()) => reader.finish(),
        Err(unread) => (String::new(), Some(unread)),
    };
    // T-29: invalid UTF-8 is never replaced, it is not kept at all; T-24: past the cap, nothing.
    match unread {
        None => assert_eq!(body.as_bytes(), raw_body, "T-29: the body as sent"),
        Some(Unread::NotUtf8) => assert!(std::str::from_utf8(raw_body).is_err(), "T-29"),
        Some(Unread::TooLarge(len)) => assert!(len > READ_CAP && body.is_empty(), "T-24"),
    }
    let response = HttpResponse {
        status,
        content_type: content_type.clone(),
        body,
        www_authenticate: content_type.clone(),
        cache_control: None,
        unread,
        dpop_nonce: None,
    };
    for (scope, openid) in [("read:profile", false), ("openid read:profile", true)] {
        match parse_token_response(&response, scope, openid) {
            Ok(tokens) => {
                assert_eq!(response.status, 200, "T-23: success must be 200");
                assert_eq!(
                    response.unread, None,
                    "T-29: tokens from a body that was not read"
                );
                assert!(response.body.len() <= MAX_TOKEN_BODY, "T-24");
                assert_eq!(tokens.token_type, "Bearer", "T-16");
                let access = tokens.access_token.secret();
                assert!(!access.is_empty(), "T-14");
                assert!(access.bytes().all(|b| (0x20..=0x7E).contains(&b)), "T-14");
                assert!(
                    tokens.expires_in.is_none_or(|s| s <= MAX_EXPIRES_IN_SECS),
                    "T-17"
                );
                assert!(openid || tokens.id_token.is_none(), "T-21");
                // Kept raw for comparisons; what is drawn is its sanitized form.
                assert_displayable(
                    "granted scope",
                    &sanitize_for_display(&tokens.granted_scope, 4096),
                );
                assert_displayable("masked token", &tokens.access_token.masked());
                for deviation in &tokens.deviations {
                    assert_displayable("deviation", &deviation.explain());
                }
            }
            Err(error) => assert_explained(&error),
        }
    }
    match parse_resource_response(&response) {
        Ok(_) => assert_eq!(response.status, 200),
        Err(error) => assert_explained(&error),
    }
    if let Some(header) = &content_type {
        let _ = parse_www_authenticate(header);
    }
});
