//! The attack lab tab: five guided experiments against the configured provider and the
//! provider checkup's scorecard, with its evidence and a Markdown export.

use super::driver::{provide_lab_panel, Dispatch, LabPanelView, StatusView};
use super::export_bar::TextOutput;
use super::notes::{shown, shown_owned, tr};
use crate::browser::{clock, export_worker};
use crate::flow::attack::{Experiment, Outcome};
use crate::flow::checkup::Finding;
use crate::flow::session::LabStart;
use leptos::prelude::*;

/// Whether an action is in flight (reactive).
fn busy() -> impl Fn() -> bool + Send + Sync + Copy + 'static {
    let StatusView(status) = expect_context();
    move || status.with(|s| s.phase.is_busy())
}

/// The experiments and the checkup: they read the lab's memo and dispatch events.
#[component]
pub fn AttackLab() -> impl IntoView {
    let panel = provide_lab_panel();
    let busy = busy();
    let weak = move || panel.with(|p| p.reports.iter().any(|r| r.outcome == Outcome::Succeeded));
    // Opens on the checkup while one is in progress or was the last thing run.
    let checkup = RwSignal::new(panel.with_untracked(|p| p.checkup_active));
    view! {
        <section class="panel attack-lab" aria-label="Attack lab and provider checkup">
            <div class="subtabs" role="tablist" aria-label="Attack lab">
                <button id="lab-experiments" role="tab"
                    aria-selected=move || super::aria(!checkup.get())
                    on:click=move |_| checkup.set(false)>"Attack lab: 5 experiments"</button>
                <button id="lab-checkup" role="tab" aria-selected=move || super::aria(checkup.get())
                    on:click=move |_| checkup.set(true)>"Provider checkup: 14 lines"</button>
            </div>
            <ProbeWindowNotices />
            {super::show_when(Box::new(weak), Box::new(|| view! {
                <p id="weak-banner" class="weak-banner" role="alert">
                    "Some attacks worked: this server is misconfigured. What you see is a \
                     demonstration against a weak configuration — never use such a server for \
                     a browser app."
                </p>
            }.into_any()), super::nothing())}
            {super::show_when(Box::new(move || checkup.get()), Box::new(|| view! { <Checkup /> }.into_any()), Box::new(move || view! {
                <p class="hint">
                    "Each experiment sends real requests to the provider in the settings, with \
                     this page playing the attacker. The red lane in the diagram is the \
                     attacker; the ✔ line marks the defence that stopped it; faded rows are \
                     what would have happened without it. Tokens obtained here are never kept."
                </p>
                <ol class="experiments">
                    {Experiment::ALL.into_iter().map(|e| view! { <ExperimentCard experiment=e busy=busy /> }).collect_view()}
                    <super::stolen_token::StolenTokenCard />
                </ol>
            }.into_any()))}
        </section>
    }
}

/// One experiment: what the attacker wants, the defence, the report, and its Run button.
#[component]
fn ExperimentCard(
    experiment: Experiment,
    busy: impl Fn() -> bool + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let (panel, dispatch) = (
        expect_context::<LabPanelView>(),
        expect_context::<Dispatch>(),
    );
    let report = move || {
        panel.with(|p| {
            p.reports
                .iter()
                .find(|r| r.experiment == experiment)
                .cloned()
        })
    };
    let outcome = move || report().map(|r| r.outcome.label()).unwrap_or("not run");
    let (button, run) = match experiment {
        Experiment::StolenCode | Experiment::CodeReplay => (
            "Run 1 and 2 (one login)",
            LabStart::CodeExperiments { checkup: false },
        ),
        Experiment::ForgedCallback => ("Run (log in as the attacker)", LabStart::ForgedCallback),
        Experiment::PkceDowngrade => ("Run (no login needed)", LabStart::Downgrade),
        Experiment::Implicit => ("Run (no login needed)", LabStart::Implicit),
    };
    view! {
        <li id=format!("exp-{}", experiment.id()) class="experiment" data-outcome=move || outcome()>
            <h3>
                {experiment.title()}
                " "<span class="badge">{move || outcome()}</span>
            </h3>
            <p><strong>"Wants: "</strong>{shown(experiment.wanted())}</p>
            // Open once the experiment ran: the report reads with its explanation.
            <details class="why" prop:open=move || report().is_some()>
                <summary>"What stops it, and what happens without"</summary>
                <p><strong>"Defence: "</strong>{shown(experiment.defence())}</p>
                <p><strong>"Without it: "</strong>{shown(experiment.without())}</p>
            </details>
            <ul class="findings">
                {move || report().map(|r| r.findings.into_iter().map(|f| view! { <li>{tr(&f)}</li> }).collect_view())}
            </ul>
            <button id=format!("run-{}", experiment.id()) disabled=move || busy()
                on:click=move |_| dispatch.lab(run)>{button}</button>
        </li>
    }
}

/// The provider checkup: run, the login that finishes it, the scorecard and its export.
#[component]
fn Checkup() -> impl IntoView {
    let (panel, dispatch) = (
        expect_context::<LabPanelView>(),
        expect_context::<Dispatch>(),
    );
    let busy = busy();
    let card = move || panel.with(|p| p.scorecard.clone());
    // The probes are done and the lines that need a code are still open.
    let needs_login = move || panel.with(|p| p.needs_login);
    let markdown = RwSignal::new(None::<String>);
    let problem = RwSignal::new(String::new());
    // Made in the exports' worker (the report writer is not in the first load), from the
    // scorecard as it is stored: masks only.
    let export = move |_| {
        let stamp = clock::iso_now();
        markdown.set(None);
        problem.set(String::new());
        leptos::task::spawn_local(async move {
            let notes = super::notes::settled_for_export().await;
            // The catalog's text is put in before the worker escapes it for Markdown.
            let catalog = super::notes::catalog_now();
            let Some(json) = panel.with_untracked(|p| {
                p.scorecard.as_ref().and_then(|c| {
                    serde_json::to_string(
                        &c.with_text_resolved(catalog.as_deref(), super::notes::UNAVAILABLE),
                    )
                    .ok()
                })
            }) else {
                return;
            };
            match export_worker::checkup_markdown(&json, &stamp).await {
                Ok(text) => {
                    markdown.set(Some(text));
                    problem.set(notes.err().unwrap_or_default());
                }
                Err(e) => problem.set(e),
            }
        });
    };
    view! {
        <p class="hint">
            "Grades the provider in the settings for browser (public) clients: metadata, CORS \
             and three authorization probes with prompt=none run at once, in a small probe \
             window (this tab stays here); the lines about codes and tokens need one login. A \
             provider that shows a page of its own instead of answering a probe gets that line \
             graded unknown, and you can run the probes again interactively."
        </p>
        <div class="checkup-actions">
            <button id="run-checkup" class="primary" disabled=move || busy()
                on:click=move |_| dispatch.lab(LabStart::Checkup)>"Run checkup"</button>
            {super::show_when(Box::new(needs_login), Box::new(move || view! {
                <button id="checkup-login" disabled=move || busy()
                    on:click=move |_| dispatch.lab(LabStart::CodeExperiments { checkup: true })>
                    "Log in once to finish (codes, replay, refresh, no-store)"
                </button>
            }.into_any()), super::nothing())}
        </div>
        {move || card().map(|c| {
            let (pass, warn, fail, unknown) = c.counts();
            view! {
                <p id="checkup-summary" class="checkup-summary">
                    {format!("{pass} pass · {warn} warn · {fail} fail · {unknown} unknown — {}", c.issuer)}
                </p>
                <table id="scorecard" class="scorecard">
                    <thead><tr><th>"Check"</th><th>"Verdict"</th><th>"What the provider did"</th></tr></thead>
                    <tbody>
                        {c.findings.into_iter().map(|f| view! { <FindingRow finding=f /> }).collect_view()}
                    </tbody>
                </table>
                <div class="exports">
                    <button id="export-scorecard" on:click=export>"Export Markdown"</button>
                    <span class="hint" role="status">{move || problem.get()}</span>
                    {move || markdown.get().map(|text| view! {
                        <TextOutput id="scorecard-markdown" text=text filename="provider-checkup.md"
                            mime="text/markdown" />
                    })}
                </div>
            }
        })}
    }
}

/// One scorecard line with its fix hint and the evidence behind it.
#[component]
fn FindingRow(finding: Finding) -> impl IntoView {
    let verdict = finding.verdict;
    let evidence = finding.evidence;
    view! {
        <tr id=format!("check-{:?}", finding.check) data-verdict=verdict.label()>
            <td>{finding.check.title()}<br/><small>{finding.check.rule()}</small></td>
            <td class=format!("verdict {}", verdict.label())>{verdict.symbol()}" "{verdict.label()}</td>
            <td>
                {shown_owned(finding.detail)}
                {finding.hint.map(|h| view! { <p class="fix"><strong>"Fix: "</strong>{shown_owned(h)}</p> })}
                {(!evidence.is_empty()).then(|| view! {
                    <details class="evidence">
                        <summary>{format!("Evidence ({})", evidence.len())}</summary>
                        {evidence.into_iter().map(|step| {
                            let exchange = step.exchange.clone().unwrap_or_default();
                            let status = exchange.status.map(|s| s.to_string()).unwrap_or_default();
                            view! {
                                <div class="evidence-item">
                                    <p><strong>{step.label.clone()}</strong></p>
                                    <pre>{format!("{} {}\n{}", exchange.method, exchange.url, exchange.request_body.unwrap_or_default())}</pre>
                                    <pre>{format!("{status}\n{}\n{}",
                                        exchange.response_headers.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("\n"),
                                        exchange.response_body.unwrap_or_default())}</pre>
                                </div>
                            }
                        }).collect_view()}
                    </details>
                })}
            </td>
        </tr>
    }
}

/// The probe window's trouble: blocked (with Retry), or probes that got no answer (with the
/// offer to run them interactively).
#[component]
fn ProbeWindowNotices() -> impl IntoView {
    let (panel, dispatch) = (
        expect_context::<LabPanelView>(),
        expect_context::<Dispatch>(),
    );
    let busy = busy();
    move || {
        let (blocked, timed_out) = panel.with(|p| (p.blocked, p.offer.clone()));
        if blocked {
            Some(view! {
                <div id="popup-blocked" class="problem" role="alert">
                    <p>
                        "The browser blocked the lab's window, so its request (a probe, or the \
                         attacker's login) was not sent. Allow pop-ups for this page (the \
                         blocked-window icon at the end of the address bar), then press Retry: \
                         the same request opens in a small window and this tab stays where it is."
                    </p>
                    <button id="retry-popup" on:click=move |_| dispatch.retry_popup()>"Retry"</button>
                </div>
            }
            .into_any())
        } else if timed_out.is_empty() {
            None
        } else {
            let names: Vec<&str> = timed_out.into_iter().map(|k| k.label()).collect();
            Some(view! {
                <div id="interactive-offer" class="hint" role="status">
                    <p>
                        {format!(
                            "No answer came back for: {}. The provider answered with its own \
                             page (a login form, a consent or an error page) instead of \
                             redirecting back; prompt=none may be unsupported, so these lines \
                             are unknown, not pass or fail. Run them interactively: sign in (or \
                             consent) in the probe window, and its answer grades them.",
                            names.join(", ")
                        )}
                    </p>
                    <button id="run-interactive" disabled=move || busy()
                        on:click=move |_| dispatch.lab(LabStart::Interactive)>
                        "Run these probes interactively"
                    </button>
                </div>
            }
            .into_any())
        }
    }
}
