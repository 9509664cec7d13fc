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
mod tests;
