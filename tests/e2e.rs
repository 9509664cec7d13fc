//! End to end: the trunk-built app in headless Chromium against the bundled provider, each test
//! with its own provider, app server and chromedriver on free loopback ports.
//! Needs `trunk build --release --dist target/e2e-dist` first (scripts/test does it).
#![cfg(not(target_arch = "wasm32"))]

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

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

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One isolated world: provider + API + app server + chromedriver + a browser session.
struct Lab {
    client: Client,
    app: String,
    issuer: String,
    api: String,
    _services: Vec<Service>,
}

impl Lab {
    async fn start() -> Lab {
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
            _services: services,
        };
        lab.configure("openid profile read:profile read:files").await;
        lab
    }

    /// Saves settings pointing at this test's provider, as the settings form would.
    async fn configure(&self, scope: &str) {
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

    async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.expect("script runs")
    }

    async fn wait_css(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waited for {css}: {e}"))
    }

    async fn click(&self, css: &str) {
        self.wait_css(css).await.click().await.expect("click");
    }

    async fn text(&self, css: &str) -> String {
        self.wait_css(css).await.text().await.expect("text")
    }

    async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    async fn url(&self) -> String {
        self.client.current_url().await.expect("url").to_string()
    }

    /// Presses Log in and signs in at the provider's real login page.
    async fn sign_in(&self, user: &str, password: &str) {
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
    async fn wait_phase(&self, phases: &[&str]) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let phase = self
                .js(
                    "const m = document.querySelector('#lab'); return m ? m.dataset.phase : '';",
                    vec![],
                )
                .await;
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
    async fn token_requests(&self) -> u64 {
        self.js(
            "return performance.getEntriesByType('resource')\
               .filter(e => e.name === arguments[0]).length;",
            vec![json!(format!("{}/token", self.issuer))],
        )
        .await
        .as_u64()
        .unwrap_or(u64::MAX)
    }

    async fn session_storage(&self) -> String {
        self.js("return JSON.stringify(Object.assign({}, sessionStorage));", vec![])
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn screenshot(&self, name: &str) {
        let dir = root().join("target/e2e-screenshots");
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
    }

    async fn finish(self) {
        let _ = self.client.close().await;
    }

    /// Logs in as alice and returns the callback URL the browser landed on.
    async fn log_in_as_alice(&self) -> String {
        self.sign_in("alice", "wonderland").await;
        self.click("#allow").await;
        self.wait_phase(&["logged-in", "failed"]).await;
        self.js(
            "return performance.getEntriesByType('navigation')[0].name;",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn happy_path_alice_gets_tokens_and_her_profile() {
    let lab = Lab::start().await;
    let callback = lab.log_in_as_alice().await;
    assert!(callback.contains("code="), "landed on {callback}");
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    // C-25 / BBA §7.2.1: code and state are gone from the address bar.
    let url = lab.url().await;
    assert!(!url.contains("code=") && !url.contains("state="), "{url}");
    // S-2: no verifier or state left in sessionStorage.
    let session = lab.session_storage().await;
    assert!(!session.contains("oauth-flow-lab.pending"), "{session}");
    assert!(!session.contains("verifier\":\""), "{session}");
    // T-1: exactly one token request.
    assert_eq!(lab.token_requests().await, 1);
    assert!(lab.text("#access-token").await.contains('…'), "masked");
    lab.click("#call-profile").await;
    let profile = lab.text("#api-result").await;
    assert!(profile.contains("Alice Liddell"), "{profile}");
    // The timeline reads like the flow, in order.
    let kinds = lab
        .js(
            "return [...document.querySelectorAll('#timeline > li')].map(li => li.dataset.kind);",
            vec![],
        )
        .await;
    let kinds: Vec<String> = serde_json::from_value(kinds).unwrap_or_default();
    let expected = [
        "Discover",
        "GenerateVerifier",
        "DeriveChallenge",
        "GenerateState",
        "SavePending",
        "RedirectToAuthorize",
        "UserAtProvider",
        "RedirectBack",
        "CheckCallback",
        "TokenRequest",
        "TokenResponse",
        "ResourceRequest",
        "ResourceResponse",
    ];
    assert_eq!(kinds, expected);
    assert_eq!(lab.count("#timeline > li[data-status=failed]").await, 0);
    lab.screenshot("01-happy-path").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn c06_deny_at_consent_shows_access_denied_and_requests_no_token() {
    let lab = Lab::start().await;
    lab.sign_in("alice", "wonderland").await;
    lab.click("#deny").await;
    assert_eq!(lab.wait_phase(&["failed", "logged-in"]).await, "failed");
    let what = lab.text("#problem-what").await;
    assert!(what.contains("access_denied") || what.contains("denied"), "{what}");
    assert_eq!(lab.token_requests().await, 0);
    assert_eq!(lab.count("#timeline > li[data-kind=TokenRequest]").await, 0);
    assert_eq!(
        lab.count("#timeline > li[data-kind=CheckCallback][data-status=failed]")
            .await,
        1
    );
    lab.screenshot("02-deny").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_keeps_the_user_at_the_provider() {
    let lab = Lab::start().await;
    lab.sign_in("alice", "not-her-password").await;
    let error = lab.text("#login-error").await;
    assert!(error.contains("Wrong"), "{error}");
    let url = lab.url().await;
    assert!(url.starts_with(&lab.issuer), "left the provider: {url}");
    lab.screenshot("03-wrong-password").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn c20_reopened_callback_url_is_already_used_and_not_redeemed_again() {
    let lab = Lab::start().await;
    let callback = lab.log_in_as_alice().await;
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    lab.client.goto(&callback).await.expect("reopen the callback");
    assert_eq!(lab.wait_phase(&["failed"]).await, "failed");
    let what = lab.text("#problem-what").await;
    assert!(what.contains("already used or has expired"), "{what}");
    assert_eq!(lab.token_requests().await, 0, "no second token request");
    lab.screenshot("04-replayed-callback").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn c03_forged_state_is_rejected_before_any_token_request() {
    let lab = Lab::start().await;
    let forged = format!(
        "{}?code=attacker-code&state=forged-state-value&iss={}",
        lab.app,
        lab.issuer.replace(':', "%3A").replace('/', "%2F")
    );
    lab.client.goto(&forged).await.expect("open forged callback");
    assert_eq!(lab.wait_phase(&["failed"]).await, "failed");
    let what = lab.text("#problem-what").await;
    assert!(what.contains("already used or has expired"), "{what}");
    assert_eq!(lab.token_requests().await, 0);
    let url = lab.url().await;
    assert!(!url.contains("code="), "forged code left in the URL: {url}");
    lab.screenshot("05-forged-state").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rfc6750_call_needing_an_ungranted_scope_shows_403_plainly() {
    let lab = Lab::start().await;
    lab.configure("openid read:profile").await;
    lab.log_in_as_alice().await;
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    lab.click("#call-files").await;
    let what = lab.text("#problem-what").await;
    assert!(what.contains("read:files"), "{what}");
    assert_eq!(
        lab.count("#timeline > li[data-kind=ResourceResponse][data-status=failed]")
            .await,
        1
    );
    lab.screenshot("06-insufficient-scope").await;
    lab.finish().await;
}
