//! The lab's processes: the bundled provider, the app server and chromedriver for one test
//! (each on free loopback ports, killed when the test ends), a second bundled provider, and
//! LemonLDAP::NG.

use super::*;
use std::sync::atomic::{AtomicU32, Ordering};

/// A child process killed when the test ends, pass or fail.
pub(crate) struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port no other lab of this run holds, free when checked.
///
/// It comes from below the kernel's ephemeral range (`ip_local_port_range`, 32768–60999 on
/// Linux), never from `bind(0)`: the port is released before the child binds it, and in that gap
/// an outgoing connection (chromedriver and Chromium open hundreds) could take an ephemeral one,
/// which is how tests used to lose a port under load. Each test process walks the range from its
/// own pid-derived start and never hands a port out twice, so parallel suites rarely meet.
pub(crate) fn free_port() -> u16 {
    static HANDED_OUT: AtomicU32 = AtomicU32::new(0);
    const FIRST: u32 = 10_000;
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    let count = ephemeral_start.saturating_sub(FIRST).max(1_000);
    let start = std::process::id().wrapping_mul(2_654_435_761) % count;
    loop {
        let handed = HANDED_OUT.fetch_add(1, Ordering::Relaxed);
        assert!(
            handed < count,
            "no free loopback port below {ephemeral_start}"
        );
        let port = (FIRST + (start + handed) % count) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

pub(crate) fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + WAIT;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl Lab {
    pub async fn start() -> Lab {
        Self::start_with_network_log(false).await
    }

    /// [`Lab::start`], and with `network` Chromium's network events (CDP `Network.*`) kept in
    /// chromedriver's "performance" log, to record a HAR of a real login (tests/har_import.rs).
    pub async fn start_with_network_log(network: bool) -> Lab {
        Self::start_with(network, &[]).await
    }

    /// [`Lab::start`] with extra environment for the bundled provider (e.g. the demo API's
    /// `API_DPOP_IAT_WINDOW_S`), for this test's provider only.
    pub async fn start_with_provider_env(env: &[(&str, &str)]) -> Lab {
        Self::start_with(false, env).await
    }

    async fn start_with(network: bool, provider_env: &[(&str, &str)]) -> Lab {
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
            .envs(provider_env.iter().copied())
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

    pub async fn finish(self) {
        let _ = self.client.close().await;
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
        self.start_provider_on("127.0.0.1", path, env).await
    }

    /// [`Lab::start_provider`] with an issuer on `host`: `localhost` is another site than the
    /// app's `127.0.0.1`, as any real provider is (its own process listens on loopback still).
    pub async fn start_provider_on(
        &self,
        host: &str,
        path: &str,
        env: &[(&str, &str)],
    ) -> Provider {
        let (issuer_port, api_port) = (free_port(), free_port());
        let issuer = format!("http://{host}:{issuer_port}{path}");
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
}

// ---- LemonLDAP::NG (issue 15): a second, independent real provider from Debian's packages
// ---- (provider/lemonldap-ng/README.md).

/// A real provider served by its `provider/…/run` script from a state folder of its own: stopped
/// with SIGTERM when dropped (the server's own shutdown stops its workers; SIGKILL would orphan
/// them), then the folder removed unless the environment variable `keep_env` is set.
pub struct StateServer {
    /// Its state folder (config, sessions or database, keys, logs).
    pub state: PathBuf,
    child: Child,
    keep_env: &'static str,
}

impl StateServer {
    /// Starts `provider/<script>` with the port and state folder in `port_env` / `state_env`
    /// and this app's origin in `LAB_APP_ORIGINS`.
    pub(crate) fn spawn(
        script: &str,
        (port_env, port): (&str, u16),
        (state_env, keep_env): (&str, &'static str),
        app_origin: &str,
    ) -> StateServer {
        let name = script.split('/').next().unwrap_or(script);
        let state = std::env::temp_dir().join(format!("e2e-{name}-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state);
        let child = Command::new(root().join("provider").join(script))
            .env(port_env, port.to_string())
            .env(state_env, &state)
            .env("LAB_APP_ORIGINS", app_origin)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("provider/{script} starts: {e}"));
        StateServer {
            state,
            child,
            keep_env,
        }
    }

    /// Panics, naming the script, when it has already ended (it failed before serving).
    pub(crate) fn assert_running(&mut self, script: &str) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("provider/{script} ended ({status}) before serving; see its stderr");
        }
    }
}

impl Drop for StateServer {
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
        if std::env::var_os(self.keep_env).is_none() {
            let _ = std::fs::remove_dir_all(&self.state);
        }
    }
}

/// LemonLDAP::NG's portal (Starman), configured for this app in its own state folder.
pub struct LemonLdap {
    /// Its issuer, `http://127.0.0.1:<port>` (no trailing slash).
    pub issuer: String,
    /// The running portal and its state folder.
    pub server: StateServer,
    /// The demo API for its tokens (`provider/lemonldap-ng/api.mjs`): `http://127.0.0.1:<port>`.
    pub api: String,
    /// The demo API's process (stopped when dropped).
    _api: Service,
}

impl Lab {
    /// Configures and starts LemonLDAP::NG (`provider/lemonldap-ng/run`) with a public client
    /// `flow-lab` for this app's origin; returns once its discovery document is served.
    pub async fn start_lemonldap(&self) -> LemonLdap {
        let (port, api_port) = (free_port(), free_port());
        let issuer = format!("http://127.0.0.1:{port}");
        // The demo API checks LemonLDAP::NG's tokens at its introspection endpoint, as the
        // confidential relying party `demo-api` that `run` registers.
        let api = Command::new("node")
            .arg(root().join("provider/lemonldap-ng/api.mjs"))
            .env("LLNG_ISSUER", &issuer)
            .env("LLNG_API_PORT", api_port.to_string())
            .env("LAB_APP_ORIGINS", self.app_origin())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node provider/lemonldap-ng/api.mjs starts");
        let mut llng = LemonLdap {
            issuer: issuer.clone(),
            server: StateServer::spawn(
                "lemonldap-ng/run",
                ("LLNG_PORT", port),
                ("LLNG_STATE", "LLNG_KEEP_STATE"),
                &self.app_origin(),
            ),
            api: format!("http://127.0.0.1:{api_port}"),
            _api: Service(api),
        };
        wait_for_port(api_port, "LemonLDAP::NG's demo API");
        // Configuration (two CLI saves and a key) takes a few seconds before Starman listens.
        let deadline = Instant::now() + WAIT * 2;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            llng.server.assert_running("lemonldap-ng/run");
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

impl Lab {
    /// Like `configure_provider`, with the settings' provider preset chosen as a user picks it
    /// from the list: the checkup's fix hints and its Markdown export are then the preset's own.
    pub async fn configure_with_preset(&self, preset: &str, issuer: &str, api: &str, scope: &str) {
        self.save_settings(serde_json::json!({
            "issuer": issuer, "client_id": "flow-lab", "scope": scope, "api_base": api,
            "preset": preset
        }))
        .await;
    }
}
