//! The SVG sequence diagram. It draws only what `layout` computed from the timeline; motion is
//! CSS (transform/opacity), so no Rust runs per frame.
// A closure passed to `view!` by name is written `move || f()` on purpose here: the
// macro shares one render instance per output type only for a closure written in place
// (`--cfg erase_components`), so the "redundant" closure saves wasm (docs/performance.md).
#![allow(clippy::redundant_closure)]

use super::layout::{
    layout, DiagramLayout, Lane, Row, Shape, CHIP_ROW_HEIGHT, HEADER_HEIGHT, LINE_HEIGHT,
};
use super::num::{n, tenths_of_seconds, whole_ms};
use super::replay::Replay;
use crate::flow::timeline::{Actor, Channel, Step, StepKind, Timeline};
use leptos::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub use super::layout::{PHONE_WIDTH as NARROW_WIDTH, WIDE_WIDTH};

/// The diagram for a timeline, with the first `visible` steps drawn.
#[component]
pub fn SequenceDiagram(
    /// The run to draw.
    #[prop(into)]
    timeline: Signal<Timeline>,
    /// Replay position and speed.
    replay: RwSignal<Replay>,
    /// The step shown in the inspector.
    selected: RwSignal<Option<usize>>,
    /// No travelling packets when true.
    #[prop(into)]
    reduced_motion: Signal<bool>,
    /// Phone layout when true.
    #[prop(into)]
    narrow: Signal<bool>,
) -> impl IntoView {
    let geometry = Memo::new(move |_| {
        let width = if narrow.get() {
            NARROW_WIDTH
        } else {
            WIDE_WIDTH
        };
        timeline.with(|t| layout(t.steps(), width))
    });
    // Each row is drawn once and redrawn only when what it draws changes (`Items`): one event
    // used to redraw every row, which led the callback page's profile (issue 12). What changes
    // over a step's life (status, duration, arrival) is bound attribute by attribute instead.
    let rows = Items::new(draw_row);
    let moved = Moved::new();
    let update = {
        let rows = rows.clone();
        move || {
            let shown = timeline.with(|t| replay.with(|r| r.visible(t.len())));
            let speed = replay.with(|r| r.speed);
            let motion = !reduced_motion.get();
            let (before, scroll) = moved.step(shown);
            let key = |row: &Row, step: &Step, g: &DiagramLayout| {
                let key = RowKey {
                    row: row.clone(),
                    kind: step.kind,
                    route: (step.from, step.to, step.channel),
                    marks: super::svg::row_marks(step),
                    ghost: step.ghost,
                    defence: step.defence.clone(),
                    difference: step.difference.is_some(),
                    callout: step.callout.clone(),
                    width: (g.width, g.duration_x),
                    selected,
                };
                let live = Live {
                    status: step.status.css(),
                    duration_ms: step.duration_ms,
                    arrives: super::replay::arrives(before, shown, row.step) && motion,
                    speed,
                    note: String::new(),
                };
                (key, live)
            };
            geometry.with(|g| {
                timeline.with(|t| {
                    let drawn = g.rows.iter().zip(t.steps()).take(shown);
                    rows.set(drawn.map(|(row, step)| key(row, step, g)))
                })
            });
            if scroll {
                // The diagram follows the active step, once this drawing is in the page.
                set_timeout(
                    move || crate::browser::viewport::scroll_step_into_view(shown - 1),
                    std::time::Duration::ZERO,
                );
            }
        }
    };
    follow(Box::new(update));
    let view_box = move || geometry.with(|g| format!("0 0 {} {}", n(g.width), n(g.height)));
    // The lanes are redrawn for a new width or lane, not for each step: a step only lengthens
    // them, which their three height-bound attributes follow on their own.
    let frame = Memo::new(move |_| geometry.with(LaneFrame::of));
    let height = Memo::new(move |_| geometry.with(|g| g.height));
    view! {
        <svg id="diagram" class="diagram" viewBox=move || view_box() role="group"
            class:narrow=move || narrow.get()
            class:reduced-motion=move || reduced_motion.get()
            aria-label="Sequence diagram of the OAuth flow">
            <defs>
                <marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"
                    markerHeight="7" orient="auto-start-reverse">
                    <path d="M0,0 L10,5 L0,10 z" class="head" />
                </marker>
                <marker id="head-failed" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"
                    markerHeight="7" orient="auto-start-reverse">
                    <path d="M0,0 L10,5 L0,10 z" class="head failed" />
                </marker>
            </defs>
            {move || frame.with(|f| lanes_view(f, height))}
            {rows.view()}
        </svg>
    }
}

/// What one row draws that stays the same over its step's life, compared to skip the redraw
/// of rows an event left unchanged (the exchange, the note and the rest of the step that the
/// row does not draw are not compared).
#[derive(PartialEq)]
struct RowKey {
    /// Geometry, wrapped label lines and chips.
    row: Row,
    kind: StepKind,
    /// From, to, channel: the row's accessible name ends with them.
    route: (Actor, Actor, Channel),
    /// The classes apart from the status ([`super::svg::row_marks`]).
    marks: String,
    ghost: bool,
    defence: Option<String>,
    difference: bool,
    callout: Option<String>,
    /// SVG width and the duration column's x.
    width: (f64, f64),
    selected: RwSignal<Option<usize>>,
}

/// What changes over a step's life, bound to the few attributes and text nodes that show it:
/// a change writes those, not the whole row or list item.
#[derive(Clone, PartialEq)]
pub(crate) struct Live {
    /// The status's CSS name (a class and `data-status`).
    pub(crate) status: &'static str,
    /// How long it took, once finished.
    pub(crate) duration_ms: Option<f64>,
    /// Whether it plays its arrival (packet and settle). Going false ends it without a redraw
    /// (the animation has played); a redraw after that draws the row settled.
    pub(crate) arrives: bool,
    /// Replay speed: how fast the packet travels.
    pub(crate) speed: f64,
    /// The step list's teaching note, rewritten as text when the catalog arrives rather than
    /// redrawing every item (empty for a diagram row, which does not draw it).
    pub(crate) note: String,
}

/// The status's CSS name, bound (for `data-status`).
pub(crate) fn status_of(live: &LiveCell) -> impl Fn() -> &'static str + Send + Sync {
    let live = live.clone();
    move || live.with(|l| l.status)
}

fn draw_row(_: usize, k: &RowKey, live: LiveCell) -> AnyView {
    row_view(k, live).into_any()
}

/// The replay's last move: the visible count before it and after it (`usize::MAX` before the
/// first drawing). The newest row arrives once per move forward; a status change at the same
/// position neither replays nor cuts it.
struct Moved(AtomicUsize, AtomicUsize);

impl Moved {
    fn new() -> Self {
        Moved(AtomicUsize::new(0), AtomicUsize::new(usize::MAX))
    }

    /// The count before the last move to `shown`, and whether this call moved (not the first).
    fn step(&self, shown: usize) -> (usize, bool) {
        let last = self.1.swap(shown, Ordering::Relaxed);
        if last == usize::MAX {
            // The first drawing: the newest step arrives (e.g. back from the provider).
            self.0.store(shown.saturating_sub(1), Ordering::Relaxed);
            return (shown.saturating_sub(1), false);
        }
        if last != shown {
            self.0.store(last, Ordering::Relaxed);
        }
        (self.0.load(Ordering::Relaxed), last != shown && shown > 0)
    }
}

/// A list drawn item by item: an item is redrawn only when its key changes, and a new item is
/// appended without redrawing the ones before it. Each item's [`Live`] part is a cell of its
/// own ([`LiveCell`]), so a status change rewrites only what is bound to it. (Built with `erase_components`,
/// redrawing an element removes and sets every one of its attributes again: one event that
/// redrew every diagram row and list item made about 9,500 attribute writes on the callback
/// page.)
pub(crate) struct Items<K> {
    /// What each drawn item was drawn from, and its live part.
    keys: Drawn<K>,
    slots: Slots,
}

/// Each drawn item's key and live part.
type Drawn<K> = Arc<Mutex<Vec<(K, LiveCell)>>>;

/// One item's [`Live`] part: read tracked, replaced in place. (A mutex and a trigger, as the
/// list's slots use, rather than a signal of a new type: less code in the wasm.)
#[derive(Clone)]
pub(crate) struct LiveCell(Arc<(Mutex<Live>, ArcTrigger)>);

impl LiveCell {
    fn new(live: Live) -> Self {
        LiveCell(Arc::new((Mutex::new(live), ArcTrigger::new())))
    }

    /// Reads it, tracked: the reading closure runs again after a change.
    pub(crate) fn with<R>(&self, read: impl FnOnce(&Live) -> R) -> R {
        self.0 .1.track();
        read(&lock(&self.0 .0))
    }

    /// Reads it, untracked.
    fn peek<R>(&self, read: impl FnOnce(&Live) -> R) -> R {
        read(&lock(&self.0 .0))
    }

    /// Replaces it; its readers run again later, if it changed.
    fn set(&self, now: Live) {
        let changed = {
            let mut live = lock(&self.0 .0);
            let changed = *live != now;
            *live = now;
            changed
        };
        if changed {
            self.0 .1.notify();
        }
    }
}

impl<K> Clone for Items<K> {
    fn clone(&self) -> Self {
        Items {
            keys: self.keys.clone(),
            slots: self.slots.clone(),
        }
    }
}

impl<K: PartialEq + Send + Sync + 'static> Items<K> {
    /// No items yet; `draw` draws item `i` from its key, binding what changes to its live part
    /// (read it only inside closures: a read while drawing would redraw the item on each change).
    pub(crate) fn new(draw: fn(usize, &K, LiveCell) -> AnyView) -> Self {
        let keys: Drawn<K> = Arc::default();
        let drawn = keys.clone();
        let slots = Slots(Arc::new((
            Mutex::default(),
            ArcTrigger::new(),
            Box::new(move |i| lock(&drawn).get(i).map(|(k, l)| draw(i, k, l.clone()))),
        )));
        Items { keys, slots }
    }

    /// The items are now `items`: redraws the items whose key changed, updates the live parts
    /// that changed in place, adds or removes the rest.
    pub(crate) fn set(&self, items: impl Iterator<Item = (K, Live)>) {
        let mut changed = Vec::new();
        let len = {
            let mut drawn = lock(&self.keys);
            let mut n = 0;
            for (key, now) in items {
                match drawn.get_mut(n) {
                    Some((old, live)) => {
                        if *old != key {
                            *old = key;
                            changed.push(n);
                        }
                        // Only marks its readers: they run later, after this lock.
                        live.set(now);
                    }
                    None => drawn.push((key, LiveCell::new(now))),
                }
                n += 1;
            }
            drawn.truncate(n);
            n
        };
        self.slots.changed(&changed, len);
    }

    /// The items' view.
    pub(crate) fn view(&self) -> AnyView {
        slot(0, self.slots.clone())
    }
}

/// Runs `update` now, then again after each change of what it read (one copy in the wasm for
/// every list: a boxed function, not a generic one).
pub(crate) fn follow(update: Box<dyn Fn()>) {
    untrack(&*update);
    effect(Box::new(update));
}

/// An effect through one boxed function: every effect of the app shares one copy of the
/// effect's code in the wasm instead of one per closure.
pub(crate) fn effect(mut run: Box<dyn FnMut()>) {
    Effect::new(move |_| run());
}

/// The part of [`Items`] that does not depend on the key type (one copy in the wasm): the
/// number of items and one trigger per item, the count's trigger, and the drawing function.
#[derive(Clone)]
struct Slots(Arc<SlotsInner>);

/// The count and per-item triggers, the count's trigger, and the drawing function.
type SlotsInner = (
    Mutex<(usize, Vec<ArcTrigger>)>,
    ArcTrigger,
    Box<dyn Fn(usize) -> Option<AnyView> + Send + Sync>,
);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Slots {
    /// Items `changed` are redrawn; the list is now `len` long.
    fn changed(&self, changed: &[usize], len: usize) {
        let (state, count, _) = &*self.0;
        let mut state = lock(state);
        state.1.resize_with(len, ArcTrigger::new);
        // Notifying only marks the items: they redraw (and read the state) later.
        changed.iter().for_each(|&i| state.1[i].notify());
        if state.0 != len {
            state.0 = len;
            count.notify();
        }
    }

    /// How many items there are (tracked).
    fn count(&self) -> usize {
        self.0 .1.track();
        lock(&self.0 .0).0
    }

    /// Item `i` (tracked: redrawn on its trigger).
    fn draw(&self, i: usize) -> Option<AnyView> {
        let trigger = lock(&self.0 .0).1.get(i).cloned()?;
        trigger.track();
        (self.0 .2)(i)
    }
}

/// Item `i` and, after it, the slot of item `i + 1`: each slot is redrawn only when its own
/// item appears or goes, so appending an item draws just that item.
fn slot(i: usize, slots: Slots) -> AnyView {
    let here = {
        let slots = slots.clone();
        memo_bool(Box::new(move || slots.count() > i))
    };
    (move || {
        here.get().then(|| {
            let one = slots.clone();
            view! {
                {move || one.draw(i)}
                {slot(i + 1, slots.clone())}
            }
        })
    })
    .into_any()
}

/// A memo of a condition, through one boxed function: every `Memo<bool>` of the app shares
/// one copy of the memo's code in the wasm instead of one per closure.
pub(crate) fn memo_bool(condition: Box<dyn Fn() -> bool + Send + Sync>) -> Memo<bool> {
    Memo::new(move |_| condition())
}

/// What the lane headers draw, apart from the diagram's height.
#[derive(PartialEq)]
struct LaneFrame {
    width: f64,
    lanes: Vec<Lane>,
    browser_band: (f64, f64),
}

impl LaneFrame {
    fn of(g: &DiagramLayout) -> Self {
        LaneFrame {
            width: g.width,
            lanes: g.lanes.clone(),
            browser_band: g.browser_band,
        }
    }
}

fn lanes_view(g: &LaneFrame, height: Memo<f64>) -> impl IntoView {
    let (band_left, band_right) = g.browser_band;
    let card_width = super::layout::card_width(g.width);
    let narrow = g.width < 600.0;
    view! {
        <g class="lanes">
            <rect class="band" x=n(band_left) y="2" width=n(band_right - band_left)
                height=move || n(height.get() - 4.0) rx="10" />
            <text class="band-label" x=n((band_left + band_right) / 2.0) y=move || n(height.get() - 8.0)
                text-anchor="middle">"your browser"</text>
            {g.lanes.iter().map(|lane| {
                let name = if narrow { short_name(lane.actor) } else { lane.actor.label() };
                view! {
                    <g class="lane">
                        <line class="lifeline" x1=n(lane.x) y1=n(HEADER_HEIGHT - 6.0) x2=n(lane.x)
                            y2=move || n(height.get() - 20.0) />
                        <rect class="lane-card" x=n(lane.x - card_width / 2.0) y="6"
                            width=n(card_width) height=n(HEADER_HEIGHT - 16.0) rx="8" />
                        <text class="lane-name" x=n(lane.x) y="26" text-anchor="middle">{name}</text>
                        {(!narrow).then(|| view! {
                            <text class="lane-role" x=n(lane.x) y="42" text-anchor="middle">
                                {lane.role}
                            </text>
                        })}
                    </g>
                }
            }).collect_view()}
        </g>
    }
}

/// The lane's name on a narrow screen.
pub fn short_name(actor: Actor) -> &'static str {
    match actor {
        Actor::User => "User",
        Actor::Browser => "Browser",
        Actor::ClientApp => "App",
        Actor::AuthorizationServer => "Auth",
        Actor::ResourceServer => "API",
        Actor::Attacker => "Attacker",
    }
}

/// SVG path of an arrow: through the address bar first when it is a front-channel hop.
pub fn arrow_path(x1: f64, x2: f64, via: Option<f64>, y: f64) -> String {
    match via {
        Some(v) => {
            let (x1, x2, v, y, up) = (n(x1), n(x2), n(v), n(y), n(y - 8.0));
            format!("M{x1},{up} L{v},{up} L{v},{y} L{x2},{y}")
        }
        None => format!("M{},{y} L{},{y}", n(x1), n(x2), y = n(y)),
    }
}

fn row_view(k: &RowKey, live: LiveCell) -> impl IntoView {
    let RowKey { row, selected, .. } = k;
    let selected = *selected;
    let (width, duration_x) = k.width;
    let (_, _, step_channel) = k.route;
    let index = row.step;
    let channel = super::svg::channel_name(step_channel);
    // The bound values re-run on each change of `live`, but write only what differs.
    let class = {
        let (live, marks) = (live.clone(), format!("row {}", k.marks));
        // One class attribute: a status change is one write, not a removal and an addition.
        move || {
            let mut class = live.with(|l| {
                let newest = if l.arrives { " newest" } else { "" };
                format!("{marks} {}{newest}", l.status)
            });
            if selected.get() == Some(index) {
                class.push_str(" selected");
            }
            class
        }
    };
    let status = status_of(&live);
    // A memo: the packet is drawn again only when its arrival changes, not on a status change
    // (a redraw would rewrite its attributes and restart its travel).
    let arriving = {
        let live = live.clone();
        memo_bool(Box::new(move || live.with(|l| l.arrives)))
    };
    let marker = if row.failed {
        "url(#head-failed)"
    } else {
        "url(#head)"
    };
    let duration = {
        let live = live.clone();
        move || {
            live.with(|l| l.duration_ms.map(format_duration))
                .unwrap_or_default()
        }
    };
    let aria = name_of(index, &row.label_lines, k.route);
    let shape = match row.shape {
        Shape::Arrow { x1, x2, via } => {
            // A hop through the address bar is drawn as its two legs, each with its head.
            let paths: Vec<String> = if row.legs.is_empty() {
                vec![arrow_path(x1, x2, via, row.y)]
            } else {
                row.legs
                    .iter()
                    .map(|leg| arrow_path(leg.x1, leg.x2, None, leg.y))
                    .collect()
            };
            let tags = row.legs.iter().filter(|l| !l.tag.is_empty()).map(|leg| {
                view! { <tspan x=n(leg.tag_x) y=n(leg.tag_y)>{leg.tag}</tspan> }
            });
            let tags = view! {
                <text class="leg-tag" text-anchor="middle">
                    {tags.collect_view()}
                </text>
            };
            let (y, local) = (row.y, step_channel == Channel::Local);
            // Only while it arrives: the packet goes once the next step arrives.
            let packet = move || {
                if !arriving.get() || local {
                    return None;
                }
                // The speed when it starts: a packet on its way keeps its pace.
                let speed = live.peek(|l| l.speed);
                let start = via.unwrap_or(x1);
                let travel_ms = (super::replay::STEP_MS / speed).round();
                Some(view! {
                    // CSSOM properties, not a style attribute: the page's CSP blocks inline
                    // style attributes (style-src-attr), but not element.style.setProperty.
                    <circle class="packet" cx=n(start) cy=n(y) r="5"
                        style=("--dx", format!("{}px", n(x2 - start)))
                        style:animation-duration=format!("{}ms", n(travel_ms)) />
                })
            };
            let cross = row.failed.then(|| {
                view! { <text class="cross" x=n(x2) y=n(row.y + 5.0) text-anchor="middle">"✕"</text> }
            });
            view! {
                {paths.into_iter().map(|d| view! { <path class="arrow" d=d marker-end=marker /> }).collect_view()}
                {tags}
                {packet}
                {cross}
            }
            .into_any()
        }
        Shape::Note { x, width } => {
            let height = row.height - 8.0;
            view! {
                <rect class="note-box" x=n(x) y=n(row.top + 3.0) width=n(width) height=n(height) rx="8" />
            }
            .into_any()
        }
    };
    let anchor = match row.shape {
        Shape::Arrow { .. } => "middle",
        Shape::Note { .. } => "start",
    };
    let chips_y = row.label_y + row.label_lines.len() as f64 * LINE_HEIGHT - 2.0;
    let label_x = n(row.label_x);
    view! {
        <g class=move || class() tabindex="0" role="button"
            data-step=index data-kind=format!("{:?}", k.kind) data-status=move || status()
            data-channel=channel data-ghost=k.ghost.then_some("true")
            data-defence=k.defence.clone()
            on:click=move |_| selected.set(Some(index))
            on:keydown=move |ev| {
                if ev.key() == "Enter" {
                    selected.set(Some(index));
                }
            }>
            // The row's name (SVG title): the step number, exactly the label text it shows, the
            // route. The numbers, marks, chips and durations drawn below are not part of it.
            <title>{aria}</title>
            <rect class="hit" x="0" y=n(row.top) width=n(width) height=n(row.height) />
            <g aria-hidden="true">
            {k.difference.then(|| view! {
                <text class="differs-mark" x="4" y=n(row.y + 4.0)>"≠"</text>
            })}
            {shape}
            {k.callout.clone().map(|callout| view! {
                <text class="callout-mark" x="16" y=n(row.number_y + 4.0)>
                    "⚠"<title>{callout}</title>
                </text>
            })}
            <circle class="num" cx=n(row.number_x) cy=n(row.number_y) r="9" />
            <text class="num-text" x=n(row.number_x) y=n(row.number_y + 4.0) text-anchor="middle">
                {index + 1}
            </text>
            {(!row.chips.is_empty()).then(|| view! {
                <text class="chips" x=label_x.clone() y=n(chips_y) text-anchor=anchor>
                    {row.chips.iter().enumerate().map(|(i, line)| view! {
                        <tspan x=label_x.clone() dy=if i == 0 { "0".to_owned() } else { n(CHIP_ROW_HEIGHT) }>{line.clone()}</tspan>
                    }).collect_view()}
                </text>
            })}
            <text class="duration" x=n(duration_x) y=n(row.y + 4.0) text-anchor="end">{move || duration()}</text>
            </g>
            <text class="label" x=label_x.clone() y=n(row.label_y) text-anchor=anchor>
                {row.label_lines.iter().enumerate().map(|(i, line)| view! {
                    <tspan x=label_x.clone() dy=if i == 0 { "0".to_owned() } else { n(LINE_HEIGHT) }
                        class:reason=line.starts_with('✕')
                        class:shield=line.starts_with('✔')>{line.clone()}</tspan>
                }).collect_view()}
            </text>
        </g>
    }
}

/// A duration as the diagram prints it: ms below a second, seconds with one decimal above.
pub fn format_duration(ms: f64) -> String {
    if ms < 1.0 {
        "<1 ms".to_owned()
    } else if ms < 1000.0 {
        whole_ms(ms)
    } else {
        tenths_of_seconds(ms)
    }
}

/// Who talked to whom on which channel, in words ("Client app to Browser on the front channel").
fn route(step: &Step) -> String {
    route_of((step.from, step.to, step.channel))
}

fn route_of((from, to, channel): (Actor, Actor, Channel)) -> String {
    if from == to {
        format!("{} does local work", from.label())
    } else {
        format!(
            "{} to {} on the {}",
            from.label(),
            to.label(),
            channel.label()
        )
    }
}

/// The accessible name of a step's row: its number, then exactly the label text it shows
/// (so the name contains the visible text), then the route.
pub fn row_name(index: usize, step: &Step, row: &Row) -> String {
    name_of(index, &row.label_lines, (step.from, step.to, step.channel))
}

fn name_of(index: usize, lines: &[String], route: (Actor, Actor, Channel)) -> String {
    let route = route_of(route);
    format!("Step {}: {}. {route}.", index + 1, lines.join(" "))
}

/// One plain sentence describing a step, for screen readers and the live announcement.
pub fn announce(index: usize, step: &Step) -> String {
    let route = route(step);
    let outcome = match &step.status {
        crate::flow::timeline::StepStatus::Failed { reason } => format!(" Failed: {reason}"),
        crate::flow::timeline::StepStatus::Active => " In progress.".to_owned(),
        _ => String::new(),
    };
    format!("Step {}: {}. {route}.{outcome}", index + 1, step.label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_channel_path_visits_the_address_bar_first() {
        assert_eq!(
            arrow_path(400.0, 700.0, Some(250.0), 100.0),
            "M400,92 L250,92 L250,100 L700,100"
        );
        assert_eq!(arrow_path(400.0, 700.0, None, 100.0), "M400,100 L700,100");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(0.2), "<1 ms");
        assert_eq!(format_duration(38.4), "38 ms");
        assert_eq!(format_duration(12_345.0), "12.3 s");
    }
}
