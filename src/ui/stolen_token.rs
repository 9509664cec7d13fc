//! The attack lab's "Stolen access token" card (issue 17): the live session's access token is
//! copied and the demo API called with it as an attacker would, once with DPoP off (Bearer:
//! the attacker reads the profile) and once with DPoP on (every attempt refused). The session
//! runs it (`LabStart::StolenToken`, `flow/session/stolen.rs`); this card starts it and shows
//! the report kept in the lab's record.

use super::driver::{Dispatch, LabPanelView};
use crate::flow::session::LabStart;
use leptos::prelude::*;

/// Why the late replay cannot run on this login.
const NEEDS_DPOP: &str =
    "Needs a DPoP login: switch DPoP on in the Provider panel and log in again.";

/// The experiment's card, after the five experiments.
#[component]
pub fn StolenTokenCard() -> impl IntoView {
    let (panel, dispatch) = (
        expect_context::<LabPanelView>(),
        expect_context::<Dispatch>(),
    );
    let ready = move || panel.with(|p| p.stolen_ready);
    // The late replay captures a DPoP proof: a Bearer login has none, so its button is off
    // with the reason beside it (the session would refuse it with a problem anyway).
    let bearer = move || panel.with(|p| p.stolen_needs_dpop);
    // The API's iat window as typed (the demo API's API_DPOP_IAT_WINDOW_S, 60 s by default).
    // A plain cell, not a signal: nothing is drawn from it (a signal of a new type costs wasm).
    let window = std::rc::Rc::new(std::cell::Cell::new(60u32));
    let typed = window.clone();
    let waiting = move || {
        panel
            .with(|p| p.stolen_waiting)
            .map(|left| format!("Waiting {left} s for the API's iat window to pass…"))
    };
    let ran = move || panel.with(|p| p.stolen_token.is_some());
    let outcome = move || {
        panel.with(|p| {
            p.stolen_token
                .as_ref()
                .map_or("not run", |(o, _)| o.label())
        })
    };
    view! {
        <li id="exp-stolen-token" class="experiment" data-outcome=move || outcome()>
            <h3>"Stolen access token " <span class="badge">{move || outcome()}</span></h3>
            <p><strong>"Wants: "</strong>"An injected script or a leaked log copied your access \
                token; the attacker calls the API with it from elsewhere."</p>
            <details class="why" prop:open=move || ran()>
                <summary>"What stops it, and what happens without"</summary>
                <p><strong>"Defence: "</strong>"DPoP (RFC 9449): the token is bound to a key of \
                    this tab (cnf.jkt), and every request needs a fresh proof signed by it."</p>
                <p><strong>"Without it: "</strong>"A Bearer token works for whoever holds it: \
                    the API answers 200 and the attacker reads your profile."</p>
            </details>
            <ul class="findings" id="stolen-token-findings">
                {move || panel.with(|p| p.stolen_token.clone()).map(|(_, findings)| {
                    findings.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()
                })}
            </ul>
            <p class="hint">"Log in on the Live tab first (DPoP on or off in the Provider panel), \
                then run it here; run it once with each to compare."</p>
            <button id="run-stolen-token" disabled=move || !ready()
                on:click=move |_| dispatch.lab(LabStart::StolenToken)>
                "Run (uses the live session's token)"</button>
            <p class="hint">"Late replay: the API remembers a proof's jti only for its window, \
                so the captured proof is replayed at once (jti) and after the window (iat). \
                The API's window (s): "
                <input id="stale-window" type="number" min="1" max="3600" value="60"
                    aria-label="The API's iat window, in seconds"
                    on:change=move |ev| {
                        if let Ok(s) = event_target_value(&ev).trim().parse::<u32>() {
                            typed.set(s.clamp(1, 3600));
                        }
                    } />
                <button id="run-stale-proof" disabled=move || !ready() || bearer()
                    on:click=move |_| dispatch.lab(LabStart::StaleProof { window_s: window.get() })>
                    "Run the late replay (DPoP login)"</button>
                " " <span id="stale-needs-dpop">{move || if bearer() { NEEDS_DPOP } else { "" }}</span>
                <span id="stale-waiting">{move || waiting()}</span>
            </p>
        </li>
    }
}
