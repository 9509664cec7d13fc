//! PURE geometry of the sequence diagram: lane positions, one row per step, label wrapping.
//! Components only draw what this computes, so every rule here is host-tested.

use crate::flow::timeline::{involves_attacker, Actor, Channel, Step, StepStatus};

/// Height of the lane header cards.
pub const HEADER_HEIGHT: f64 = 64.0;
/// Line height of wrapped labels.
pub const LINE_HEIGHT: f64 = 15.0;
/// Height of the row of parameter chips.
pub const CHIP_ROW_HEIGHT: f64 = 18.0;
/// Smallest height of a row.
pub const MIN_ROW_HEIGHT: f64 = 46.0;
/// Average glyph width of the bold 12.5 px labels (DejaVu Sans, the widest common fallback, as
/// measured in Chromium), used to wrap them without measuring text.
pub const CHAR_WIDTH: f64 = 7.8;
/// Width kept at the right for the durations.
pub const DURATION_GUTTER: f64 = 56.0;
/// Below this width chips collapse into a count and labels use the narrow layout.
pub const NARROW_WIDTH: f64 = 640.0;
/// Gap between a note and its lifeline.
const NOTE_GAP: f64 = 10.0;
/// Width of the SVG's coordinate system on wide screens (the SVG scales to its panel).
pub const WIDE_WIDTH: f64 = 1000.0;
/// Width of the SVG's coordinate system on phones.
pub const PHONE_WIDTH: f64 = 390.0;

/// The SVG's coordinate width for a viewport `viewport_px` CSS pixels wide.
pub fn svg_width(viewport_px: f64) -> f64 {
    if viewport_px < PHONE_WIDTH + 250.0 {
        PHONE_WIDTH
    } else {
        WIDE_WIDTH
    }
}

/// Width of a lane's header card.
pub fn card_width(width: f64) -> f64 {
    if width < 600.0 {
        46.0
    } else {
        132.0
    }
}

/// Average glyph width of the 10 px leg tags.
pub const TAG_CHAR_WIDTH: f64 = 5.4;
/// Gap between the two legs of a front-channel hop (page → address bar → server).
pub const LEG_GAP: f64 = 16.0;
/// One lifeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    /// Who it is.
    pub actor: Actor,
    /// x of the lifeline.
    pub x: f64,
    /// One-line role under the name.
    pub role: &'static str,
}

/// What a row draws.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// An arrow from `x1` to `x2`; front-channel arrows pass through the address bar at `via`.
    Arrow {
        /// Start x.
        x1: f64,
        /// End x.
        x2: f64,
        /// The Browser lane's x when the arrow is routed through the address bar.
        via: Option<f64>,
    },
    /// A note box on a lifeline for local work.
    Note {
        /// Left edge of the box.
        x: f64,
        /// Width of the box.
        width: f64,
    },
}

/// One leg of a front-channel hop through the address bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Leg {
    /// Start x.
    pub x1: f64,
    /// End x (the arrowhead).
    pub x2: f64,
    /// y of the leg.
    pub y: f64,
    /// What happens on this leg ("location = URL", "GET URL?query"); empty when narrow.
    pub tag: &'static str,
    /// Centre of the tag: over the part of the leg the other leg does not run along.
    pub tag_x: f64,
    /// Baseline of the tag, between the two legs.
    pub tag_y: f64,
}

/// One step's geometry.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Index of the step in the timeline.
    pub step: usize,
    /// Top of the row's band.
    pub top: f64,
    /// Height of the row's band.
    pub height: f64,
    /// y of the arrow (or the note's top).
    pub y: f64,
    /// Arrow or note.
    pub shape: Shape,
    /// The label, already wrapped.
    pub label_lines: Vec<String>,
    /// Where the label block is centred (arrows) or starts (notes).
    pub label_x: f64,
    /// y of the first label line's baseline.
    pub label_y: f64,
    /// Lines of parameter names under the label (wrapped), or one "n params" line when narrow.
    pub chips: Vec<String>,
    /// x of the step-number circle.
    pub number_x: f64,
    /// y of the step-number circle (the first leg's y for a hop through the address bar).
    pub number_y: f64,
    /// The two legs of a front-channel hop through the address bar; empty otherwise.
    pub legs: Vec<Leg>,
    /// The earlier step a server's check refers to ("from step N"), drawn as a connector.
    pub refers_to: Option<usize>,
    /// Whether the step failed (drawn red with a cross).
    pub failed: bool,
}

/// The whole diagram.
#[derive(Clone, Debug, PartialEq)]
pub struct DiagramLayout {
    /// SVG width.
    pub width: f64,
    /// SVG height.
    pub height: f64,
    /// Lifelines, left to right.
    pub lanes: Vec<Lane>,
    /// Left and right x of the "your browser" band around Browser and Client app.
    pub browser_band: (f64, f64),
    /// One row per step, in timeline order.
    pub rows: Vec<Row>,
    /// x of the duration column.
    pub duration_x: f64,
}

/// x of an actor's lifeline for a given total width (`attacker`: the run has an attacker lane).
/// Lanes are spread evenly over the drawable width, with room for the outer header cards.
pub fn lane_x(actor: Actor, width: f64, attacker: bool) -> f64 {
    let mut order = Actor::ALL.to_vec();
    if attacker {
        order.insert(3, Actor::Attacker);
    }
    let index = order.iter().position(|a| *a == actor).unwrap_or(0) as f64;
    let drawable = (width - DURATION_GUTTER).max(1.0);
    let margin = card_width(width) / 2.0 + 4.0;
    let step = (drawable - 2.0 * margin) / (order.len() - 1) as f64;
    (margin + index * step).round()
}

/// One-line role shown under each lane's name.
pub fn lane_role(actor: Actor) -> &'static str {
    match actor {
        Actor::User => "holds the password",
        Actor::Browser => "address bar: URLs leak",
        Actor::ClientApp => "holds the verifier",
        Actor::AuthorizationServer => "issues the tokens",
        Actor::ResourceServer => "accepts the token",
        Actor::Attacker => "has what leaked",
    }
}

/// Greedy word wrap to at most `max_chars` per line; a word longer than a line is split.
/// Never returns an empty vector.
pub fn wrap_label(text: &str, max_chars: usize) -> Vec<String> {
    let max_chars = max_chars.max(4);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for mut word in text.split_whitespace() {
        // A word longer than a line: its first `max_chars` characters, until the rest fits.
        while let Some((cut, _)) = word.char_indices().nth(max_chars) {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word[..cut].to_owned());
            word = &word[cut..];
        }
        let needed = if line.is_empty() {
            word.chars().count()
        } else {
            line.chars().count() + 1 + word.chars().count()
        };
        if needed > max_chars && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The lifelines to draw for `steps`, left to right: the attacker's only when a step involves it.
pub fn lanes_for(steps: &[Step]) -> Vec<Actor> {
    let mut actors = Actor::ALL.to_vec();
    if involves_attacker(steps) {
        actors.insert(3, Actor::Attacker);
    }
    actors
}

/// Lays out every step of the timeline for an SVG `width` pixels wide.
pub fn layout(steps: &[Step], width: f64) -> DiagramLayout {
    let width = width.max(320.0);
    let narrow = width < NARROW_WIDTH;
    let attacker = involves_attacker(steps);
    let lanes: Vec<Lane> = lanes_for(steps)
        .into_iter()
        .map(|actor| Lane {
            actor,
            x: lane_x(actor, width, attacker),
            role: lane_role(actor),
        })
        .collect();
    let x = |actor| lane_x(actor, width, attacker);
    // The band wraps the two cards with a little room, short of the neighbours' cards.
    let pad = card_width(width) / 2.0 + 6.0;
    let browser_band = (x(Actor::Browser) - pad, x(Actor::ClientApp) + pad);
    let duration_x = width - 6.0;
    let mut rows = Vec::with_capacity(steps.len());
    let mut top = HEADER_HEIGHT + 8.0;
    for (index, step) in steps.iter().enumerate() {
        let mut row = layout_row(index, step, top, width, narrow, attacker);
        row.refers_to = crate::flow::server_check::refers_to(steps, index);
        if let Some(earlier) = row.refers_to {
            // "from step N" under the label: the check compares with what that step carried.
            row.label_lines.push(format!("↑ from step {}", earlier + 1));
            row.height += LINE_HEIGHT;
        }
        top += row.height;
        rows.push(row);
    }
    DiagramLayout {
        width,
        height: top + 16.0,
        lanes,
        browser_band,
        rows,
        duration_x,
    }
}

fn layout_row(
    index: usize,
    step: &Step,
    top: f64,
    width: f64,
    narrow: bool,
    attacker: bool,
) -> Row {
    let from = lane_x(step.from, width, attacker);
    let to = lane_x(step.to, width, attacker);
    let is_note = step.from == step.to || step.channel == Channel::Local;
    let (shape, label_x, max_label_width) = if is_note {
        // Notes sit right of their lifeline unless there is no room, then left of it.
        let note_width = if narrow { 150.0 } else { 230.0 };
        let right_room = width - DURATION_GUTTER - from - NOTE_GAP;
        let x = if right_room >= note_width {
            from + NOTE_GAP
        } else {
            (from - NOTE_GAP - note_width).max(2.0)
        };
        (
            Shape::Note {
                x,
                width: note_width,
            },
            x + 8.0,
            note_width - 16.0,
        )
    } else {
        let via = (step.channel == Channel::Front
            && step.from != Actor::Browser
            && step.to != Actor::Browser)
            .then(|| lane_x(Actor::Browser, width, attacker));
        let left = from.min(to).min(via.unwrap_or(f64::MAX));
        let right = from.max(to).max(via.unwrap_or(f64::MIN));
        // A label may be wider than a short arrow (evenly spread lanes are close on a phone):
        // it keeps a readable width and is shifted to stay inside the drawing.
        let label_width = (right - left - 16.0).max(if narrow { 170.0 } else { 240.0 });
        let half = label_width / 2.0;
        (
            Shape::Arrow {
                x1: from,
                x2: to,
                via,
            },
            // min/max, not clamp: clamp's assertion formats f64, which pulls core's float
            // formatting into the wasm (7.6 KB gzip).
            ((left + right) / 2.0)
                .min(width - DURATION_GUTTER - half)
                .max(half + 4.0)
                .round(),
            label_width,
        )
    };
    // Notes are narrow and often carry capitals and digits (BASE64URL, SHA-256), which are
    // wider than the average glyph: keep a margin.
    let fill = if is_note { 0.92 } else { 1.0 };
    let max_chars = (max_label_width * fill / CHAR_WIDTH).floor() as usize;
    let chips = if step.params.is_empty() {
        Vec::new()
    } else if narrow {
        vec![format!("{} params", step.params.len())]
    } else {
        let names: Vec<&str> = step.params.iter().map(|p| p.name.as_str()).collect();
        wrap_label(&names.join(" · "), max_chars)
    };
    let label = if step.ghost {
        format!("Without the defence: {}", step.label)
    } else {
        step.label.clone()
    };
    let mut label_lines = wrap_label(&label, max_chars);
    if let StepStatus::Failed { reason } = &step.status {
        // The reason is part of the label so it gets the same wrapping and spacing.
        label_lines.extend(wrap_label(&format!("✕ {reason}"), max_chars));
    }
    if let Some(defence) = &step.defence {
        label_lines.extend(wrap_label(&format!("✔ {defence}"), max_chars));
    }
    let text_height = label_lines.len() as f64 * LINE_HEIGHT;
    let chip_height = chips.len() as f64 * CHIP_ROW_HEIGHT;
    let via = match shape {
        Shape::Arrow { via, .. } => via,
        Shape::Note { .. } => None,
    };
    let legs_height = if via.is_some() { LEG_GAP } else { 0.0 };
    let height = (text_height + chip_height + legs_height + 22.0).max(MIN_ROW_HEIGHT);
    let label_y = top + 14.0;
    let y = if is_note {
        top + 2.0
    } else {
        (label_y + text_height - LINE_HEIGHT + chip_height + legs_height + 8.0)
            .min(top + height - 6.0)
    };
    // A hop through the address bar is two arrows: to the Browser (the page sets location, or
    // the server answers with a redirect), then from the Browser (a GET carrying the query).
    let legs = via
        .map(|v| {
            let (first, second) = if narrow {
                ("", "")
            } else if step.from == Actor::ClientApp {
                ("location = URL", "GET URL?query")
            } else {
                ("302 Location: URL", "GET URL?query")
            };
            // Both legs start or end at the Browser: the shorter one's tag sits over it, the
            // longer one's over the stretch beyond the shorter one.
            let (near, far) = if (from - v).abs() <= (to - v).abs() {
                (from, to)
            } else {
                (to, from)
            };
            let tag_x = |end: f64| {
                if end == near {
                    ((v + near) / 2.0).round()
                } else {
                    ((near + far) / 2.0).round()
                }
            };
            let tag_y = y - 4.0;
            vec![
                Leg {
                    x1: from,
                    x2: v,
                    y: y - LEG_GAP,
                    tag: first,
                    tag_x: tag_x(from),
                    tag_y,
                },
                Leg {
                    x1: v,
                    x2: to,
                    y,
                    tag: second,
                    tag_x: tag_x(to),
                    tag_y,
                },
            ]
        })
        .unwrap_or_default();
    let number_y = legs.first().map_or(y, |leg| leg.y);
    Row {
        step: index,
        top,
        height,
        y,
        shape,
        label_lines,
        label_x,
        label_y,
        chips,
        number_x: from,
        number_y,
        legs,
        refers_to: None,
        failed: step.is_failed(),
    }
}

/// Horizontal extent of a row's label block, using the same glyph width as the wrapping.
pub fn label_extent(row: &Row) -> (f64, f64) {
    let longest = row
        .label_lines
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0) as f64
        * CHAR_WIDTH;
    match row.shape {
        Shape::Note { .. } => (row.label_x, row.label_x + longest),
        Shape::Arrow { .. } => (row.label_x - longest / 2.0, row.label_x + longest / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::timeline::{Param, StepKind};

    fn step(kind: StepKind, from: Actor, to: Actor, channel: Channel, label: &str) -> Step {
        Step::new(kind, from, to, channel, label, 0)
    }

    /// The live flow's steps, as the engine appends them.
    fn live_flow() -> Vec<Step> {
        use Actor::*;
        use Channel::*;
        use StepKind::*;
        let mut steps = vec![
            step(
                Discover,
                ClientApp,
                AuthorizationServer,
                Back,
                "Fetch the provider's metadata",
            ),
            step(
                GenerateVerifier,
                ClientApp,
                ClientApp,
                Local,
                "Generate a random code_verifier",
            ),
            step(
                DeriveChallenge,
                ClientApp,
                ClientApp,
                Local,
                "Hash it: code_challenge = BASE64URL(SHA-256(verifier))",
            ),
            step(
                GenerateState,
                ClientApp,
                ClientApp,
                Local,
                "Generate a random state",
            ),
            step(
                SavePending,
                ClientApp,
                ClientApp,
                Local,
                "Remember state and verifier in sessionStorage",
            ),
            step(
                RedirectToAuthorize,
                ClientApp,
                AuthorizationServer,
                Front,
                "Send the browser to the provider's authorization endpoint",
            ),
            step(
                UserAtProvider,
                User,
                AuthorizationServer,
                UserAction,
                "Sign in and consent at the provider",
            ),
            step(
                RedirectBack,
                AuthorizationServer,
                ClientApp,
                Front,
                "Redirect back to the app with the result",
            ),
            step(
                CheckCallback,
                ClientApp,
                ClientApp,
                Local,
                "Check state and iss before trusting anything",
            ),
            step(
                TokenRequest,
                ClientApp,
                AuthorizationServer,
                Back,
                "Exchange the code (and verifier) for tokens",
            ),
            step(
                TokenResponse,
                AuthorizationServer,
                ClientApp,
                Back,
                "Tokens come back in the response body",
            ),
            step(
                ResourceRequest,
                ClientApp,
                ResourceServer,
                Back,
                "Call the API: GET /api/profile",
            ),
            step(
                ResourceResponse,
                ResourceServer,
                ClientApp,
                Back,
                "API answers 200",
            ),
        ];
        steps[5].params = [
            "response_type",
            "client_id",
            "scope",
            "state",
            "code_challenge",
        ]
        .iter()
        .map(|n| Param::public(n, "x"))
        .collect();
        steps[8].status = StepStatus::Failed {
            reason: "The state in the answer does not match any login this tab started, \
                     so it was refused."
                .into(),
        };
        steps
    }

    fn overlaps(a: (f64, f64), b: (f64, f64)) -> bool {
        a.0 < b.1 && b.0 < a.1
    }

    #[test]
    fn no_two_labels_overlap_for_the_full_flow_at_1280_px() {
        assert_no_label_overlaps(&layout(&live_flow(), 1280.0));
    }

    #[test]
    fn no_two_labels_overlap_in_an_attack_run_and_all_stay_inside_at_1280_and_390_px() {
        assert_no_label_overlaps(&layout(&attack_flow(), 1280.0));
        for width in [1280.0, 390.0] {
            let g = layout(&attack_flow(), width);
            assert_eq!(g.lanes.len(), 6);
            for row in &g.rows {
                let (left, right) = label_extent(row);
                assert!(
                    left >= 0.0 && right <= width,
                    "{width}: {:?}",
                    row.label_lines
                );
            }
        }
    }

    /// The live flow followed by the stolen-code attack and the forged link's ghost path.
    fn attack_flow() -> Vec<Step> {
        use Actor::*;
        let mut steps = live_flow();
        let mut refused = step(
            StepKind::AttackResponse,
            AuthorizationServer,
            Attacker,
            Channel::Back,
            "Refused: 400 invalid_grant",
        )
        .with_defence("PKCE: the guess does not hash to the challenge");
        refused.status = StepStatus::Failed {
            reason: "the attacker gets no tokens".into(),
        };
        steps.extend([
            step(
                StepKind::Intercept,
                Browser,
                Attacker,
                Channel::Front,
                "The attacker gets your code from the address bar",
            ),
            step(
                StepKind::AttackRequest,
                Attacker,
                AuthorizationServer,
                Channel::Back,
                "Redeem the stolen code without a verifier",
            ),
            refused,
            step(
                StepKind::ForgedLink,
                Attacker,
                Browser,
                Channel::Front,
                "The victim opens the attacker's link",
            ),
            step(
                StepKind::TokenResponse,
                AuthorizationServer,
                ClientApp,
                Channel::Back,
                "Tokens for the ATTACKER's account",
            )
            .as_ghost(),
        ]);
        steps
    }

    fn assert_no_label_overlaps(layout: &DiagramLayout) {
        for (i, a) in layout.rows.iter().enumerate() {
            let a_box_y = (
                a.label_y - 12.0,
                a.label_y + a.label_lines.len() as f64 * LINE_HEIGHT,
            );
            assert!(
                a_box_y.0 >= a.top && a_box_y.1 <= a.top + a.height,
                "row {i}: label leaves its band"
            );
            for b in layout.rows.iter().skip(i + 1) {
                let b_box_y = (
                    b.label_y - 12.0,
                    b.label_y + b.label_lines.len() as f64 * LINE_HEIGHT,
                );
                if overlaps(label_extent(a), label_extent(b)) {
                    assert!(
                        !overlaps(a_box_y, b_box_y),
                        "rows {} and {} overlap",
                        a.step,
                        b.step
                    );
                }
            }
        }
    }

    #[test]
    fn the_attacker_lane_appears_only_in_attack_runs_between_the_page_and_the_provider() {
        assert_eq!(layout(&live_flow(), 1280.0).lanes.len(), 5);
        let mut steps = live_flow();
        let mut refused = step(
            StepKind::AttackResponse,
            Actor::AuthorizationServer,
            Actor::Attacker,
            Channel::Back,
            "Refused: 400 invalid_grant",
        )
        .with_defence("PKCE: no verifier, no tokens");
        refused.status = StepStatus::Failed {
            reason: "the attacker gets no tokens".into(),
        };
        steps.push(refused);
        let g = layout(&steps, 1280.0);
        let order: Vec<Actor> = g.lanes.iter().map(|l| l.actor).collect();
        assert_eq!(order[3], Actor::Attacker);
        assert!(
            g.lanes.windows(2).all(|w| w[0].x < w[1].x),
            "lanes left to right"
        );
        let last = g.rows.last().unwrap();
        assert!(last.label_lines.iter().any(|l| l.starts_with('✔')));
        // The refusal label fits between the attacker and the provider without overlapping
        // the lifelines' neighbours: at most four wrapped lines.
        assert!(last.label_lines.len() <= 4, "{:?}", last.label_lines);
        let (left, right) = label_extent(last);
        assert!(left >= 0.0 && right <= g.width);
    }

    #[test]
    fn labels_stay_inside_the_diagram_at_1280_and_390_px() {
        for width in [1280.0, 390.0] {
            let layout = layout(&live_flow(), width);
            for row in &layout.rows {
                let (left, right) = label_extent(row);
                assert!(
                    left >= 0.0 && right <= width,
                    "{width}: {left}..{right} {:?}",
                    row.label_lines
                );
            }
        }
    }

    #[test]
    fn arrows_are_ordered_as_the_timeline() {
        let layout = layout(&live_flow(), 1280.0);
        let tops: Vec<f64> = layout.rows.iter().map(|r| r.top).collect();
        assert!(tops.windows(2).all(|w| w[0] < w[1]));
        let order: Vec<usize> = layout.rows.iter().map(|r| r.step).collect();
        assert_eq!(order, (0..live_flow().len()).collect::<Vec<_>>());
    }

    #[test]
    fn front_channel_arrows_pass_through_the_address_bar_and_back_channel_ones_do_not() {
        let steps = live_flow();
        let layout = layout(&steps, 1280.0);
        let browser = lane_x(Actor::Browser, 1280.0, false);
        for (row, step) in layout.rows.iter().zip(&steps) {
            match (&row.shape, step.channel) {
                (Shape::Arrow { via, .. }, Channel::Front) => assert_eq!(*via, Some(browser)),
                (Shape::Arrow { via, .. }, _) => assert_eq!(*via, None),
                (Shape::Note { .. }, channel) => assert_eq!(channel, Channel::Local),
            }
        }
    }

    #[test]
    fn browser_and_client_app_share_one_band() {
        let layout = layout(&[], 1280.0);
        let (left, right) = layout.browser_band;
        let inside = |a: Actor| {
            let x = lane_x(a, 1280.0, false);
            x > left && x < right
        };
        assert!(inside(Actor::Browser) && inside(Actor::ClientApp));
        assert!(!inside(Actor::User) && !inside(Actor::AuthorizationServer));
    }

    #[test]
    fn failed_step_carries_its_reason_in_the_label() {
        let layout = layout(&live_flow(), 1280.0);
        let row = &layout.rows[8];
        assert!(row.failed);
        assert!(row.label_lines.iter().any(|l| l.starts_with('✕')));
    }

    #[test]
    fn narrow_screens_collapse_chips_into_a_count() {
        let layout = layout(&live_flow(), 390.0);
        assert_eq!(layout.rows[5].chips, vec!["5 params".to_owned()]);
    }

    #[test]
    fn chips_wrap_within_the_label_width() {
        let layout = layout(&live_flow(), 1280.0);
        let row = &layout.rows[5];
        let widest = row
            .chips
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0) as f64;
        let (left, right) = label_extent(row);
        assert!(widest * CHAR_WIDTH <= (right - left).max(widest * CHAR_WIDTH) + 1.0);
        assert!(row.chips.join(" · ").contains("code_challenge"));
    }

    /// Every box the view draws for a layout, as (what, left, top, right, bottom), using the
    /// same glyph width as the wrapping for text.
    fn drawn_boxes(g: &DiagramLayout) -> Vec<(String, f64, f64, f64, f64)> {
        let mut boxes = Vec::new();
        let card = card_width(g.width);
        for lane in &g.lanes {
            let name = format!("{:?} card", lane.actor);
            boxes.push((
                name,
                lane.x - card / 2.0,
                6.0,
                lane.x + card / 2.0,
                HEADER_HEIGHT - 10.0,
            ));
        }
        boxes.push((
            "band".into(),
            g.browser_band.0,
            2.0,
            g.browser_band.1,
            g.height - 2.0,
        ));
        for row in &g.rows {
            let what = |part: &str| format!("step {} {part}", row.step + 1);
            let bottom = row.top + row.height;
            let (left, right) = label_extent(row);
            boxes.push((what("label"), left, row.top, right, bottom));
            let chips = row
                .chips
                .iter()
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0) as f64
                * CHAR_WIDTH;
            let chips = match row.shape {
                Shape::Note { .. } => (row.label_x, row.label_x + chips),
                Shape::Arrow { .. } => (row.label_x - chips / 2.0, row.label_x + chips / 2.0),
            };
            boxes.push((what("chips"), chips.0, row.top, chips.1, bottom));
            boxes.push((
                what("number"),
                row.number_x - 9.0,
                row.number_y - 9.0,
                row.number_x + 9.0,
                row.number_y + 9.0,
            ));
            match row.shape {
                Shape::Note { x, width } => {
                    boxes.push((what("note"), x, row.top + 3.0, x + width, bottom - 5.0))
                }
                Shape::Arrow { x1, x2, via } => {
                    let xs = [x1, x2, via.unwrap_or(x1)];
                    let (l, r) = (
                        xs.iter().copied().fold(f64::MAX, f64::min),
                        xs.iter().copied().fold(f64::MIN, f64::max),
                    );
                    boxes.push((what("arrow"), l - 4.0, row.y - 10.0, r + 4.0, row.y + 5.0));
                    let _ = via;
                    for leg in &row.legs {
                        let half = leg.tag.chars().count() as f64 * TAG_CHAR_WIDTH / 2.0;
                        boxes.push((
                            what("leg tag"),
                            leg.tag_x - half,
                            leg.tag_y - 9.0,
                            leg.tag_x + half,
                            leg.tag_y + 2.0,
                        ));
                        boxes.push((
                            what("leg"),
                            leg.x1.min(leg.x2) - 4.0,
                            leg.y - 5.0,
                            leg.x1.max(leg.x2) + 4.0,
                            leg.y + 5.0,
                        ));
                    }
                }
            }
        }
        boxes
    }

    #[test]
    fn l1_every_box_label_and_chip_lies_inside_the_view_box_at_390_1280_and_1920_px() {
        let mut outside = Vec::new();
        for (name, timeline) in crate::diagram::corpus::all() {
            for viewport in [390.0, 1280.0, 1920.0] {
                let g = layout(timeline.steps(), svg_width(viewport));
                for (what, left, top, right, bottom) in drawn_boxes(&g) {
                    if left < 0.0 || top < 0.0 || right > g.width || bottom > g.height {
                        outside.push(format!(
                            "{name} at {viewport} px: {what} at x {left}..{right}, y \
                             {top}..{bottom} leaves the view box 0 0 {} {}",
                            g.width, g.height
                        ));
                    }
                }
            }
        }
        assert!(outside.is_empty(), "{}", outside.join("\n"));
    }

    #[test]
    fn l1_lanes_are_spread_evenly_over_the_width() {
        for (steps, lanes) in [(live_flow(), 5), (attack_flow(), 6)] {
            for width in [390.0, 1000.0] {
                let g = layout(&steps, width);
                assert_eq!(g.lanes.len(), lanes);
                let gaps: Vec<f64> = g.lanes.windows(2).map(|w| w[1].x - w[0].x).collect();
                let (min, max) = gaps
                    .iter()
                    .fold((f64::MAX, f64::MIN), |(a, b), g| (a.min(*g), b.max(*g)));
                assert!(max - min <= 1.0, "{width}: uneven lanes {gaps:?}");
                let used = g.lanes.last().unwrap().x - g.lanes[0].x;
                assert!(used >= 0.7 * width, "{width}: lanes use only {used} px");
            }
        }
    }

    #[test]
    fn front_channel_hops_are_two_legs_page_to_browser_then_browser_to_server_and_back() {
        let steps = live_flow();
        let g = layout(&steps, 1000.0);
        let x = |a| lane_x(a, 1000.0, false);
        let out = &g.rows[5].legs;
        assert_eq!(out.len(), 2, "redirect to authorize");
        assert_eq!(
            (out[0].x1, out[0].x2),
            (x(Actor::ClientApp), x(Actor::Browser))
        );
        assert_eq!(
            (out[1].x1, out[1].x2),
            (x(Actor::Browser), x(Actor::AuthorizationServer))
        );
        assert_eq!(
            (out[0].tag, out[1].tag),
            ("location = URL", "GET URL?query")
        );
        assert!(out[0].y < out[1].y, "the page sets location first");
        let back = &g.rows[7].legs;
        assert_eq!(
            (back[0].x1, back[0].x2),
            (x(Actor::AuthorizationServer), x(Actor::Browser))
        );
        assert_eq!(
            (back[1].x1, back[1].x2),
            (x(Actor::Browser), x(Actor::ClientApp))
        );
        assert_eq!(back[0].tag, "302 Location: URL");
        // Back-channel fetches stay one straight arrow.
        assert!(g.rows[9].legs.is_empty());
        // Compact: the two legs add one small gap to the row, not a second row.
        assert!(g.rows[5].height <= g.rows[9].height + LEG_GAP + 2.0 * CHIP_ROW_HEIGHT);
        // Narrow screens keep the legs and drop the tags.
        assert!(layout(&steps, 390.0).rows[5]
            .legs
            .iter()
            .all(|l| l.tag.is_empty()));
    }

    #[test]
    fn wrap_label_breaks_on_words_and_splits_overlong_words() {
        assert_eq!(wrap_label("one two three", 7), vec!["one two", "three"]);
        assert_eq!(wrap_label("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap_label("", 10), vec![String::new()]);
    }
}
