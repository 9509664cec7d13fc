//! Raw HTTP: one request over a plain loopback TCP connection, for the control endpoints that
//! must not go through the browser (the provider's fault switches, chromedriver's vendor
//! commands such as CDP).

use super::*;

/// One HTTP/1.1 request over a plain loopback TCP connection, for control endpoints that must not
/// go through the browser (the provider's fault switches are not reachable from the page by
/// design; chromedriver's vendor commands). Returns the status and the body.
pub async fn raw_http(base: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = base.trim_start_matches("http://");
    let authority = authority.split('/').next().unwrap_or(authority);
    let payload = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nAccept: application/json\r\n"
    );
    if body.is_some() {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            payload.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(&payload);
    let mut stream = tokio::time::timeout(WAIT, tokio::net::TcpStream::connect(authority))
        .await
        .unwrap_or_else(|_| panic!("{base} did not accept a connection"))
        .unwrap_or_else(|e| panic!("connect to {base}: {e}"));
    stream
        .write_all(request.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{method} {base}{path}: {e}"));
    // Read until the body is complete (Content-Length, or the last chunk): chromedriver keeps
    // the connection open despite `Connection: close`.
    let read = async {
        let mut raw = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
                let body = &raw[split + 4..];
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok());
                let complete = match length {
                    Some(n) => body.len() >= n,
                    None if head.contains("transfer-encoding: chunked") => {
                        body.ends_with(b"0\r\n\r\n")
                    }
                    None => false,
                };
                if complete {
                    return raw;
                }
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return raw,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
            }
        }
    };
    let raw = tokio::time::timeout(WAIT, read)
        .await
        .unwrap_or_else(|_| panic!("{method} {base}{path}: no answer within {WAIT:?}"));
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = raw.get(split + 4..).unwrap_or_default();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_vec()
    };
    (status, String::from_utf8_lossy(&body).into_owned())
}

pub(crate) fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&rest[..line_end]);
        let size = size.split(';').next().unwrap_or_default().trim().to_owned();
        let Ok(n) = usize::from_str_radix(&size, 16) else {
            break;
        };
        let data = &rest[line_end + 2..];
        if n == 0 || data.len() < n {
            break;
        }
        out.extend_from_slice(&data[..n]);
        rest = data[n..].strip_prefix(b"\r\n").unwrap_or(&data[n..]);
    }
    out
}

impl Lab {
    /// Switches provider faults on (`POST /__lab/faults` on the issuer's host, JSON body, e.g.
    /// `{"token": "html500", "times": 1000}`) and returns the provider's fault state.
    pub async fn set_fault(&self, fault: Value) -> Value {
        let (status, body) = raw_http(&self.issuer, "POST", "/__lab/faults", Some(&fault)).await;
        assert_eq!(status, 200, "the provider refused fault {fault}: {body}");
        serde_json::from_str(&body).expect("the fault state is JSON")
    }

    /// Switches every fault off (and releases requests held by `hang`).
    pub async fn reset_faults(&self) -> Value {
        let (status, body) = raw_http(&self.issuer, "DELETE", "/__lab/faults", None).await;
        assert_eq!(status, 200, "the provider refused the fault reset: {body}");
        serde_json::from_str(&body).expect("the fault state is JSON")
    }

    /// The provider's fault state (`GET /__lab/faults`).
    pub async fn faults(&self) -> Value {
        let (status, body) = raw_http(&self.issuer, "GET", "/__lab/faults", None).await;
        assert_eq!(status, 200, "fault state: {body}");
        serde_json::from_str(&body).expect("the fault state is JSON")
    }

    /// How many `POST /token` the provider received since a token fault was switched on with
    /// `"times": times`: counted by the server, so it includes requests whose answer the page
    /// could not read (CORS, hang), which Resource Timing does not list.
    pub async fn token_posts_since_fault(&self, times: u64) -> u64 {
        let state = self.faults().await;
        match state["token_remaining"].as_u64() {
            Some(left) => times - left,
            None => times, // the fault switched itself off after `times` requests
        }
    }

    pub(crate) async fn session_id(&self) -> String {
        self.client
            .session_id()
            .await
            .ok()
            .flatten()
            .expect("a WebDriver session id")
    }

    /// Runs a Chrome DevTools Protocol command in the current window (chromedriver's
    /// `goog/cdp/execute`) and returns its result.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let path = format!("/session/{}/goog/cdp/execute", self.session_id().await);
        let request = json!({ "cmd": cmd, "params": params });
        let (status, body) = raw_http(&self.driver, "POST", &path, Some(&request)).await;
        assert_eq!(status, 200, "CDP {cmd}: {body}");
        serde_json::from_str::<Value>(&body)
            .map(|v| v["value"].clone())
            .unwrap_or(Value::Null)
    }

    /// Switches faults on at any provider (its issuer, with or without a path).
    pub async fn set_fault_at(&self, issuer: &str, fault: Value) -> Value {
        let (status, body) = raw_http(issuer, "POST", "/__lab/faults", Some(&fault)).await;
        assert_eq!(status, 200, "the provider refused fault {fault}: {body}");
        serde_json::from_str(&body).expect("the fault state is JSON")
    }
}
