//! PURE: the whole diagram of a timeline as a standalone SVG file, drawn from `layout`'s
//! geometry with the live diagram's classes (so the same stylesheet draws both). It reads the
//! timeline only: not the page, not the replay position, and never a secret (the timeline's
//! steps hold masks only).

use super::export::standalone_svg;
use super::layout::{card_width, layout, Row, Shape, CHIP_ROW_HEIGHT, HEADER_HEIGHT, LINE_HEIGHT};
use super::num::n;
use super::view::{arrow_path, format_duration, row_name, short_name};
use crate::flow::timeline::{Channel, Step, Timeline};
use std::fmt::Write;

/// Width of the exported drawing: the wide layout (print and files use the light, wide one).
pub const EXPORT_WIDTH: f64 = super::layout::WIDE_WIDTH;

/// Escapes text for an SVG text node or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 forbids most control characters even escaped: drop them.
            c if c.is_control() && !matches!(c, '\n' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// The channel's short name, as the row's `data-channel` and class carry it.
pub fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Front => "front",
        Channel::Back => "back",
        Channel::Local => "local",
        Channel::UserAction => "user",
    }
}

/// The row's classes: status, channel, and the marks of explain mode and the attack lab.
pub fn row_class(step: &Step) -> String {
    format!("row {} {}", step.status.css(), row_marks(step))
}

/// The row's classes that stay the same over its step's life (all but the status): the
/// channel, and the marks of explain mode and the attack lab.
pub fn row_marks(step: &Step) -> String {
    let mut class = format!("ch-{}", channel_name(step.channel));
    for (on, name) in [
        (step.difference.is_some(), " differs"),
        (step.ghost, " ghost"),
        (step.defence.is_some(), " defence"),
        (
            step.from == crate::flow::timeline::Actor::Attacker,
            " attacker",
        ),
    ] {
        if on {
            class.push_str(name);
        }
    }
    class
}

/// The whole run as a standalone SVG file (namespace, light theme and stylesheet embedded).
pub fn to_svg(timeline: &Timeline) -> String {
    let g = layout(timeline.steps(), EXPORT_WIDTH);
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "<svg class=\"diagram\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" \
         aria-label=\"Sequence diagram of the OAuth flow\"><defs>{}{}</defs>",
        n(g.width),
        n(g.height),
        n(g.width),
        n(g.height),
        marker("head", "head"),
        marker("head-failed", "head failed"),
    );
    lanes(&mut out, &g);
    for row in &g.rows {
        if let Some(step) = timeline.steps().get(row.step) {
            row_svg(&mut out, row, step, &g);
        }
    }
    out.push_str("</svg>");
    standalone_svg(&out)
}

fn marker(id: &str, class: &str) -> String {
    format!(
        "<marker id=\"{id}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" \
         class=\"{class}\"/></marker>"
    )
}

fn lanes(out: &mut String, g: &super::layout::DiagramLayout) {
    let (left, right) = g.browser_band;
    let card = card_width(g.width);
    let narrow = g.width < 600.0;
    let _ = write!(
        out,
        "<g class=\"lanes\"><rect class=\"band\" x=\"{}\" y=\"2\" width=\"{}\" height=\"{}\" \
         rx=\"10\"/><text class=\"band-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">your \
         browser</text>",
        n(left),
        n(right - left),
        n(g.height - 4.0),
        n((left + right) / 2.0),
        n(g.height - 8.0),
    );
    for lane in &g.lanes {
        let name = if narrow {
            short_name(lane.actor)
        } else {
            lane.actor.label()
        };
        let _ = write!(
            out,
            "<g class=\"lane\"><line class=\"lifeline\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" \
             y2=\"{}\"/><rect class=\"lane-card\" x=\"{}\" y=\"6\" width=\"{}\" height=\"{}\" \
             rx=\"8\"/><text class=\"lane-name\" x=\"{x}\" y=\"26\" \
             text-anchor=\"middle\">{}</text>",
            n(HEADER_HEIGHT - 6.0),
            n(g.height - 20.0),
            n(lane.x - card / 2.0),
            n(card),
            n(HEADER_HEIGHT - 16.0),
            escape(name),
            x = n(lane.x),
        );
        if !narrow {
            let _ = write!(
                out,
                "<text class=\"lane-role\" x=\"{}\" y=\"42\" text-anchor=\"middle\">{}</text>",
                n(lane.x),
                escape(lane.role)
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</g>");
}

fn row_svg(out: &mut String, row: &Row, step: &Step, g: &super::layout::DiagramLayout) {
    let _ = write!(
        out,
        "<g class=\"{}\" data-step=\"{}\" data-kind=\"{:?}\" data-status=\"{}\" \
         data-channel=\"{}\"",
        row_class(step),
        row.step,
        step.kind,
        step.status.css(),
        channel_name(step.channel),
    );
    if step.ghost {
        out.push_str(" data-ghost=\"true\"");
    }
    if let Some(defence) = &step.defence {
        let _ = write!(out, " data-defence=\"{}\"", escape(defence));
    }
    let _ = write!(
        out,
        "><title>{}</title><rect class=\"hit\" x=\"0\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
        escape(&row_name(row.step, step, row)),
        n(row.top),
        n(g.width),
        n(row.height),
    );
    if step.difference.is_some() {
        let _ = write!(
            out,
            "<text class=\"differs-mark\" x=\"4\" y=\"{}\">≠</text>",
            n(row.y + 4.0)
        );
    }
    let anchor = match row.shape {
        Shape::Arrow { x1, x2, via } => {
            let marker = if row.failed {
                "url(#head-failed)"
            } else {
                "url(#head)"
            };
            let paths: Vec<String> = if row.legs.is_empty() {
                vec![arrow_path(x1, x2, via, row.y)]
            } else {
                row.legs
                    .iter()
                    .map(|leg| arrow_path(leg.x1, leg.x2, None, leg.y))
                    .collect()
            };
            for d in paths {
                let _ = write!(
                    out,
                    "<path class=\"arrow\" d=\"{d}\" marker-end=\"{marker}\"/>"
                );
            }
            out.push_str("<text class=\"leg-tag\" text-anchor=\"middle\">");
            for leg in row.legs.iter().filter(|l| !l.tag.is_empty()) {
                let _ = write!(
                    out,
                    "<tspan x=\"{}\" y=\"{}\">{}</tspan>",
                    n(leg.tag_x),
                    n(leg.tag_y),
                    escape(leg.tag)
                );
            }
            out.push_str("</text>");
            if row.failed {
                let _ = write!(
                    out,
                    "<text class=\"cross\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">✕</text>",
                    n(x2),
                    n(row.y + 5.0)
                );
            }
            "middle"
        }
        Shape::Note { x, width } => {
            let _ = write!(
                out,
                "<rect class=\"note-box\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"8\"/>",
                n(x),
                n(row.top + 3.0),
                n(width),
                n(row.height - 8.0)
            );
            "start"
        }
    };
    if let Some(callout) = &step.callout {
        let _ = write!(
            out,
            "<text class=\"callout-mark\" x=\"16\" y=\"{}\">⚠<title>{}</title></text>",
            n(row.number_y + 4.0),
            escape(callout)
        );
    }
    let _ = write!(
        out,
        "<circle class=\"num\" cx=\"{x}\" cy=\"{y}\" r=\"9\"/><text class=\"num-text\" \
         x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        n(row.number_y + 4.0),
        row.step + 1,
        x = n(row.number_x),
        y = n(row.number_y),
    );
    let label_x = n(row.label_x);
    if !row.chips.is_empty() {
        let chips_y = row.label_y + row.label_lines.len() as f64 * LINE_HEIGHT - 2.0;
        let _ = write!(
            out,
            "<text class=\"chips\" x=\"{label_x}\" y=\"{}\" text-anchor=\"{anchor}\">",
            n(chips_y)
        );
        for (i, line) in row.chips.iter().enumerate() {
            let dy = if i == 0 {
                "0".to_owned()
            } else {
                n(CHIP_ROW_HEIGHT)
            };
            let _ = write!(
                out,
                "<tspan x=\"{label_x}\" dy=\"{dy}\">{}</tspan>",
                escape(line)
            );
        }
        out.push_str("</text>");
    }
    let duration = step.duration_ms.map(format_duration).unwrap_or_default();
    let _ = write!(
        out,
        "<text class=\"duration\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        n(g.duration_x),
        n(row.y + 4.0),
        escape(&duration)
    );
    let _ = write!(
        out,
        "<text class=\"label\" x=\"{label_x}\" y=\"{}\" text-anchor=\"{anchor}\">",
        n(row.label_y)
    );
    for (i, line) in row.label_lines.iter().enumerate() {
        let dy = if i == 0 {
            "0".to_owned()
        } else {
            n(LINE_HEIGHT)
        };
        let class = if line.starts_with('✕') {
            " class=\"reason\""
        } else if line.starts_with('✔') {
            " class=\"shield\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<tspan x=\"{label_x}\" dy=\"{dy}\"{class}>{}</tspan>",
            escape(line)
        );
    }
    out.push_str("</text></g>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagram::corpus;
    use crate::diagram::export::{to_har, to_mermaid};
    use crate::diagram::replay::Replay;
    use crate::flow::timeline::{Actor, HttpExchange, Param, StepKind};
    #[cfg(not(target_arch = "wasm32"))]
    use proptest::prelude::*;

    fn rows(svg: &str) -> usize {
        svg.matches("<g class=\"row ").count()
    }

    /// Every text a timeline leaves the app's memory as: saved JSON, a clone's JSON and Debug,
    /// the masked copy, and each exporter.
    fn every_output(t: &Timeline) -> Vec<(&'static str, String)> {
        let copy = t.clone();
        vec![
            ("saved JSON", t.to_json()),
            ("clone's JSON", copy.to_json()),
            ("Debug of a clone", format!("{copy:?}")),
            ("masked copy", format!("{:?}", t.masked_copy())),
            ("SVG", to_svg(t)),
            ("Mermaid", to_mermaid(t)),
            ("HAR", to_har(t)),
        ]
    }

    #[test]
    fn svg_export_draws_every_corpus_step_as_one_row_with_its_arrow_or_note() {
        for (name, t) in corpus::all() {
            let svg = to_svg(&t);
            assert!(
                svg.starts_with("<?xml") && svg.ends_with("</svg>"),
                "{name}"
            );
            assert_eq!(rows(&svg), t.len(), "{name}: one row per step");
            let g = layout(t.steps(), EXPORT_WIDTH);
            for (row, markup) in g.rows.iter().zip(svg.split("<g class=\"row ").skip(1)) {
                let step = &t.steps()[row.step];
                assert!(
                    markup.contains(&format!("data-kind=\"{:?}\"", step.kind)),
                    "{name}: row {} out of order",
                    row.step
                );
                match row.shape {
                    Shape::Arrow { .. } => {
                        let expected = row.legs.len().max(1);
                        assert_eq!(
                            markup.matches("class=\"arrow\"").count(),
                            expected,
                            "{name}: step {} has its arrow (two legs through the bar)",
                            row.step
                        );
                    }
                    Shape::Note { .. } => assert!(markup.contains("note-box"), "{name}"),
                }
                assert!(
                    markup.contains(&format!(">{}</text>", row.step + 1)),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn svg_export_is_the_whole_run_whatever_the_replay_position() {
        let t = corpus::live_ok();
        let mut replay = Replay::default();
        replay.seek(1, t.len());
        assert_eq!(
            replay.visible(t.len()),
            1,
            "the live diagram would draw one row"
        );
        let svg = to_svg(&t);
        assert_eq!(rows(&svg), t.len());
        // Drawn from the steps alone: a restored copy (nothing in memory) draws the same file.
        assert_eq!(svg, to_svg(&Timeline::from_json(&t.to_json())));
        assert!(!svg.contains("id=\"diagram\""), "not copied from the page");
    }

    #[test]
    fn svg_export_escapes_hostile_labels_notes_and_chips() {
        let hostile = "<script>alert(1)</script>\"><svg onload=alert(2)>&amp;'\u{1}";
        let mut t = corpus::live_ok();
        t.push(
            Step::new(
                StepKind::ResourceResponse,
                Actor::ResourceServer,
                Actor::ClientApp,
                Channel::Back,
                hostile,
                9_000,
            )
            .with_callout(hostile)
            .with_defence(hostile)
            .with_params(vec![Param::public("error_description", hostile)])
            .with_exchange(HttpExchange::default()),
        );
        t.fail(t.len() - 1, hostile, 9_001);
        let svg = to_svg(&t);
        // The drawing after the embedded stylesheet (whose fonts are quoted with ').
        let drawing = svg.split_once("</style>").expect("a stylesheet").1;
        for raw in ["<script", "<svg onload", "'", "\u{1}", "&amp;'"] {
            assert!(
                !drawing.contains(raw),
                "unescaped {raw:?} in the SVG export"
            );
        }
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(
            svg.contains("&amp;amp;&#39;"),
            "ampersands escaped once more"
        );
        assert_eq!(rows(&svg), t.len());
    }

    #[test]
    fn s02_no_corpus_run_leaves_a_secret_it_keeps_in_memory_in_any_output() {
        for (name, t) in corpus::all() {
            let kept: Vec<&str> = t.secrets().exposed().filter(|v| v.len() >= 6).collect();
            for (output, text) in every_output(&t) {
                for secret in &kept {
                    assert!(!text.contains(secret), "{name}: {output} holds a secret");
                }
            }
        }
        let live = corpus::live_ok();
        assert!(
            live.secrets()
                .exposed()
                .any(|v| v == "SplxlOBeZQQYbYS6WxSbIA"),
            "the code is kept for the inspector's Reveal"
        );
    }

    // proptest is a host-only dev-dependency (Cargo.toml).
    #[cfg(not(target_arch = "wasm32"))]
    proptest! {
        #[test]
        fn s02_secrets_of_any_value_stay_out_of_json_clones_and_every_export(
            secrets in proptest::collection::vec("[A-Za-z0-9._~-]{12,64}", 1..6),
            names in proptest::collection::vec("[a-z_]{1,12}", 6),
        ) {
            let mut t = Timeline::new();
            for (i, value) in secrets.iter().enumerate() {
                let name = &names[i % names.len()];
                let id = t.push(
                    Step::new(
                        StepKind::TokenRequest,
                        Actor::ClientApp,
                        Actor::AuthorizationServer,
                        if i % 2 == 0 { Channel::Back } else { Channel::Front },
                        "Exchange the code",
                        i as u64,
                    )
                    .with_params(vec![
                        Param::public("grant_type", "authorization_code"),
                        Param::secret(name, crate::protocol::secret::mask(value), value),
                    ])
                    .with_exchange(HttpExchange {
                        method: "POST".into(),
                        url: "https://as.example/token".into(),
                        request_body: Some(format!("{name}=masked")),
                        status: Some(200),
                        ..Default::default()
                    }),
                );
                // Also a secret chip added to a step already in the timeline.
                if let Some(step) = t.step_mut(id) {
                    step.params.push(Param::secret("late", "••".into(), value));
                }
                t.complete(id, i as u64 + 5);
            }
            for (output, text) in every_output(&t) {
                for value in &secrets {
                    prop_assert!(!text.contains(value.as_str()), "{} holds {}", output, value);
                }
            }
            for (i, value) in secrets.iter().enumerate() {
                let name = &names[i % names.len()];
                prop_assert_eq!(t.revealable(i, name).map(|v| v.expose()), Some(value.as_str()));
                prop_assert_eq!(t.revealable(i, "late").map(|v| v.expose()), Some(value.as_str()));
                prop_assert!(t.masked_copy().revealable(i, name).is_none());
            }
        }
    }
}
