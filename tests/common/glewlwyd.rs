//! Glewlwyd 2.7.5 from Debian's packages (issue 15): a third independent real provider, in C,
//! configured for this app by `provider/glewlwyd/run` (see its README).

use super::{free_port, raw_http, Lab, StateServer, WAIT};
use std::time::{Duration, Instant};

/// Glewlwyd, configured for this app in its own state folder.
pub struct Glewlwyd {
    /// Its issuer, `http://127.0.0.1:<port>/api/oidc` (a path issuer).
    pub issuer: String,
    /// The running server and its state folder.
    pub server: StateServer,
}

impl Lab {
    /// Configures and starts Glewlwyd (`provider/glewlwyd/run`) with a public client `flow-lab`
    /// for this app's origin; returns once its discovery document is served.
    pub async fn start_glewlwyd(&self) -> Glewlwyd {
        let port = free_port();
        let mut glewlwyd = Glewlwyd {
            issuer: format!("http://127.0.0.1:{port}/api/oidc"),
            server: StateServer::spawn(
                "glewlwyd/run",
                ("GLEWLWYD_PORT", port),
                ("GLEWLWYD_STATE", "GLEWLWYD_KEEP_STATE"),
                &self.app_origin(),
            ),
        };
        // `run` starts the server once to configure it through its admin API (and removes the
        // admin cookie jar afterwards), then again for good: wait for the second one.
        let state = glewlwyd.server.state.clone();
        let deadline = Instant::now() + WAIT * 2;
        loop {
            glewlwyd.server.assert_running("glewlwyd/run");
            assert!(
                Instant::now() < deadline,
                "Glewlwyd did not serve on {port}"
            );
            if state.join("glewlwyd.log").exists()
                && !state.join("admin.jar").exists()
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
