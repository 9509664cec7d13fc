//! The timeline as an ordered list: one item per step, read straight from the timeline.

use crate::diagram::view::{follow, status_of, Items, Live, LiveCell};
use crate::flow::timeline::{Step, StepStatus, Timeline};
use leptos::prelude::*;

/// Every step of the run, in order, with channel, status, duration and details.
#[component]
pub fn TimelineList(
    /// The run to list.
    timeline: Signal<Timeline>,
) -> impl IntoView {
    // Item by item: an event redraws only the steps it added or changed, and a status or
    // duration change rewrites only the attributes and the text bound to it (issue 12).
    let items = Items::new(|i, step, live| step_item(i + 1, step, live).into_any());
    // Nothing here reads the run until the page has settled: a read makes the resolved
    // timeline (a copy of the run, compared with the last) on each of the callback's events.
    let settled = super::settled::settled();
    let update = {
        let items = items.clone();
        move || {
            if settled.get() {
                timeline.with(|t| items.set(t.steps().iter().map(drawn)));
            }
        }
    };
    follow(Box::new(update));
    view! {
        <section class="panel timeline" aria-labelledby="timeline-title">
            <h2 id="timeline-title">"What happened, step by step"</h2>
            <p class="legend">
                <span class="chip channel-front">"front channel"</span>
                " travels in the address bar (history, logs, Referer) · "
                <span class="chip channel-back">"back channel"</span>
                " is a direct fetch from this page (body inside TLS)"
            </p>
            {move || (settled.get() && timeline.with(|t| t.is_empty())).then(|| view! {
                <p class="empty">"Nothing yet. Press Log in to start a run."</p>
            })}
            // Below the diagram, out of the first screen: its items arrive once the page has
            // settled (the update above), so a callback page does not build its ~270 elements
            // before the tokens (issue 12).
            <ol id="timeline">{items.view()}</ol>
        </section>
    }
}

/// A step as its item draws it once (compared to skip the redraw), and what changes over its
/// life (bound in place): its status, its duration and its note (resolved when the catalog
/// arrives). A failure's reason is drawn, so it redraws.
fn drawn(step: &Step) -> (Step, Live) {
    let live = Live {
        status: step.status.css(),
        duration_ms: step.duration_ms,
        arrives: false,
        speed: 1.0,
        note: step.note.clone(),
    };
    let mut key = step.clone();
    key.duration_ms = None;
    key.note = String::new();
    if !key.is_failed() {
        key.status = StepStatus::Pending;
    }
    (key, live)
}

fn step_item(number: usize, step: &Step, live: LiveCell) -> impl IntoView {
    let kind = format!("{:?}", step.kind);
    let class = {
        let (live, ghost) = (live.clone(), if step.ghost { " ghost" } else { "" });
        // One class attribute: a status change is one write, not a removal and an addition.
        move || live.with(|l| format!("step {}{ghost}", l.status))
    };
    let status = status_of(&live);
    let duration = {
        let live = live.clone();
        move || {
            live.with(|l| l.duration_ms.map(crate::diagram::num::whole_ms))
                .unwrap_or_default()
        }
    };
    let note = move || live.with(|l| l.note.clone());
    let reason = match &step.status {
        StepStatus::Failed { reason } => Some(reason.clone()),
        _ => None,
    };
    let route = if step.from == step.to {
        step.from.label().to_owned()
    } else {
        format!("{} → {}", step.from.label(), step.to.label())
    };
    let channel_class = format!("chip channel-{}", channel_css(step));
    let exchange = step.exchange.clone();
    let params = step.params.clone();
    view! {
        <li class=move || class() data-kind=kind data-status=move || status() data-channel=channel_css(step)>
            <div class="step-head">
                <span class="num">{number}</span>
                <span class="label">{step.label.clone()}</span>
                <span class=channel_class>{step.channel.label()}</span>
                <span class="duration">{move || duration()}</span>
            </div>
            <div class="route">{route}</div>
            {reason.map(|r| view! { <p class="reason"><bdi>{r}</bdi></p> })}
            {step.defence.clone().map(|d| view! { <p class="defence">"✔ Stopped by: "{d}</p> })}
            {step.ghost.then(|| view! {
                <p class="ghost-note">"Did not happen: what an app or server without the defence would have done."</p>
            })}
            {(!params.is_empty()).then(|| view! {
                <ul class="params">
                    {params.into_iter().map(|p| view! {
                        <li class:secret=p.secret><code>{p.name}</code>" = "<code>{p.shown}</code></li>
                    }).collect_view()}
                </ul>
            })}
            {step.deviations.iter().map(|d| view! {
                <p class="deviation">"Provider deviation: " {d.clone()}</p>
            }).collect_view()}
            <details>
                <summary>"Why this step"{exchange.is_some().then_some(" · HTTP")}</summary>
                <p class="note">{move || note()}</p>
                {exchange.map(|x| view! {
                    <pre class="http">{exchange_text(&x)}</pre>
                })}
            </details>
        </li>
    }
}

/// The whole exchange in one text: the request, then `← status` and the response.
fn exchange_text(x: &crate::flow::timeline::HttpExchange) -> String {
    let mut text = super::inspector::request_text(x);
    if let Some(status) = x.status {
        text.extend(["\n\n← ", &status.to_string()]);
    }
    super::inspector::response_rest(x, &mut text);
    text
}

fn channel_css(step: &Step) -> &'static str {
    use crate::flow::timeline::Channel;
    match step.channel {
        Channel::Front => "front",
        Channel::Back => "back",
        Channel::Local => "local",
        Channel::UserAction => "user",
    }
}
