//! The attack lab's "Stolen access token" card (issue 17): the live session's access token is
//! copied and the demo API called with it as an attacker would, once with DPoP off (Bearer:
//! the attacker reads the profile) and once with DPoP on (every attempt refused). The steps go
//! on the live run's timeline; `flow::stolen_token` draws them and judges the answers.

use super::driver::{self, Lab};
use crate::browser::{clock, webcrypto};
use crate::flow::attack::Outcome;
use crate::flow::engine::{self, random_32};
use crate::flow::session::{HttpRequest, DPOP_ALG};
use crate::flow::stolen_token::{self, Attempt, AttemptAnswer};
use crate::protocol::dpop::{self, ProofRequest, PublicJwk};
use crate::protocol::secret::AccessToken;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The experiment's card, after the five experiments.
#[component]
pub fn StolenTokenCard() -> impl IntoView {
    // The experiment reads the live session's token and key, so it holds the whole state.
    let lab: RwSignal<Lab> = expect_context::<driver::Dispatch>().0;
    let result = RwSignal::new(None::<(Outcome, Vec<String>)>);
    let running = RwSignal::new(false);
    let ready = move || lab.with(|l| l.tokens().is_some() && !l.phase().is_busy());
    let outcome = move || result.with(|r| r.as_ref().map_or("not run", |(o, _)| o.label()));
    view! {
        <li id="exp-stolen-token" class="experiment" data-outcome=outcome>
            <h3>"Stolen access token " <span class="badge">{outcome}</span></h3>
            <p><strong>"Wants: "</strong>"An injected script or a leaked log copied your access \
                token; the attacker calls the API with it from elsewhere."</p>
            <details class="why" prop:open=move || result.with(Option::is_some)>
                <summary>"What stops it, and what happens without"</summary>
                <p><strong>"Defence: "</strong>"DPoP (RFC 9449): the token is bound to a key of \
                    this tab (cnf.jkt), and every request needs a fresh proof signed by it."</p>
                <p><strong>"Without it: "</strong>"A Bearer token works for whoever holds it: \
                    the API answers 200 and the attacker reads your profile."</p>
            </details>
            <ul class="findings" id="stolen-token-findings">
                {move || result.get().map(|(_, findings)| {
                    findings.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()
                })}
            </ul>
            <p class="hint">"Log in on the Live tab first (DPoP on or off in the Provider panel), \
                then run it here; run it once with each to compare."</p>
            <button id="run-stolen-token" disabled=move || !ready() || running.get()
                on:click=move |_| {
                    running.set(true);
                    spawn_local(async move {
                        let verdict = run(lab).await;
                        result.set(verdict);
                        running.set(false);
                    });
                }>"Run (uses the live session's token)"</button>
        </li>
    }
}

/// Sends one request and records its answer as the attacker's.
async fn attempt(
    lab: RwSignal<Lab>,
    attempt: Attempt,
    request: HttpRequest,
    shown: &str,
    proof_masked: Option<String>,
) -> AttemptAnswer {
    let step = lab.try_update(|l| {
        stolen_token::attacker_call(
            &mut l.timeline,
            attempt,
            &request.url,
            shown,
            proof_masked,
            clock::now_ms(),
        )
    });
    let outcome = driver::send(request).await;
    lab.try_update(|l| {
        stolen_token::attacker_answer(
            &mut l.timeline,
            step.unwrap_or_default(),
            attempt,
            outcome,
            clock::now_ms(),
        )
    })
    .unwrap_or(AttemptAnswer {
        attempt,
        status: 0,
        error: None,
        description: None,
    })
}

/// A signed proof for `GET url` with `token`, by `key`.
async fn proof(
    key: &webcrypto::DpopKeyPair,
    url: &str,
    token: &AccessToken,
) -> Result<dpop::DpopProof, String> {
    let jwk = PublicJwk::from_json(key.public_jwk_json()).map_err(|e| e.to_string())?;
    let entropy = random_32().map_err(|p| p.what_happened)?;
    let request = ProofRequest {
        method: "GET",
        url,
        access_token: Some(token),
        nonce: None,
    };
    let unsigned = dpop::unsigned_proof(&jwk, DPOP_ALG, &request, clock::now_ms() / 1000, &entropy)
        .map_err(|e| e.to_string())?;
    let signature = webcrypto::sign_dpop(key, unsigned.signing_input()).await?;
    unsigned.finish(&signature).map_err(|e| e.to_string())
}

async fn run(lab: RwSignal<Lab>) -> Option<(Outcome, Vec<String>)> {
    let (token, dpop, api) = lab.with_untracked(|l| {
        let api = l.settings.normalized().api_base;
        l.tokens()
            .map(|t| (t.access_token.clone(), t.token_type == "DPoP", api))
    })?;
    let profile = format!("{api}/api/profile");
    let files = format!("{api}/api/files");
    let masked = token.masked();
    lab.update(|l| stolen_token::token_copied(&mut l.timeline, &token, dpop, clock::now_ms()));
    // With DPoP: a proof of the attacker's own key, and one of this tab's key (a real request
    // of the app, captured). One loop, so each await is compiled once (wasm size).
    let mut proofs = Vec::new();
    if dpop {
        let own = webcrypto::generate_dpop_key()
            .await
            .ok()
            .map(std::rc::Rc::new);
        for key in [own, super::dpop::tab_key()] {
            proofs.push(match key {
                Some(key) => proof(&key, &profile, &token).await.ok(),
                None => None,
            });
        }
    }
    let own = proofs.first().cloned().flatten();
    let captured = proofs.get(1).cloned().flatten();
    if let Some(p) = &captured {
        // The app's own request carrying the proof, before the attacker captures it.
        let step = lab.try_update(|l| {
            let (step, _) = engine::resource_request_started_as(
                &mut l.timeline,
                &profile,
                &token,
                true,
                clock::now_ms(),
            );
            if let Some(x) = l.timeline.step_mut(step).and_then(|s| s.exchange.as_mut()) {
                x.request_headers.push(("DPoP".into(), p.masked()));
            }
            step
        });
        let outcome = driver::send(request(&profile, &token, Some(p))).await;
        lab.update(|l| {
            let _ = engine::resource_response_received(
                &mut l.timeline,
                step.unwrap_or_default(),
                outcome,
                clock::now_ms(),
            );
        });
    }
    let plan = [
        (Attempt::AsBearer, &profile, None),
        (Attempt::OwnKey, &profile, own.as_ref()),
        (Attempt::ReplayedProof, &profile, captured.as_ref()),
        (Attempt::ReplayedElsewhere, &files, captured.as_ref()),
    ];
    let mut answers = Vec::new();
    for (which, url, proof) in plan {
        if which != Attempt::AsBearer && proof.is_none() {
            continue;
        }
        let (sent, shown) = match proof {
            Some(p) => (request(url, &token, Some(p)), format!("DPoP {masked}")),
            None => (
                HttpRequest::get(url, Some(format!("Bearer {}", token.secret()))),
                format!("Bearer {masked}"),
            ),
        };
        answers.push(attempt(lab, which, sent, &shown, proof.map(|p| p.masked())).await);
    }
    lab.with_untracked(driver::save);
    Some(stolen_token::report(dpop, &answers))
}

/// `GET url` with `Authorization: DPoP <token>` and the proof.
fn request(url: &str, token: &AccessToken, proof: Option<&dpop::DpopProof>) -> HttpRequest {
    let mut request = HttpRequest::get(url, Some(dpop::dpop_authorization(token)));
    if let Some(p) = proof {
        request
            .headers
            .push((dpop::DPOP_HEADER, p.header_value().to_owned()));
    }
    request
}
