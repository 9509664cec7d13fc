//! Shared end-to-end harness: the trunk-built app in headless Chromium against the bundled
//! provider, each test with its own provider, app server and chromedriver on free loopback ports.
//! Needs `trunk build --release --dist target/e2e-dist` first (scripts/test does it).
#![allow(dead_code)] // each test file uses its own subset

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(20);

/// A child process killed when the test ends, pass or fail.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + WAIT;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One isolated world: provider + API + app server + chromedriver + a browser session.
pub struct Lab {
    pub client: Client,
    pub app: String,
    pub issuer: String,
    pub api: String,
    /// chromedriver's base URL, for its vendor endpoints (CDP, the browser log).
    pub driver: String,
    _services: Vec<Service>,
}

impl Lab {
    pub async fn start() -> Lab {
        Self::start_with_network_log(false).await
    }

    /// [`Lab::start`], and with `network` Chromium's network events (CDP `Network.*`) kept in
    /// chromedriver's "performance" log, to record a HAR of a real login (tests/har_import.rs).
    pub async fn start_with_network_log(network: bool) -> Lab {
        let dist = std::env::var("E2E_DIST")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root().join("target/e2e-dist"));
        assert!(
            dist.join("index.html").exists(),
            "no built app in {}: run `trunk build --release --dist target/e2e-dist` (scripts/test does)",
            dist.display()
        );
        let (issuer_port, api_port, app_port, driver_port) =
            (free_port(), free_port(), free_port(), free_port());
        let app = format!("http://127.0.0.1:{app_port}");
        let quiet = || Stdio::null();
        let provider = Command::new(root().join("provider/run"))
            .env("LAB_ISSUER_PORT", issuer_port.to_string())
            .env("LAB_API_PORT", api_port.to_string())
            .env("LAB_APP_ORIGINS", &app)
            .stdout(quiet())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("provider/run starts");
        let static_server = Command::new("node")
            .arg(root().join("provider/static.mjs"))
            .arg(&dist)
            .arg(app_port.to_string())
            .env("LAB_CSP", header_csp(&dist))
            .stdout(quiet())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node provider/static.mjs starts");
        let driver = Command::new("chromedriver")
            .arg(format!("--port={driver_port}"))
            .stdout(quiet())
            .stderr(quiet())
            .spawn()
            .expect("chromedriver starts (scripts/setup --with-browser installs it)");
        let services = vec![Service(provider), Service(static_server), Service(driver)];
        wait_for_port(issuer_port, "provider");
        wait_for_port(api_port, "resource API");
        wait_for_port(app_port, "app server");
        wait_for_port(driver_port, "chromedriver");
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--no-first-run",
                         "--window-size=1280,900"]
            },
            "goog:loggingPrefs": { "browser": "ALL" }
        });
        let mut capabilities = capabilities;
        if network {
            capabilities["goog:loggingPrefs"]["performance"] = json!("ALL");
            capabilities["goog:chromeOptions"]["perfLoggingPrefs"] =
                json!({ "enableNetwork": true, "enablePage": false });
        }
        let client = ClientBuilder::native()
            .capabilities(capabilities.as_object().cloned().unwrap_or_default())
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
            .expect("a Chromium session");
        let lab = Lab {
            client,
            app: format!("{app}/"),
            issuer: format!("http://127.0.0.1:{issuer_port}"),
            api: format!("http://127.0.0.1:{api_port}"),
            driver: format!("http://127.0.0.1:{driver_port}"),
            _services: services,
        };
        lab.configure("openid profile read:profile read:files")
            .await;
        lab
    }

    /// Saves settings pointing at this test's provider, as the settings form would.
    pub async fn configure(&self, scope: &str) {
        self.client.goto(&self.app).await.expect("app loads");
        let settings = json!({
            "issuer": self.issuer, "client_id": "flow-lab", "scope": scope, "api_base": self.api
        })
        .to_string();
        self.js(
            "localStorage.setItem('oauth-flow-lab.settings', arguments[0]);",
            vec![json!(settings)],
        )
        .await;
        self.client.goto(&self.app).await.expect("app reloads");
        self.wait_css("#login").await;
    }

    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .expect("script runs")
    }

    /// Waits for an element. Every error is retried until [`WAIT`] runs out, not only "no such
    /// element": chromedriver answers "aborted by navigation" when a find races a page load
    /// (e.g. the app leaving for the provider), which is not a test failure.
    pub async fn wait_css(&self, css: &str) -> fantoccini::elements::Element {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.client.find(Locator::Css(css)).await {
                Ok(element) => return element,
                Err(e) if Instant::now() >= deadline => panic!("waited for {css}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Clicks an element. A click that starts a navigation may be answered "aborted by
    /// navigation": the click happened, so that is not an error.
    pub async fn click(&self, css: &str) {
        if let Err(e) = self.wait_css(css).await.click().await {
            assert!(
                e.to_string().contains("aborted by navigation"),
                "click on {css}: {e}"
            );
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait_css(css).await.text().await.expect("text")
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    pub async fn url(&self) -> String {
        self.client.current_url().await.expect("url").to_string()
    }

    /// Presses Log in and signs in at the provider's real login page.
    pub async fn sign_in(&self, user: &str, password: &str) {
        self.click("#login").await;
        let login = self.wait_css("input[name=login]").await;
        login.send_keys(user).await.expect("type user");
        self.wait_css("input[name=password]")
            .await
            .send_keys(password)
            .await
            .expect("type password");
        self.click("#sign-in").await;
    }

    /// Waits until the page's `data-phase` is one of `phases`.
    pub async fn wait_phase(&self, phases: &[&str]) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            // A script that races a page load fails; that is "not there yet", not an error.
            let phase = self
                .try_js(
                    "const m = document.querySelector('#lab'); return m ? m.dataset.phase : '';",
                )
                .await
                .unwrap_or_default();
            let phase = phase.as_str().unwrap_or_default().to_owned();
            if phases.contains(&phase.as_str()) {
                return phase;
            }
            assert!(
                Instant::now() < deadline,
                "phase stayed {phase}, wanted {phases:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// How many requests this page made to the token endpoint (Resource Timing).
    pub async fn token_requests(&self) -> u64 {
        self.js(
            "return performance.getEntriesByType('resource')\
               .filter(e => e.name === arguments[0]).length;",
            vec![json!(format!("{}/token", self.issuer))],
        )
        .await
        .as_u64()
        .unwrap_or(u64::MAX)
    }

    pub async fn session_storage(&self) -> String {
        self.js(
            "return JSON.stringify(Object.assign({}, sessionStorage));",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    pub async fn screenshot(&self, name: &str) {
        let dir = root().join("target/e2e-screenshots");
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
    }

    pub async fn finish(self) {
        let _ = self.client.close().await;
    }

    /// The URL this page was loaded from (for a callback: the one the provider sent it to).
    pub async fn landed_url(&self) -> String {
        self.js(
            "return performance.getEntriesByType('navigation')[0].name;",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Logs in as alice and returns the callback URL the browser landed on.
    pub async fn log_in_as_alice(&self) -> String {
        self.sign_in("alice", "wonderland").await;
        self.click("#allow").await;
        self.wait_phase(&["logged-in", "failed"]).await;
        self.landed_url().await
    }
}

// ---- Hostile input and provider faults (checklist rows D, C, T, X, S): the page's CSP, the
// ---- provider's fault switches, chromedriver's vendor endpoints and the storage audit.

/// sessionStorage key (on each origin) where [`Lab::watch_csp_violations`] records violations.
/// Test-only; the storage audit ignores keys starting with `e2e.`.
pub const CSP_LOG_KEY: &str = "e2e.csp-violations";

/// Registered through CDP, so it runs in every new document before any of the page's scripts and
/// is not itself subject to the page's CSP.
const CSP_WATCHER: &str = r#"
document.addEventListener('securitypolicyviolation', (e) => {
  const entry = `${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} in ${location.origin} `
    + `at ${e.sourceFile || '?'}:${e.lineNumber} sample=${JSON.stringify(e.sample || '')}`;
  try {
    const list = JSON.parse(sessionStorage.getItem('e2e.csp-violations') || '[]');
    list.push(entry);
    sessionStorage.setItem('e2e.csp-violations', JSON.stringify(list));
  } catch (_) { /* storage refused: the console line below still reports it */ }
  console.error('e2e CSP violation: ' + entry);
}, true);
"#;

/// The page's Content-Security-Policy as index.html's `<meta http-equiv>` states it, read from
/// `dir`'s index.html: the source, or a build (which may be minified: unquoted attributes, any
/// order) (checklist X-10).
pub fn page_csp(dir: &Path) -> String {
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html is readable");
    html.split('<')
        .filter_map(|tag| tag.strip_prefix("meta"))
        .map(|tag| html_attributes(&tag[..tag.find('>').unwrap_or(tag.len())]))
        .find(|attrs| {
            attrs.iter().any(|(name, value)| {
                name.eq_ignore_ascii_case("http-equiv")
                    && value.eq_ignore_ascii_case("content-security-policy")
            })
        })
        .and_then(|attrs| {
            attrs
                .into_iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("content"))
        })
        .map(|(_, policy)| policy.trim().trim_end_matches(';').to_owned())
        .expect("index.html has a Content-Security-Policy meta tag with content (checklist X-10)")
}

/// The attributes of one HTML start tag (without `<name` and `>`): `name`, `name=value`,
/// `name="value"`, `name='value'`.
fn html_attributes(tag: &str) -> Vec<(String, String)> {
    let mut attrs = Vec::new();
    let mut rest = tag;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return attrs;
        }
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_owned();
        rest = rest[name_end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (raw, tail) = match after.chars().next() {
                Some(quote @ ('"' | '\'')) => {
                    let inner = &after[1..];
                    let end = inner.find(quote).unwrap_or(inner.len());
                    (&inner[..end], inner.get(end + 1..).unwrap_or_default())
                }
                _ => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            value = raw
                .replace("&#39;", "'")
                .replace("&quot;", "\"")
                .replace("&amp;", "&");
            rest = tail;
        }
        attrs.push((name, value));
    }
}

/// The policy the app server sends as a header: the page's policy plus `frame-ancestors 'none'`,
/// which only works in a header (RFC 9700 §4.16, clickjacking).
pub fn header_csp(dist: &Path) -> String {
    format!("{}; frame-ancestors 'none'", page_csp(dist))
}

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

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
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

/// The problem banner's three sentences.
#[derive(Debug)]
pub struct ShownProblem {
    /// `#problem-what`
    pub what: String,
    /// `#problem-side`
    pub side: String,
    /// `#problem-todo`
    pub todo: String,
}

/// A chromedriver log line (`LEVEL [source-url line[:col]] message`) without its level and
/// source location.
fn console_message(line: &str) -> &str {
    let rest = line.split_once(' ').map_or("", |(_, rest)| rest);
    let mut parts = rest.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(source), Some(position), Some(message))
            if source.contains("://")
                && position
                    .split(':')
                    .all(|n| n.chars().all(|c| c.is_ascii_digit())) =>
        {
            message
        }
        _ => rest,
    }
}

/// Keys of the app's storage that are the test harness's own.
fn is_test_key(key: &str) -> bool {
    key.starts_with("e2e.")
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

    async fn session_id(&self) -> String {
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

    /// From now on, every document this window loads records its `securitypolicyviolation`
    /// events in its origin's sessionStorage ([`CSP_LOG_KEY`]) and on the console. Load the
    /// page again afterwards to watch it from its first byte.
    pub async fn watch_csp_violations(&self) {
        self.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": CSP_WATCHER }),
        )
        .await;
    }

    /// The CSP violations recorded on the current page's origin in this tab.
    pub async fn csp_violations(&self) -> Vec<String> {
        let list = self
            .js(
                "return JSON.parse(sessionStorage.getItem(arguments[0]) || '[]');",
                vec![json!(CSP_LOG_KEY)],
            )
            .await;
        serde_json::from_value(list).unwrap_or_default()
    }

    /// The CDP events of chromedriver's "performance" log since the last call (the `message`
    /// objects: `{method, params}`); needs [`Lab::start_with_network_log`].
    pub async fn performance_log(&self) -> Vec<Value> {
        let path = format!("/session/{}/se/log", self.session_id().await);
        let (status, body) = raw_http(
            &self.driver,
            "POST",
            &path,
            Some(&json!({ "type": "performance" })),
        )
        .await;
        assert_eq!(status, 200, "performance log: {body}");
        let entries: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        entries["value"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|e| e["message"].as_str())
                    .filter_map(|m| serde_json::from_str::<Value>(m).ok())
                    .map(|m| m["message"].clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The browser console since the last call, as `LEVEL message` lines (chromedriver's log,
    /// requested by `goog:loggingPrefs` in the capabilities).
    pub async fn browser_log(&self) -> Vec<String> {
        let path = format!("/session/{}/se/log", self.session_id().await);
        let (status, body) = raw_http(
            &self.driver,
            "POST",
            &path,
            Some(&json!({ "type": "browser" })),
        )
        .await;
        assert_eq!(status, 200, "browser log: {body}");
        let entries: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        entries["value"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {}",
                            e["level"].as_str().unwrap_or("?"),
                            e["message"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Like [`Lab::js`], but `None` instead of a panic (e.g. while the page is navigating).
    pub async fn try_js(&self, script: &str) -> Option<Value> {
        self.client.execute(script, vec![]).await.ok()
    }

    /// Presses Log in and goes through whatever the provider shows — its login page, its consent
    /// page, or nothing when its session and an earlier grant already cover the request — until
    /// the app has handled the callback. Returns the URL the callback arrived on.
    pub async fn login_through_provider(&self, user: &str, password: &str) -> String {
        self.wait_css("#login").await;
        self.js("window.__e2eActed = true;", vec![]).await;
        self.click("#login").await;
        self.continue_at_provider(user, password).await
    }

    /// Goes on from wherever the browser is in a login (the app's page that just left, or one
    /// of the provider's pages) until the app has handled the callback; see
    /// [`Lab::login_through_provider`]. Returns the URL the callback arrived on.
    pub async fn continue_at_provider(&self, user: &str, password: &str) -> String {
        self.continue_until(
            user,
            password,
            "['logged-in', 'failed', 'awaiting-secret'].includes(document.querySelector('#lab').dataset.phase)",
        )
        .await;
        self.landed_url().await
    }

    /// Goes through whatever the provider shows (its login page, its consent page, or nothing
    /// when its session and an earlier grant already cover the request) until `done`, a JS
    /// expression, is true on the app's page. Pages are told apart by `window.__e2eActed`, set
    /// before every action that navigates.
    pub async fn continue_until(&self, user: &str, password: &str, done: &str) {
        let here = format!(
            "if (window.__e2eActed) return 'navigating'; \
             if (document.querySelector('#provider-error')) return 'provider-error'; \
             if (document.querySelector('input[name=login]')) return 'login'; \
             if (document.querySelector('#allow')) return 'consent'; \
             if (document.querySelector('#lab') && ({done})) return 'done'; \
             return 'loading';"
        );
        let act = "window.__e2eActed = true;";
        let deadline = Instant::now() + WAIT * 3;
        loop {
            assert!(
                Instant::now() < deadline,
                "the app did not get to ({done}); at {}",
                self.url().await
            );
            match self
                .try_js(&here)
                .await
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or("loading")
            {
                "login" => {
                    self.js(act, vec![]).await;
                    let login = self.wait_css("input[name=login]").await;
                    login.send_keys(user).await.expect("type user");
                    self.wait_css("input[name=password]")
                        .await
                        .send_keys(password)
                        .await
                        .expect("type password");
                    self.click("#sign-in").await;
                }
                "consent" => {
                    self.js(act, vec![]).await;
                    self.click("#allow").await;
                }
                "done" => return,
                "provider-error" => {
                    panic!(
                        "the provider showed an error: {}",
                        self.text("#provider-error").await
                    )
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Kinds of the failed steps, in order. The list (`#timeline`) and the SVG diagram
    /// (`#diagram g.row`) must agree: they read the same timeline.
    pub async fn failed_steps(&self) -> Vec<String> {
        let kinds = |css: &str| {
            format!("return [...document.querySelectorAll('{css}')].map(e => e.dataset.kind);")
        };
        let list: Vec<String> = serde_json::from_value(
            self.js(&kinds("#timeline > li[data-status=failed]"), vec![])
                .await,
        )
        .unwrap_or_default();
        let diagram: Vec<String> = serde_json::from_value(
            self.js(&kinds("#diagram g.row[data-status=failed]"), vec![])
                .await,
        )
        .unwrap_or_default();
        assert_eq!(list, diagram, "the list and the diagram disagree");
        list
    }

    /// Waits for the problem banner and reads its three sentences.
    pub async fn problem(&self) -> ShownProblem {
        ShownProblem {
            what: self.text("#problem-what").await,
            side: self.text("#problem-side").await,
            todo: self.text("#problem-todo").await,
        }
    }

    /// The real access token, read by pressing its Reveal button (and Hide again), or `None`
    /// when the page holds no tokens.
    pub async fn revealed_access_token(&self) -> Option<String> {
        if self.count("#access-token").await == 0 {
            return None;
        }
        self.click("#access-token + button.reveal").await;
        let token = self.text("#access-token").await;
        self.click("#access-token + button.reveal").await;
        Some(token)
    }

    /// Storage and leak audit on the app's page after a scenario (S-2, S-4, X-8, R9700-13,
    /// BBA §8): nothing OAuth-related in localStorage (which holds only the non-secret settings)
    /// or cookies; no pending login (verifier, state) left in sessionStorage; the address bar
    /// clean; no token in any URL this page loaded; and no secret in storage or the browser
    /// console. `tokens` must appear nowhere (not even in a URL); `secrets` (e.g. the code, which
    /// rides in the callback URL by design) nowhere but in URLs.
    pub async fn audit_storage(&self, tokens: &[String], secrets: &[String]) {
        let snapshot = self
            .js(
                "return { local: Object.assign({}, localStorage), \
                          session: Object.assign({}, sessionStorage), \
                          cookie: document.cookie, url: location.href, \
                          urls: performance.getEntries().map(e => e.name) };",
                vec![],
            )
            .await;
        let map = |v: &Value| -> Vec<(String, String)> {
            v.as_object()
                .map(|o| {
                    o.iter()
                        .filter(|(k, _)| !is_test_key(k))
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default()
        };
        let hidden: Vec<&String> = tokens
            .iter()
            .chain(secrets)
            .filter(|s| s.len() >= 8)
            .collect();
        let oauth_words = [
            "verifier",
            "access_token",
            "refresh_token",
            "client_secret",
            "id_token",
        ];
        // S-4: localStorage holds only non-secret settings.
        for (key, value) in map(&snapshot["local"]) {
            let lower = key.to_ascii_lowercase();
            for word in ["pending", "verifier", "token", "state", "code", "secret"] {
                assert!(!lower.contains(word), "S-4: localStorage key {key:?}");
            }
            for word in oauth_words {
                assert!(
                    !value.contains(word),
                    "S-4: localStorage {key} mentions {word}: {value}"
                );
            }
            for s in &hidden {
                assert!(
                    !value.contains(s.as_str()),
                    "S-4: a secret in localStorage {key}"
                );
            }
        }
        // S-4: the page wrote no cookie. Cookies ignore ports, so the provider's own session
        // cookies on 127.0.0.1 show up here too; they are HttpOnly, which a page cannot set.
        assert_eq!(snapshot["cookie"], json!(""), "S-4: document.cookie");
        let cookies = self.client.get_all_cookies().await.expect("cookies");
        for cookie in &cookies {
            assert_eq!(
                cookie.http_only(),
                Some(true),
                "S-4: a cookie the page could have written: {cookie:?}"
            );
        }
        // S-2: the callback consumed the pending login; only the non-secret timeline may stay.
        for (key, value) in map(&snapshot["session"]) {
            assert!(
                !key.contains("pending"),
                "S-2: {key} left in sessionStorage: {value}"
            );
            assert!(
                !value.contains("\"verifier\":\""),
                "S-2: a verifier in {key}"
            );
            for s in &hidden {
                assert!(
                    !value.contains(s.as_str()),
                    "S-2/X-8: a secret in sessionStorage {key}"
                );
            }
        }
        // C-25: the address bar holds no OAuth parameter.
        let url = snapshot["url"].as_str().unwrap_or_default().to_owned();
        for name in [
            "code=",
            "state=",
            "iss=",
            "error=",
            "access_token",
            "token=",
        ] {
            assert!(
                !url.contains(name),
                "C-25: {name} left in the address bar: {url}"
            );
        }
        // R9700-13 / X-9: no token in any URL this page loaded (navigations, fetches).
        let urls: Vec<String> =
            serde_json::from_value(snapshot["urls"].clone()).unwrap_or_default();
        for loaded in &urls {
            assert!(
                !loaded.contains("access_token="),
                "X-9: token in a URL: {loaded}"
            );
            for t in tokens.iter().filter(|t| t.len() >= 8) {
                assert!(
                    !loaded.contains(t.as_str()),
                    "X-9: a token in a URL: {loaded}"
                );
            }
        }
        // X-8: no secret on the console. Chrome prefixes a message with the URL of the document
        // or script it comes from, which for the callback page is the callback URL with its
        // code: only the message itself must not carry the code; a token may appear nowhere.
        for line in self.browser_log().await {
            let message = console_message(&line);
            for word in [
                "code_verifier=",
                "\"access_token\":\"",
                "\"refresh_token\":\"",
            ] {
                assert!(!line.contains(word), "X-8: console shows {word}: {line}");
            }
            for t in tokens.iter().filter(|t| t.len() >= 8) {
                assert!(
                    !line.contains(t.as_str()),
                    "X-8: a token on the console: {line}"
                );
            }
            for s in &hidden {
                assert!(
                    !message.contains(s.as_str()),
                    "X-8: a secret on the console: {line}"
                );
            }
        }
    }
}

// ---- Several providers (issue 5): a second bundled provider with its own issuer, discovery
// ---- mode and CORS, and settings that point at it.

/// Another bundled provider (authorization server + demo API) for the same app, stopped when
/// dropped. Its fault switches are at `/__lab/faults` on its host, whatever its issuer's path.
pub struct Provider {
    /// Its issuer, e.g. `http://127.0.0.1:<port>/realms/lab`.
    pub issuer: String,
    /// Its demo resource API.
    pub api: String,
    _service: Service,
}

impl Lab {
    /// The app's origin (`http://127.0.0.1:<port>`, no trailing slash).
    pub fn app_origin(&self) -> String {
        self.app.trim_end_matches('/').to_owned()
    }

    /// Starts another bundled provider that knows this app (redirect URI and, unless `env` says
    /// otherwise, CORS). `path` is the issuer's path ("" or e.g. "/realms/lab"); `env` adds
    /// settings such as `LAB_DISCOVERY=rfc8414` or `LAB_NO_CORS=1` (provider/README.md).
    pub async fn start_provider(&self, path: &str, env: &[(&str, &str)]) -> Provider {
        let (issuer_port, api_port) = (free_port(), free_port());
        let issuer = format!("http://127.0.0.1:{issuer_port}{path}");
        let mut command = Command::new(root().join("provider/run"));
        command
            .env("LAB_ISSUER", &issuer)
            .env("LAB_ISSUER_PORT", issuer_port.to_string())
            .env("LAB_API_PORT", api_port.to_string())
            .env("LAB_APP_ORIGINS", self.app_origin())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (name, value) in env {
            command.env(name, value);
        }
        let service = Service(command.spawn().expect("provider/run starts"));
        wait_for_port(issuer_port, "second provider");
        wait_for_port(api_port, "second resource API");
        Provider {
            issuer,
            api: format!("http://127.0.0.1:{api_port}"),
            _service: service,
        }
    }

    /// Saves settings pointing at another provider (as the settings form would) and reloads.
    pub async fn configure_provider(&self, issuer: &str, api: &str, scope: &str) {
        self.client.goto(&self.app).await.expect("app loads");
        let settings = json!({
            "issuer": issuer, "client_id": "flow-lab", "scope": scope, "api_base": api
        })
        .to_string();
        self.js(
            "localStorage.setItem('oauth-flow-lab.settings', arguments[0]);",
            vec![json!(settings)],
        )
        .await;
        self.client.goto(&self.app).await.expect("app reloads");
        self.wait_css("#login").await;
    }

    /// Switches faults on at any provider (its issuer, with or without a path).
    pub async fn set_fault_at(&self, issuer: &str, fault: Value) -> Value {
        let (status, body) = raw_http(issuer, "POST", "/__lab/faults", Some(&fault)).await;
        assert_eq!(status, 200, "the provider refused fault {fault}: {body}");
        serde_json::from_str(&body).expect("the fault state is JSON")
    }

    /// The kinds of the timeline's steps, in order.
    pub async fn step_kinds(&self) -> Vec<String> {
        let kinds = self
            .js(
                "return [...document.querySelectorAll('#timeline > li')].map(li => li.dataset.kind);",
                vec![],
            )
            .await;
        serde_json::from_value(kinds).unwrap_or_default()
    }

    /// The text of every timeline step of `kind` (with its closed HTTP details), in order.
    pub async fn step_texts(&self, kind: &str) -> Vec<String> {
        let texts = self
            .js(
                "return [...document.querySelectorAll(`#timeline > li[data-kind=${arguments[0]}]`)]\
                   .map(li => li.textContent);",
                vec![json!(kind)],
            )
            .await;
        serde_json::from_value(texts).unwrap_or_default()
    }

    /// Presses Log in and waits for the provider's login page; returns its URL.
    pub async fn start_login_at_provider(&self) -> String {
        self.click("#login").await;
        self.wait_css("input[name=login]").await;
        self.url().await
    }

    /// Like [`Lab::login_through_provider`], for a browser already at the provider's login page
    /// (a login started earlier): signs in, consents, and waits until the app has handled the
    /// callback.
    pub async fn login_through_provider_page(&self, user: &str, password: &str) {
        let deadline = Instant::now() + WAIT * 2;
        let login = self.wait_css("input[name=login]").await;
        login.send_keys(user).await.expect("type user");
        self.wait_css("input[name=password]")
            .await
            .send_keys(password)
            .await
            .expect("type password");
        self.js("window.__e2eActed = true;", vec![]).await;
        self.click("#sign-in").await;
        loop {
            assert!(Instant::now() < deadline, "stuck at {}", self.url().await);
            let here = self
                .try_js(
                    "if (window.__e2eActed) return 'navigating'; \
                     if (document.querySelector('#allow')) return 'consent'; \
                     const lab = document.querySelector('#lab'); \
                     if (lab && ['logged-in', 'failed'].includes(lab.dataset.phase)) return 'done'; \
                     return 'loading';",
                )
                .await;
            match here.as_ref().and_then(Value::as_str).unwrap_or("loading") {
                "consent" => {
                    self.js("window.__e2eActed = true;", vec![]).await;
                    self.click("#allow").await;
                }
                "done" => return,
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Reveals a masked value by its element id (pressing Reveal, then Hide) and returns it.
    pub async fn revealed(&self, id: &str) -> String {
        let button = format!("#{id} + button.reveal");
        self.click(&button).await;
        let value = self.text(&format!("#{id}")).await;
        self.click(&button).await;
        value
    }
}

// ---- LemonLDAP::NG (issue 15): a second, independent real provider from Debian's packages
// ---- (provider/lemonldap-ng/README.md).

/// LemonLDAP::NG's portal (Starman), configured for this app in its own state folder; stopped
/// with SIGTERM when dropped (Starman's master then stops its workers; SIGKILL would orphan
/// them), and its state folder removed.
pub struct LemonLdap {
    /// Its issuer, `http://127.0.0.1:<port>` (no trailing slash).
    pub issuer: String,
    /// Its state folder (config, sessions, keys, logs).
    pub state: PathBuf,
    child: Child,
}

impl Drop for LemonLdap {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::env::var_os("LLNG_KEEP_STATE").is_none() {
            let _ = std::fs::remove_dir_all(&self.state);
        }
    }
}

impl Lab {
    /// Configures and starts LemonLDAP::NG (`provider/lemonldap-ng/run`) with a public client
    /// `flow-lab` for this app's origin; returns once its discovery document is served.
    pub async fn start_lemonldap(&self) -> LemonLdap {
        let port = free_port();
        let state =
            std::env::temp_dir().join(format!("e2e-lemonldap-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state);
        let child = Command::new(root().join("provider/lemonldap-ng/run"))
            .env("LLNG_PORT", port.to_string())
            .env("LLNG_STATE", &state)
            .env("LAB_APP_ORIGINS", self.app_origin())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("provider/lemonldap-ng/run starts");
        let mut llng = LemonLdap {
            issuer: format!("http://127.0.0.1:{port}"),
            state,
            child,
        };
        // Configuration (two CLI saves and a key) takes a few seconds before Starman listens.
        let deadline = Instant::now() + WAIT * 2;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = llng.child.try_wait() {
                panic!("provider/lemonldap-ng/run ended ({status}) before serving; see its stderr");
            }
            assert!(
                Instant::now() < deadline,
                "LemonLDAP::NG did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (status, body) = raw_http(
            &llng.issuer,
            "GET",
            "/.well-known/openid-configuration",
            None,
        )
        .await;
        assert_eq!(status, 200, "LemonLDAP::NG's discovery: {body}");
        llng
    }
}
