//! Shared end-to-end harness: the trunk-built app in headless Chromium against the bundled
//! provider, each test with its own provider, app server and chromedriver on free loopback ports.
//! Needs `trunk build --release --dist target/e2e-dist` first (scripts/test does it).
#![allow(dead_code)] // each test file uses its own subset

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::PathBuf;
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
    _services: Vec<Service>,
}

impl Lab {
    pub async fn start() -> Lab {
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

    pub async fn wait_css(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waited for {css}: {e}"))
    }

    pub async fn click(&self, css: &str) {
        self.wait_css(css).await.click().await.expect("click");
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

    /// Logs in as alice and returns the callback URL the browser landed on.
    pub async fn log_in_as_alice(&self) -> String {
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
