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
