//! Glewlwyd 2.7.5 from Debian's packages (issue 15): a third independent real provider, in C,
//! configured for this app by `provider/glewlwyd/run` (see its README).

use super::{free_port, raw_http, root, Lab, WAIT};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Glewlwyd, configured for this app in its own state folder; stopped when dropped and its
/// state folder removed.
pub struct Glewlwyd {
    /// Its issuer, `http://127.0.0.1:<port>/api/oidc` (a path issuer).
    pub issuer: String,
    /// Its state folder (database, config, key, logs).
    pub state: PathBuf,
    child: Child,
}

impl Drop for Glewlwyd {
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
        if std::env::var_os("GLEWLWYD_KEEP_STATE").is_none() {
            let _ = std::fs::remove_dir_all(&self.state);
        }
    }
}

impl Lab {
    /// Configures and starts Glewlwyd (`provider/glewlwyd/run`) with a public client `flow-lab`
    /// for this app's origin; returns once its discovery document is served.
    pub async fn start_glewlwyd(&self) -> Glewlwyd {
        let port = free_port();
        let state =
            std::env::temp_dir().join(format!("e2e-glewlwyd-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state);
        let child = Command::new(root().join("provider/glewlwyd/run"))
            .env("GLEWLWYD_PORT", port.to_string())
            .env("GLEWLWYD_STATE", &state)
            .env("LAB_APP_ORIGINS", self.app_origin())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("provider/glewlwyd/run starts");
        let mut glewlwyd = Glewlwyd {
            issuer: format!("http://127.0.0.1:{port}/api/oidc"),
            state,
            child,
        };
        // `run` starts the server once to configure it through its admin API, then again for
        // good: wait for the second one's discovery document.
        let deadline = Instant::now() + WAIT * 2;
        loop {
            if let Ok(Some(status)) = glewlwyd.child.try_wait() {
                panic!("provider/glewlwyd/run ended ({status}) before serving; see its stderr");
            }
            assert!(
                Instant::now() < deadline,
                "Glewlwyd did not serve on {port}"
            );
            if glewlwyd.state.join("glewlwyd.log").exists()
                && !glewlwyd.state.join("admin.jar").exists()
                && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            {
                let (status, _) = raw_http(
                    &format!("http://127.0.0.1:{port}"),
                    "GET",
                    "/api/oidc/.well-known/openid-configuration",
                    None,
                )
                .await;
                if status == 200 {
                    return glewlwyd;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
