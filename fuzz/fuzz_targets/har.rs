//! HAR import (issue 16): a HAR file is untrusted input from a stranger. Input: the file's text.
//! Parsing never panics, refuses with an explained message, and every accessor the import uses
//! (times, statuses, headers, form bodies, base64 bodies, the callback parser on each URL)
//! copes with whatever the entries hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_flow_lab_fuzz::assert_displayable;
use oauth_flow_lab_fuzz::protocol::callback::parse_callback;
use oauth_flow_lab_fuzz::protocol::har::{header, parse_har, MAX_ENTRIES};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let har = match parse_har(&text) {
        Ok(har) => har,
        Err(error) => return assert_displayable("HAR error", &error.to_string()),
    };
    assert!(har.log.entries.len() <= MAX_ENTRIES);
    for entry in &har.log.entries {
        let _ = entry.started_ms();
        assert!(entry.duration_ms() >= 0.0);
        let _ = entry.status();
        let _ = entry.request.form();
        let _ = entry.request.body_text();
        let _ = entry.response.body_text();
        let _ = header(&entry.request.headers, "authorization");
        let url = &entry.request.url;
        let (rest, fragment) = url.split_once('#').unwrap_or((url, ""));
        let query = rest.split_once('?').map_or("", |(_, q)| q);
        let _ = parse_callback(query, fragment);
    }
});
