//! The page object: what a test does in the app and reads back from it (settings, clicks,
//! texts, the provider's login pages, the problem banner, the timeline's steps, revealed
//! secrets, the storage audit, the browser's console).

use super::*;

impl Lab {
    /// Saves settings pointing at this test's provider, as the settings form would.
    pub async fn configure(&self, scope: &str) {
        self.configure_provider(&self.issuer, &self.api, scope)
            .await;
    }

    /// Saves `settings` in localStorage as the settings form would, and reloads the app with
    /// them (its Log in button ready).
    pub async fn save_settings(&self, settings: serde_json::Value) {
        self.client.goto(&self.app).await.expect("app loads");
        self.js(
            "localStorage.setItem('oauth-flow-lab.settings', arguments[0]);",
            vec![json!(settings.to_string())],
        )
        .await;
        self.client.goto(&self.app).await.expect("app reloads");
        self.wait_css("#login").await;
    }

    /// Clicks `click` (if any), then reloads the page the moment `selector` is in it, before
    /// any of the app's timers can run (S-1: what was drawn must survive the reload).
    pub async fn reload_the_moment(&self, click: Option<&str>, selector: &str) {
        let reloaded = self
            .client
            .execute_async(
                "const [click, selector, done] = arguments;
                 if (click) document.querySelector(click).click();
                 const deadline = performance.now() + 10000;
                 (function wait() {
                   if (document.querySelector(selector)) {
                     location.reload();
                     done(true);
                   } else if (performance.now() > deadline) {
                     done(false);
                   } else {
                     Promise.resolve().then(() => setTimeout(wait, 0));
                   }
                 })();",
                vec![json!(click), json!(selector)],
            )
            .await
            .expect("the page runs the script");
        assert_eq!(
            reloaded.as_bool(),
            Some(true),
            "{selector} never appeared, so the page was not reloaded"
        );
    }

    /// Clicks an export button (`#export-svg`, `#export-mermaid`, `#export-har`) and returns the
    /// text the exports' worker produced, once the output box holds that format's answer (the
    /// box is cleared on the click, so an earlier export is never read back).
    pub async fn export(&self, button: &str) -> String {
        let filename = match button {
            "#export-svg" => "oauth-flow.svg",
            "#export-mermaid" => "oauth-flow.mmd",
            "#export-har" => "oauth-flow.har",
            other => panic!("no export button {other}"),
        };
        self.click(button).await;
        self.wait_css(&format!("#export-output[data-format='{filename}']"))
            .await;
        self.js(
            "return document.querySelector('#export-output').value;",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
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
    /// navigation": the click happened, so that is not an error. An element drawn again
    /// between the find and the click is "stale": that click never happened, so it is found
    /// again and clicked (until [`WAIT`] runs out).
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.wait_css(css).await.click().await {
                Ok(()) => return,
                Err(e) if e.to_string().contains("aborted by navigation") => return,
                Err(e) if e.to_string().contains("stale") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("click on {css}: {e}"),
            }
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

    /// The address bar. Asked while a page loads, chromedriver can answer "aborted by
    /// navigation" (or time out on it): asked again until [`WAIT`] runs out.
    pub async fn url(&self) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.client.current_url().await {
                Ok(url) => return url.to_string(),
                Err(e) if Instant::now() >= deadline => panic!("url: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
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

    /// Waits until the page's `data-phase` is one of `phases` and its teaching text
    /// (`teaching.json`, fetched after the first paint) has arrived or failed, so the notes,
    /// hints and exports read in full.
    pub async fn wait_phase(&self, phases: &[&str]) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            // A script that races a page load fails; that is "not there yet", not an error.
            let phase = self
                .try_js(
                    "const m = document.querySelector('#lab'); \
                     return m && m.dataset.notes !== 'loading' ? m.dataset.phase : '';",
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
        self.token_requests_to(&self.issuer).await
    }

    /// How many requests this page made to `issuer`'s token endpoint (Resource Timing).
    pub async fn token_requests_to(&self, issuer: &str) -> u64 {
        self.js(
            "return performance.getEntriesByType('resource')\
               .filter(e => e.name === arguments[0]).length;",
            vec![json!(format!("{issuer}/token"))],
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
pub(crate) fn console_message(line: &str) -> &str {
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
pub(crate) fn is_test_key(key: &str) -> bool {
    key.starts_with("e2e.")
}

impl Lab {
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
        Some(self.revealed("access-token").await)
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
        // no secret on the console. Chrome prefixes a message with the URL of the document
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

impl Lab {
    /// Saves settings pointing at another provider (as the settings form would) and reloads.
    pub async fn configure_provider(&self, issuer: &str, api: &str, scope: &str) {
        self.save_settings(json!({
            "issuer": issuer, "client_id": "flow-lab", "scope": scope, "api_base": api,
            // These suites test Bearer runs; DPoP runs (the bundled provider's default) are
            // tests/dpop.rs's.
            "dpop": false
        }))
        .await;
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
        let (button, shown) = (format!("#{id} + button.reveal"), format!("#{id}"));
        // One press holds: the token panel keeps each Reveal outside what it redraws (a second
        // press would hide it again). Read the value once the mask is gone, or a test would
        // compare (or look in storage for) the mask.
        self.click(&button).await;
        let deadline = Instant::now() + WAIT;
        let value = loop {
            let text = self.text(&shown).await;
            if !text.contains('…') {
                break text;
            }
            assert!(
                Instant::now() < deadline,
                "Reveal did not show #{id}: {text}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        self.click(&button).await;
        value
    }

    /// Whether the settings form (`#settings-panel`, a `<details>`) is open; `None` when the
    /// page has no such disclosure.
    pub async fn settings_open(&self) -> Option<bool> {
        self.wait_css("#login").await;
        self.js(
            "const d = document.querySelector('#settings-panel'); return d ? d.open : null;",
            vec![],
        )
        .await
        .as_bool()
    }

    /// Opens the settings form as a user would (a click on its summary) if it is folded, as it
    /// is after a landing from the provider (issue 12), and waits for its fields to be drawn.
    /// Every test that reads or types in a settings field after a landing calls this first.
    pub async fn open_settings(&self) {
        if self.settings_open().await == Some(false) {
            self.click("#settings-panel > summary").await;
        }
        self.wait_css("#issuer").await;
    }
}
