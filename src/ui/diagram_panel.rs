//! The diagram with its replay controls, the live announcement and the inspector.

use super::export_bar::ExportBar;
use super::inspector::Inspector;
use crate::browser::viewport;
use crate::diagram::replay::{Replay, SPEEDS, SPEED_LABELS};
use crate::diagram::view::{announce, SequenceDiagram, NARROW_WIDTH};
use crate::flow::timeline::Timeline;
use leptos::ev;
use leptos::prelude::*;
use std::time::Duration;

/// Diagram, replay controls (←/→/space), reduced-motion switch, inspector.
#[component]
pub fn DiagramPanel(
    /// The run to draw.
    timeline: Signal<Timeline>,
    /// Whether the diagram waits until the page has settled (a page back from the provider:
    /// the tokens are drawn first, then the diagram, once, with all of the login's steps).
    waits: bool,
) -> impl IntoView {
    let settled = super::settled::settled();
    let drawn = move || {
        let now = !waits || settled.get();
        if now && waits && !MARKED.replace(true) {
            crate::browser::clock::mark_when_applied(crate::browser::clock::DIAGRAM_MARK);
        }
        now
    };
    view! {
        <section class="panel diagram-panel" aria-labelledby="diagram-title">
            <h2 id="diagram-title">"Sequence diagram of this run"</h2>
            {move || drawn().then(|| diagram_with_controls(timeline))}
        </section>
    }
}

thread_local! {
    /// Whether the diagram's first drawing after the provider was marked (once per page).
    static MARKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The same panel for any timeline (the live run or an explain-mode script).
pub fn diagram_with_controls(timeline: Signal<Timeline>) -> impl IntoView {
    let replay = RwSignal::new(Replay::default());
    let selected = RwSignal::new(None::<usize>);
    let reduced_motion = RwSignal::new(viewport::prefers_reduced_motion());
    let narrow = RwSignal::new(viewport::width() < NARROW_WIDTH + 250.0);
    let resize = window_event_listener(ev::resize, move |_| {
        narrow.set(viewport::width() < NARROW_WIDTH + 250.0);
    });
    on_cleanup(move || resize.remove());
    let total = move || timeline.with(|t| t.len());

    // Playing: schedule the next step; a pause or a manual step in between cancels it.
    crate::diagram::view::effect(Box::new(move || {
        let Replay {
            cursor, playing, ..
        } = replay.get();
        if !playing {
            return;
        }
        let wait = Duration::from_millis(replay.with_untracked(|r| r.interval_ms()) as u64);
        set_timeout(
            move || {
                let still = replay.with_untracked(|r| r.playing && r.cursor == cursor);
                if still {
                    let total = timeline.with_untracked(|t| t.len());
                    replay.update(|r| r.forward(total));
                }
            },
            wait,
        );
    }));

    let on_key = move |ev: ev::KeyboardEvent| {
        let total = total();
        match ev.key().as_str() {
            "ArrowLeft" => replay.update(|r| r.back(total)),
            "ArrowRight" => replay.update(|r| r.forward(total)),
            " " => replay.update(|r| r.toggle(total)),
            _ => return,
        }
        ev.prevent_default();
    };
    let visible = move || replay.with(|r| r.visible(total()));
    let latest = move || {
        let shown = visible();
        timeline.with(|t| {
            shown
                .checked_sub(1)
                .and_then(|i| t.steps().get(i).map(|s| announce(i, s)))
                .unwrap_or_default()
        })
    };
    view! {
            <div class="legend" aria-hidden="true">
                <span class="key front">"- - front channel: the address bar (URL, history, logs, Referer)"</span>
                <span class="key back">"—— back channel: a fetch from this page (body inside TLS)"</span>
                <span class="key local">"▭ local work"</span>
                <span class="key failed">"✕ stopped"</span>
            </div>
            <div class="replay" role="toolbar" aria-label="Replay">
                // Each name contains the button's visible word (WCAG 2.5.3, axe
                // label-content-name-mismatch); the arrows are decoration.
                <button id="replay-back" aria-label="Step back"
                    on:click=move |_| replay.update(|r| r.back(total()))>
                    <span aria-hidden="true">"‹ "</span>"Back"</button>
                <button id="replay-play" aria-label=move || if replay.with(|r| r.playing) { "Pause" } else { "Play" }
                    on:click=move |_| replay.update(|r| r.toggle(total()))>
                    {move || if replay.with(|r| r.playing) { "❚❚ Pause" } else { "▶ Play" }}
                </button>
                <button id="replay-forward" aria-label="Next step"
                    on:click=move |_| replay.update(|r| r.forward(total()))>
                    "Next"<span aria-hidden="true">" ›"</span></button>
                <label class="speed">"Speed "
                    <select id="replay-speed" on:change=move |ev| {
                        // Options carry their index: parsing a float would pull core's float
                        // parser into the wasm (15 KB gzip, measured).
                        let index = event_target_value(&ev).parse::<usize>().unwrap_or(2);
                        let speed = SPEEDS.get(index).copied().unwrap_or(1.0);
                        replay.update(|r| r.set_speed(speed));
                    }>
                        {SPEED_LABELS.iter().enumerate().map(|(i, label)| view! {
                            <option value=i.to_string() selected=SPEEDS[i] == 1.0>{*label}</option>
                        }).collect_view()}
                    </select>
                </label>
                <input id="replay-scrub" type="range" min="0" aria-label="Position in the run"
                    prop:max=move || total().to_string()
                    prop:value=move || visible().to_string()
                    on:input=move |ev| {
                        let position = event_target_value(&ev).parse().unwrap_or(0);
                        replay.update(|r| r.seek(position, total()));
                    } />
                <span id="replay-position" class="position">
                    {move || format!("{} / {}", visible(), total())}
                </span>
                <label class="motion">
                    // The checked property and the change event, as `bind:checked` would, without its
                    // generic code in the wasm.
                    <input id="reduce-motion" type="checkbox" prop:checked=move || reduced_motion.get()
                        on:change=move |ev| reduced_motion.set(event_target_checked(&ev)) />
                    " Reduce motion"
                </label>
            </div>
            <div class="diagram-scroll" tabindex="0" on:keydown=on_key
                aria-label="Diagram: left and right arrows step, space plays or pauses">
                <SequenceDiagram timeline=timeline replay=replay selected=selected
                    reduced_motion=reduced_motion narrow=narrow />
            </div>
            <p id="announcer" class="visually-hidden" aria-live="polite">{move || latest()}</p>
            {move || timeline.with(|t| t.is_empty()).then(|| view! {
                <p class="empty">"Nothing yet. Press Log in to start a run, or open Explain mode."</p>
            })}
            <ExportBar timeline=timeline />
            <Inspector timeline=timeline selected=selected />
    }
}
