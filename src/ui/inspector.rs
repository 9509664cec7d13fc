//! The step inspector: raw HTTP exchange, decoded query, masked secrets with reveal, timing,
//! and the teaching note. Everything untrusted is a text node.

use crate::diagram::view::format_duration;
use crate::flow::timeline::{Channel, HttpExchange, Param, Step, StepStatus, Timeline};
use crate::protocol::uri::parse_query;
use leptos::prelude::*;

/// What a channel can leak, in one sentence.
pub fn channel_exposure(channel: Channel) -> &'static str {
    match channel {
        Channel::Front => {
            "Front channel: everything rides in the URL — visible in the address bar, browser \
             history, server logs and Referer headers."
        }
        Channel::Back => {
            "Back channel: a direct fetch from this page; the body travels inside TLS and never \
             appears in a URL or in history."
        }
        Channel::Local => "Local: nothing leaves the participant.",
        Channel::UserAction => "User action: the person does this at the provider's own page.",
    }
}

/// Details of the selected step.
#[component]
pub fn Inspector(
    /// The run.
    #[prop(into)]
    timeline: Signal<Timeline>,
    /// Which step is selected.
    selected: RwSignal<Option<usize>>,
) -> impl IntoView {
    move || {
        let index = selected.get()?;
        let step = timeline.with(|t| t.steps().get(index).cloned())?;
        Some(step_details(timeline, index, step, selected))
    }
}

fn step_details(
    timeline: Signal<Timeline>,
    index: usize,
    step: Step,
    selected: RwSignal<Option<usize>>,
) -> impl IntoView {
    let route = if step.from == step.to {
        step.from.label().to_owned()
    } else {
        format!("{} → {}", step.from.label(), step.to.label())
    };
    let status = match &step.status {
        StepStatus::Failed { reason } => format!("Failed: {reason}"),
        StepStatus::Ok => "Done".to_owned(),
        StepStatus::Active => "In progress".to_owned(),
        StepStatus::Pending => "Not started".to_owned(),
    };
    let duration = step
        .duration_ms
        .map(format_duration)
        .unwrap_or_else(|| "—".to_owned());
    view! {
        <section id="inspector" class="inspector" aria-label="Step inspector">
            <header>
                <h3>{format!("Step {}: {}", index + 1, step.label)}</h3>
                <button class="close" aria-label="Close the inspector"
                    on:click=move |_| selected.set(None)>"×"</button>
            </header>
            <p class="route">{route}" · "<span id="inspector-duration">{duration}</span></p>
            <p class=format!("status {}", step.status.css())><bdi>{status}</bdi></p>
            <p class="exposure">{channel_exposure(step.channel)}</p>
            <p class="note">{step.note.clone()}</p>
            {step.difference.clone().map(|d| view! {
                <p class="difference">"Differs from the PKCE run: " {d}</p>
            })}
            {step.callout.clone().map(|c| view! { <p class="callout">"⚠ " {c}</p> })}
            {step.deviations.iter().map(|d| view! {
                <p class="deviation">"Provider deviation: " {d.clone()}</p>
            }).collect_view()}
            {(!step.params.is_empty()).then(|| params_table(timeline, index, step.params.clone()))}
            {step.exchange.clone().map(exchange_view)}
        </section>
    }
}

fn params_table(timeline: Signal<Timeline>, index: usize, params: Vec<Param>) -> impl IntoView {
    view! {
        <table class="params-table">
            <caption>"Parameters"</caption>
            <tbody>
                {params.into_iter().map(|p| view! {
                    <tr><th scope="row"><code>{p.name.clone()}</code></th>
                        <td><ParamValue timeline=timeline step=index param=p /></td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// A parameter's value: masked when secret, with a Reveal button while the real value is
/// still in the timeline's memory-only store (it is never saved, so after a reload only the
/// mask exists, and the hint says so).
#[component]
fn ParamValue(
    /// The run the step belongs to (its store holds the revealable values).
    timeline: Signal<Timeline>,
    /// The step's index.
    step: usize,
    /// The parameter.
    param: Param,
) -> impl IntoView {
    let revealed = RwSignal::new(false);
    let Param {
        name,
        shown,
        secret,
        ..
    } = param;
    let can_reveal = secret && timeline.with_untracked(|t| t.revealable(step, &name).is_some());
    // The real value is read from the store only while revealed, never kept in the view.
    let real = move || {
        timeline.with(|t| {
            t.revealable(step, &name)
                .map(|v| v.expose().to_owned())
                .unwrap_or_default()
        })
    };
    view! {
        <code class="value" class:secret=secret class:revealed=move || revealed.get()>
            {move || if revealed.get() { real() } else { shown.clone() }}
        </code>
        {can_reveal.then(|| view! {
            <button class="reveal" aria-pressed=move || super::aria(revealed.get())
                on:click=move |_| revealed.update(|r| *r = !*r)>
                {move || if revealed.get() { "Hide" } else { "Reveal" }}
            </button>
        })}
        {(secret && !can_reveal).then(|| view! {
            <span class="hint">
                " (no value in memory to reveal: secrets are never saved, so a reload leaves only the mask)"
            </span>
        })}
    }
}

fn exchange_view(x: HttpExchange) -> impl IntoView {
    let query = x
        .url
        .split_once('?')
        .map(|(_, q)| parse_query(q))
        .unwrap_or_default();
    let form = x
        .request_body
        .as_deref()
        .filter(|b| !b.trim_start().starts_with('{') && b.contains('='))
        .map(parse_query)
        .unwrap_or_default();
    view! {
        <div class="exchange">
            <h4>"Request"</h4>
            <pre class="http" id="inspector-request">{request_text(&x)}</pre>
            {proof_view(&x.request_headers)}
            {(!query.is_empty()).then(|| pairs_table("Query parameters (decoded)", query))}
            {(!form.is_empty()).then(|| pairs_table("Form body (decoded)", form))}
            {x.status.map(|status| view! {
                <h4>"Response"</h4>
                <pre class="http" id="inspector-response">{
                    let mut text = if status == 0 {
                        "status 0 (no readable response)".to_owned()
                    } else {
                        ["HTTP ", &status.to_string()].concat()
                    };
                    response_rest(&x, &mut text);
                    text
                }</pre>
            })}
        </div>
    }
}

/// An exchange's request as the inspector and the step list print it: `METHOD url`, each
/// header on a line of its own, then the body after a blank line (built here once, rather
/// than as text nodes formatted in each view).
pub(crate) fn request_text(x: &HttpExchange) -> String {
    let mut text = [x.method.as_str(), " ", &x.url].concat();
    push_lines(&mut text, &x.request_headers, x.request_body.as_deref());
    text
}

/// The response's headers and body, appended after its status line.
pub(crate) fn response_rest(x: &HttpExchange, text: &mut String) {
    push_lines(text, &x.response_headers, x.response_body.as_deref());
}

fn push_lines(text: &mut String, headers: &[(String, String)], body: Option<&str>) {
    for (k, v) in headers {
        text.extend(["\n", k, ": ", v]);
    }
    if let Some(body) = body {
        text.extend(["\n\n", body]);
    }
}

/// The DPoP proof the request carried, decoded: header and claims (the timeline keeps only
/// `header.claims.[signature hidden]`, so a shown proof can never be replayed).
fn proof_view(headers: &[(String, String)]) -> Option<impl IntoView> {
    let masked = headers.iter().find(|(k, _)| k == "DPoP").map(|(_, v)| v)?;
    let (header, claims) = crate::protocol::dpop::decode_masked(masked)?;
    Some(view! {
        <div class="dpop-proof" id="inspector-dpop">
            <h4>"DPoP proof (decoded; signature hidden)"</h4>
            <pre class="http" id="inspector-dpop-header">{header}</pre>
            <pre class="http" id="inspector-dpop-claims">{claims}</pre>
            <p class="hint">"Signed by this tab's non-extractable key for this one request: the \
                server checks typ, alg and jwk, the signature, htm and htu against the request, \
                iat against its clock, jti against its replay cache, and ath against the token."</p>
        </div>
    })
}

fn pairs_table(caption: &'static str, pairs: Vec<(String, String)>) -> impl IntoView {
    view! {
        <table class="pairs">
            <caption>{caption}</caption>
            <tbody>
                {pairs.into_iter().map(|(k, v)| view! {
                    <tr><th scope="row"><code>{k}</code></th><td><code>{v}</code></td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
