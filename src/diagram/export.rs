//! PURE exporters of a timeline: Mermaid `sequenceDiagram`, HAR 1.2, and the standalone SVG
//! wrapper. They read only the timeline (and the drawn SVG), whose secrets are already masked.

use crate::flow::timeline::{Actor, Channel, Step, StepStatus, Timeline};
use crate::protocol::document::pretty;
use crate::protocol::uri::parse_query;
use serde_json::{Map, Value};

/// The diagram's stylesheet, embedded in exported SVGs.
const DIAGRAM_CSS: &str = include_str!("../../style/diagram.css");

/// Light-theme colours for the exported SVG (print and files always use the light theme).
const LIGHT_THEME: &str = "svg.diagram { --bg: #f6f7f9; --panel: #ffffff; --ink: #1b1f24; \
    --muted: #5b6470; --line: #d8dde3; --accent: #1f4e79; --front: #8a5a00; --front-bg: #fff4dc; \
    --back: #0b5e3c; --back-bg: #e2f5ea; --local: #4b5563; --local-bg: #eef0f3; \
    --fail: #b42318; --fail-bg: #fde8e6; --ok: #0b7a43; \
    --font: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; \
    --mono: ui-monospace, Menlo, Consolas, monospace; }";

/// The note every export carries about secrets.
pub const SECRETS_NOTE: &str =
    "Secrets (code, state, verifier, tokens) are masked; revealed values are never exported.";

fn participant(actor: Actor) -> &'static str {
    match actor {
        Actor::User => "U",
        Actor::Browser => "B",
        Actor::ClientApp => "C",
        Actor::AuthorizationServer => "AS",
        Actor::ResourceServer => "RS",
        Actor::Attacker => "X",
    }
}

/// Makes untrusted text safe for one Mermaid message: one line, no statement separators.
fn mermaid_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ';' => ',',
            '#' => '№',
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The run as Mermaid `sequenceDiagram` text: dashed arrows for the front channel, solid for
/// the back channel, notes for local work, crosses for failed steps.
pub fn to_mermaid(timeline: &Timeline) -> String {
    let mut out = String::from("sequenceDiagram\n    autonumber\n");
    for actor in crate::diagram::layout::lanes_for(timeline.steps()) {
        out.push_str(&format!(
            "    participant {} as {}\n",
            participant(actor),
            actor.label()
        ));
    }
    out.push_str(&format!("    %% {SECRETS_NOTE}\n"));
    for (index, step) in timeline.steps().iter().enumerate() {
        let mut label = mermaid_text(&step.label);
        if let Some(earlier) = crate::flow::server_check::refers_to(timeline.steps(), index) {
            label = format!("{label} (from step {})", earlier + 1);
        }
        if let StepStatus::Failed { reason } = &step.status {
            label = format!("{label} ✕ {}", mermaid_text(reason));
        }
        if let Some(defence) = &step.defence {
            label = format!("{label} ✔ {}", mermaid_text(defence));
        }
        if step.ghost {
            label = format!("(without the defence) {label}");
        }
        let callout = step.callout.as_deref().map(|c| {
            format!(
                "    Note right of {}: ⚠ {}\n",
                participant(step.to),
                mermaid_text(c)
            )
        });
        if step.from == step.to || step.channel == Channel::Local {
            out.push_str(&format!(
                "    Note over {}: {label}\n",
                participant(step.from)
            ));
            out.push_str(&callout.unwrap_or_default());
            continue;
        }
        let arrow = match (step.channel, step.is_failed()) {
            (Channel::Front, false) => "-->>",
            (Channel::Front, true) => "--x",
            (_, false) => "->>",
            (_, true) => "-x",
        };
        out.push_str(&format!(
            "    {}{arrow}{}: {label}\n",
            participant(step.from),
            participant(step.to)
        ));
        out.push_str(&callout.unwrap_or_default());
    }
    out
}

/// ISO 8601 UTC time for epoch milliseconds (HAR's `startedDateTime`), without a date crate.
pub fn iso8601(epoch_ms: u64) -> String {
    let secs = epoch_ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        epoch_ms % 1000
    )
}

/// A JSON object of `pairs`, inserted one at a time (collecting into the map would instantiate
/// a sort per array length in the wasm).
fn object<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let mut map = Map::new();
    for (name, value) in pairs {
        map.insert(name.to_owned(), value);
    }
    Value::Object(map)
}

fn name_values(pairs: &[(String, String)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(name, value)| {
                object([
                    ("name", name.as_str().into()),
                    ("value", value.as_str().into()),
                ])
            })
            .collect(),
    )
}

fn har_entry(step: &Step) -> Option<Value> {
    let x = step.exchange.as_ref()?;
    let navigation = x.method == "NAVIGATE";
    let query = x
        .url
        .split_once('?')
        .map(|(_, q)| parse_query(q))
        .unwrap_or_default();
    let content_type = |headers: &[(String, String)]| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut request = object([
        (
            "method",
            if navigation { "GET" } else { x.method.as_str() }.into(),
        ),
        ("url", x.url.as_str().into()),
        ("httpVersion", "HTTP/1.1".into()),
        ("headers", name_values(&x.request_headers)),
        ("queryString", name_values(&query)),
        ("cookies", Value::Array(Vec::new())),
        ("headersSize", (-1i64).into()),
        (
            "bodySize",
            x.request_body.as_ref().map_or(0, |b| b.len() as i64).into(),
        ),
    ]);
    if let Some(body) = &x.request_body {
        request["postData"] = object([
            ("mimeType", content_type(&x.request_headers).into()),
            ("text", body.as_str().into()),
        ]);
    }
    let body = x.response_body.clone().unwrap_or_default();
    let time = step.duration_ms.unwrap_or(0.0);
    let content = object([
        ("size", (body.len() as u64).into()),
        ("mimeType", content_type(&x.response_headers).into()),
        ("text", body.into()),
    ]);
    Some(object([
        ("startedDateTime", iso8601(step.started_at_ms).into()),
        ("time", time.into()),
        ("request", request),
        (
            "response",
            object([
                ("status", x.status.unwrap_or(0).into()),
                ("statusText", "".into()),
                ("httpVersion", "HTTP/1.1".into()),
                ("headers", name_values(&x.response_headers)),
                ("cookies", Value::Array(Vec::new())),
                ("content", content),
                ("redirectURL", "".into()),
                ("headersSize", (-1i64).into()),
                ("bodySize", (-1i64).into()),
            ]),
        ),
        ("cache", object([])),
        (
            "timings",
            object([
                ("send", 0u64.into()),
                ("wait", time.into()),
                ("receive", 0u64.into()),
            ]),
        ),
        (
            "comment",
            format!(
                "{} ({}{})",
                step.label,
                step.channel.label(),
                if navigation {
                    ", address-bar navigation"
                } else {
                    ""
                }
            )
            .into(),
        ),
    ]))
}

/// The run's HTTP exchanges as a HAR 1.2 log, secrets masked.
pub fn to_har(timeline: &Timeline) -> String {
    let entries: Vec<Value> = timeline.steps().iter().filter_map(har_entry).collect();
    let har = object([(
        "log",
        object([
            ("version", "1.2".into()),
            (
                "creator",
                object([
                    ("name", "OAuth Flow Lab".into()),
                    ("version", env!("CARGO_PKG_VERSION").into()),
                ]),
            ),
            ("comment", SECRETS_NOTE.into()),
            ("pages", Value::Array(Vec::new())),
            ("entries", Value::Array(entries)),
        ]),
    )]);
    pretty(&har)
}

/// Turns the drawn SVG's markup into a standalone file: namespace, light theme and the
/// diagram's stylesheet embedded, and a comment about masking.
pub fn standalone_svg(markup: &str) -> String {
    let Some(open_end) = markup.find('>') else {
        return String::new();
    };
    let (open, rest) = markup.split_at(open_end);
    let open = if open.contains("xmlns=") {
        open.to_owned()
    } else {
        open.replacen("<svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"", 1)
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- OAuth Flow Lab. {SECRETS_NOTE} -->\n\
         {open}><style>{LIGHT_THEME}\n{}</style>{}",
        DIAGRAM_CSS.replace("]]>", ""),
        &rest[1..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::explain::{script, Variant};
    use crate::flow::timeline::{HttpExchange, Param, StepKind};

    fn live_like() -> Timeline {
        let mut timeline = script(Variant::PkcePublic);
        let mut failed = Step::new(
            StepKind::TokenRequest,
            Actor::ClientApp,
            Actor::AuthorizationServer,
            Channel::Back,
            "Exchange; the code #1",
            1_764_000_000_000,
        )
        .with_params(vec![Param::secret(
            "code",
            "Splx…IA (22)".into(),
            "SplxlOBeZQQYbYS6WxSbIA",
        )])
        .with_exchange(HttpExchange {
            method: "POST".into(),
            url: "http://127.0.0.1:9000/token".into(),
            request_headers: vec![(
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
            request_body: Some("grant_type=authorization_code&code=Splx…IA (22)".into()),
            status: Some(400),
            response_headers: vec![("Content-Type".into(), "application/json".into())],
            response_body: Some("{\"error\":\"invalid_grant\"}".into()),
        });
        failed.status = StepStatus::Failed {
            reason: "invalid_grant\nretry; later".into(),
        };
        timeline.push(failed);
        timeline
    }

    #[test]
    fn mermaid_draws_front_dashed_back_solid_local_as_notes_and_failures_crossed() {
        let text = to_mermaid(&live_like());
        assert!(text.starts_with("sequenceDiagram\n"));
        assert!(text.contains("C-->>AS: Send the browser"), "{text}");
        assert!(text.contains("C->>AS: Exchange the code"), "{text}");
        assert!(text.contains("Note over C: Generate a random code_verifier"));
        assert!(
            text.contains("C-xAS: Exchange, the code №1 ✕ invalid_grant retry, later"),
            "{text}"
        );
    }

    #[test]
    fn mermaid_names_the_attacker_only_in_attack_runs_and_marks_defences_and_ghosts() {
        assert!(!to_mermaid(&live_like()).contains("Attacker"));
        let mut run = live_like();
        run.push(
            Step::new(
                StepKind::AttackResponse,
                Actor::AuthorizationServer,
                Actor::Attacker,
                Channel::Back,
                "Refused: 400 invalid_grant",
                0,
            )
            .with_defence("PKCE"),
        );
        run.push(
            Step::new(
                StepKind::TokenResponse,
                Actor::AuthorizationServer,
                Actor::ClientApp,
                Channel::Back,
                "Tokens for the attacker",
                0,
            )
            .as_ghost(),
        );
        let text = to_mermaid(&run);
        assert!(text.contains("participant X as Attacker"), "{text}");
        assert!(
            text.contains("AS->>X: Refused: 400 invalid_grant ✔ PKCE"),
            "{text}"
        );
        assert!(text.contains("AS->>C: (without the defence) Tokens for the attacker"));
    }

    #[test]
    fn har_has_one_entry_per_exchange_and_no_secret_values() {
        let har: Value =
            serde_json::from_str::<serde_json::Value>(&to_har(&live_like())).expect("valid JSON");
        let entries = har["log"]["entries"].as_array().expect("entries");
        assert_eq!(har["log"]["version"], "1.2");
        let post = entries.last().expect("the token request");
        assert_eq!(post["request"]["method"], "POST");
        assert_eq!(post["response"]["status"], 400);
        assert_eq!(post["startedDateTime"], "2025-11-24T16:00:00.000Z");
        let text = to_har(&live_like());
        assert!(
            !text.contains("SplxlOBeZQQYbYS6WxSbIA"),
            "secret leaked into the HAR"
        );
    }

    #[test]
    fn standalone_svg_embeds_styles_and_namespace() {
        let svg = standalone_svg("<svg class=\"diagram\" viewBox=\"0 0 10 10\"><g></g></svg>");
        assert!(svg.contains("xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("<style>svg.diagram { --bg"));
        assert!(svg.contains(".diagram .arrow"));
        assert!(svg.ends_with("<g></g></svg>"));
    }

    /// The pitfalls a learner must meet, on the step each belongs to: (run, step kind, words).
    fn pitfalls() -> Vec<(&'static str, Timeline, StepKind, &'static str)> {
        use crate::diagram::corpus::{forged_callback, live_ok};
        vec![
            (
                "live",
                live_ok(),
                StepKind::TokenResponse,
                "an access token is not identity",
            ),
            (
                "live",
                live_ok(),
                StepKind::CheckCallback,
                "logs you in to THEIR account",
            ),
            (
                "live forged",
                forged_callback(),
                StepKind::CheckCallback,
                "login CSRF",
            ),
            (
                "explain",
                script(Variant::PkcePublic),
                StepKind::TokenResponse,
                "an access token is not identity",
            ),
            (
                "explain",
                script(Variant::PkcePublic),
                StepKind::CheckCallback,
                "logs you in to THEIR account",
            ),
            (
                "explain implicit",
                script(Variant::Implicit),
                StepKind::RedirectBack,
                "must not use the implicit grant",
            ),
        ]
    }

    #[test]
    fn pitfall_callouts_stay_on_their_steps_and_in_the_mermaid_export() {
        for (run, timeline, kind, words) in pitfalls() {
            // The callouts come from the teaching text catalog, as the page resolves them.
            let timeline = timeline.with_text_resolved(Some(crate::text::host_catalog()), "");
            let (index, step) = timeline.last_of(kind).expect("the step");
            let callout = step.callout.as_deref().unwrap_or_default();
            assert!(
                callout.contains(words),
                "{run}: {kind:?} lost its callout: {callout:?}"
            );
            let text = to_mermaid(&timeline);
            let lines: Vec<&str> = text.lines().collect();
            // The callout note follows its step's own line (the header takes the first lines).
            let header = lines.iter().position(|l| l.contains("%%")).unwrap() + 1;
            let note = lines[header
                + index
                + timeline.steps()[..index]
                    .iter()
                    .filter(|s| s.callout.is_some())
                    .count()
                + 1];
            assert!(
                note.contains("⚠") && note.contains(&mermaid_text(words)),
                "{run}: step {} ({kind:?}) has no callout note after it: {note:?}\n{text}",
                index + 1
            );
        }
    }

    #[test]
    fn p07_server_checks_are_notes_on_the_server_lane_from_their_step_in_mermaid() {
        let text = to_mermaid(&crate::diagram::corpus::live_refused());
        assert!(
            text.contains(
                "Note over AS: Server checks BASE64URL(SHA-256(code_verifier)) = code_challenge"
            ),
            "{text}"
        );
        assert!(
            text.contains("(from step 6) ✕ Refused: 400 invalid_grant: PKCE verification failed"),
            "{text}"
        );
        let live = to_mermaid(&crate::diagram::corpus::live_ok());
        assert!(
            live.contains("Note over RS: API checks the token"),
            "{live}"
        );
    }

    /// The exports' worker exports the run the page posts it in its stored form
    /// (`Timeline::to_json`, masks only): for every timeline the app draws, that gives the same
    /// SVG, Mermaid and HAR as the run itself, so moving the exporters off the page changed no
    /// export.
    #[test]
    fn exports_of_the_stored_run_the_worker_receives_equal_the_runs_own() {
        for (name, t) in crate::diagram::corpus::all() {
            let received = Timeline::from_json(&t.to_json());
            assert!(!received.is_empty(), "{name}: the stored run reads back");
            assert_eq!(to_mermaid(&received), to_mermaid(&t), "{name}: Mermaid");
            assert_eq!(to_har(&received), to_har(&t), "{name}: HAR");
            assert_eq!(
                crate::diagram::svg::to_svg(&received),
                crate::diagram::svg::to_svg(&t),
                "{name}: SVG"
            );
        }
    }

    #[test]
    fn iso8601_matches_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
    }
}
