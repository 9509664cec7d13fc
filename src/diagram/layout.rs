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
/// Average glyph width of a 12.5 px system font, used to wrap labels without measuring text.
pub const CHAR_WIDTH: f64 = 6.6;
/// Width kept at the right for the durations.
pub const DURATION_GUTTER: f64 = 56.0;
/// Below this width chips collapse into a count and labels use the narrow layout.
pub const NARROW_WIDTH: f64 = 640.0;
/// Gap between a note and its lifeline.
const NOTE_GAP: f64 = 10.0;

/// Where a lane's lifeline stands, as a fraction of the drawable width. Browser and Client app
/// are close together: they are the same machine, and the diagram's lesson is the difference
/// between a redirect through the address bar and a fetch from the page.
/// With an attacker, the lanes shift left to make room for its lane outside the browser band,
/// between the page and the provider it attacks, with room for the refusal labels.
fn lane_fraction(actor: Actor, attacker: bool) -> f64 {
    match (actor, attacker) {
        (Actor::User, false) => 0.06,
        (Actor::Browser, false) => 0.25,
        (Actor::ClientApp, false) => 0.40,
        (Actor::AuthorizationServer, false) => 0.70,
        (Actor::ResourceServer, false) => 0.93,
        (Actor::User, true) => 0.06,
        (Actor::Browser, true) => 0.19,
        (Actor::ClientApp, true) => 0.32,
        (Actor::Attacker, _) => 0.52,
        (Actor::AuthorizationServer, true) => 0.77,
        (Actor::ResourceServer, true) => 0.95,
    }
}

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
pub fn lane_x(actor: Actor, width: f64, attacker: bool) -> f64 {
    let drawable = (width - DURATION_GUTTER).max(1.0);
    (lane_fraction(actor, attacker) * drawable).round()
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
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > max_chars {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let rest = word.split_off(max_chars);
            lines.push(word.into_iter().collect());
            word = rest;
        }
        let word: String = word.into_iter().collect();
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
        line.push_str(&word);
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
    let gap = (x(Actor::ClientApp) - x(Actor::Browser)) / 2.0;
    let browser_band = (
        x(Actor::Browser) - gap.max(24.0),
        x(Actor::ClientApp) + gap.max(24.0),
    );
    let duration_x = width - 6.0;
    let mut rows = Vec::with_capacity(steps.len());
    let mut top = HEADER_HEIGHT + 8.0;
    for (index, step) in steps.iter().enumerate() {
        let row = layout_row(index, step, top, width, narrow, attacker);
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
        (
            Shape::Arrow {
                x1: from,
                x2: to,
                via,
            },
            ((left + right) / 2.0).round(),
            (right - left - 16.0).max(60.0),
        )
    };
    let max_chars = (max_label_width / CHAR_WIDTH).floor() as usize;
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
    let height = (text_height + chip_height + 22.0).max(MIN_ROW_HEIGHT);
    let label_y = top + 14.0;
    let y = if is_note {
        top + 2.0
    } else {
        (label_y + text_height - LINE_HEIGHT + chip_height + 8.0).min(top + height - 6.0)
    };
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

    #[test]
    fn wrap_label_breaks_on_words_and_splits_overlong_words() {
        assert_eq!(wrap_label("one two three", 7), vec!["one two", "three"]);
        assert_eq!(wrap_label("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap_label("", 10), vec![String::new()]);
    }
}
