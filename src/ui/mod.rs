//! Leptos components. They read the one `Lab` state and call `session` for anything that acts.
// In this module and every ui module, a closure passed to `view!` by name is written
// `move || f()` on purpose: the macro shares one render instance per output type only for a
// closure written in place (`--cfg erase_components`), so the "redundant" closure saves wasm
// (docs/performance.md).
#![allow(clippy::redundant_closure)]

mod api;
mod attack_lab;
mod diagram_panel;
mod dpop;
pub mod driver;
pub mod explain_panel;
mod export_bar;
mod har_import;
mod identity;
mod inspector;
pub mod notes;
mod problem;
mod secret_prompt;
mod settings;
mod settled;
mod stolen_token;
pub mod timeline_list;
mod tokens;

use crate::flow::session::Action;
use driver::{Dispatch, Phase, StatusView};
use leptos::prelude::*;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let lab = RwSignal::new(driver::restore());
    driver::provide(lab);
    driver::save_on_change(lab);
    driver::page_loaded(lab);
    let drawn = driver::draw_when_sent(lab);
    // The step list and the teaching text wait until the page has settled (the tokens shown,
    // on a callback page); the callback's work never waits for them.
    settled::provide();
    let notes = notes::provide();
    let StatusView(status) = expect_context();
    let phase = move || status.with(|s| s.phase.css());
    // Back from a trip the attack lab made (a probe, a forged link, a lab login): its tab.
    let start = if lab.with_untracked(|l| {
        l.timeline.has_attacker() || l.attack.scorecard.is_some() && l.timeline.is_empty()
    }) {
        Tab::Attack
    } else {
        Tab::Live
    };
    let tab = RwSignal::new(start);
    // Back from the provider, the diagram is drawn once the login's work is done: its rows and
    // their SVG text were most of the callback page's own time (built and laid out again as each
    // step arrived); drawn once, after the tokens, the page shows what the user came back for
    // first (issue 12).
    let diagram_waits = lab.with_untracked(crate::flow::session::Session::back_from_provider);
    // The diagram and the list redraw when the run changes, not on every change of the state
    // (a phase or a token panel update would otherwise redraw every row).
    // Resolved from the teaching text catalog here, once, so the views show plain text.
    let timeline: Signal<_> =
        Memo::new(move |_| lab.with(|l| notes::resolved_timeline(&l.timeline))).into();
    // The masthead waits with the rest: drawn before the DPoP key's answer, it held that
    // answer's task, and so the token request, back (issue 12).
    view! {
        {move || drawn.get().then(|| view! {
        <header class="masthead">
            <h1>"OAuth Flow Lab"</h1>
            <p class="tagline">
                "A real OAuth 2.0 public client with PKCE, recording every step as it happens. "
                "A teaching tool: tokens live in this page's memory only."
            </p>
            <notes::NotesStatus />
        </header>
        <main id="lab" data-phase=move || phase() data-notes=move || notes.with(notes::Notes::label)>
            <div class="columns">
                <section class="left">
                    <settings::SettingsPanel />
                    <Controls />
                    <secret_prompt::SecretPrompt />
                    <problem::ProblemBanner />
                    <identity::SessionActions />
                    <tokens::TokenPanel />
                    <identity::IdentityPanel />
                    <api::ApiPanel />
                </section>
                <section class="right">
                    <div class="tabs" role="tablist" aria-label="View">
                        {tab_button(tab, Tab::Live, "tab-live", "Live run")}
                        {tab_button(tab, Tab::Explain, "tab-explain", "Explain mode (no provider)")}
                        {tab_button(tab, Tab::Attack, "tab-attack", "Attack lab & checkup")}
                        {tab_button(tab, Tab::Import, "tab-import", "Import HAR")}
                    </div>
                    {move || match tab.get() {
                        Tab::Explain => view! {
                            <section class="panel diagram-panel" aria-label="Explain mode">
                                <explain_panel::ExplainPanel />
                            </section>
                        }.into_any(),
                        Tab::Import => view! { <har_import::HarImport /> }.into_any(),
                        Tab::Attack => view! { <attack_lab::AttackLab /> }.into_any(),
                        Tab::Live => ().into_any(),
                    }}
                    // One instance of the live diagram and list for both tabs that show them
                    // (one copy of their view code in the wasm), drawn afresh on each tab
                    // change as when each tab had its own.
                    {move || matches!(tab.get(), Tab::Live | Tab::Attack).then(|| view! {
                        <diagram_panel::DiagramPanel timeline=timeline waits=diagram_waits />
                        <timeline_list::TimelineList timeline=timeline />
                    })}
                </section>
            </div>
        </main>
        })}
    }
}

/// One tab's button: selected while `tab` is `which`, selects it when clicked (one copy of the
/// button's code for the four tabs).
fn tab_button(
    tab: RwSignal<Tab>,
    which: Tab,
    id: &'static str,
    label: &'static str,
) -> impl IntoView {
    view! {
        <button id=id role="tab" aria-selected=move || aria(tab.get() == which)
            on:click=move |_| tab.set(which)>{label}</button>
    }
}

/// `then` while `when` holds, else `otherwise`, each drawn again only when `when` changes:
/// what `<Show>` does, with one copy of its code in the wasm for every use (`<Show>` is
/// instantiated per condition and per content type).
pub(crate) fn show_when(
    when: Box<dyn Fn() -> bool + Send + Sync>,
    then: Box<dyn Fn() -> AnyView + Send + Sync>,
    otherwise: Box<dyn Fn() -> AnyView + Send + Sync>,
) -> impl IntoView {
    let when = crate::diagram::view::memo_bool(when);
    view! { {move || if when.get() { then() } else { otherwise() }} }
}

/// Nothing, for [`show_when`]'s `otherwise`.
pub(crate) fn nothing() -> Box<dyn Fn() -> AnyView + Send + Sync> {
    Box::new(|| ().into_any())
}

/// An ARIA state's value (`aria-selected`, `aria-pressed`): a static string, so no
/// formatting code is pulled in for it.
pub(crate) fn aria(on: bool) -> &'static str {
    if on {
        "true"
    } else {
        "false"
    }
}

/// Which view the right-hand column shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    /// The live run's diagram.
    Live,
    /// Scripted runs, no provider.
    Explain,
    /// Experiments and the provider checkup.
    Attack,
    /// A browser HAR of any app's login, drawn and graded.
    Import,
}

/// Log in / Log out / API buttons and the one-line status.
#[component]
fn Controls() -> impl IntoView {
    let (StatusView(status), dispatch) = (expect_context(), expect_context::<Dispatch>());
    let busy = move || status.with(|s| s.phase.is_busy());
    let logged_in = move || status.with(|s| s.logged_in);
    let api = move |path: &'static str| move |_| dispatch.action(Action::CallApi(path));
    view! {
        <section class="controls" aria-label="Actions">
            <button id="login" class="primary" on:click=move |_| dispatch.login()
                disabled=move || busy()>
                "Log in"
            </button>
            <button id="logout" on:click=move |_| dispatch.action(Action::Logout)
                disabled=move || !logged_in()>
                "Log out"
            </button>
            <button id="call-profile" on:click=api("/api/profile")
                disabled=move || !logged_in() || busy()>
                "Call /api/profile"
            </button>
            <button id="call-files" on:click=api("/api/files")
                disabled=move || !logged_in() || busy()>
                "Call /api/files"
            </button>
            <p id="status" role="status" aria-live="polite">
                {move || status.with(|s| status_line(&s.phase))}
            </p>
        </section>
    }
}

fn status_line(phase: &Phase) -> String {
    let line = match phase {
        Phase::Idle => "Not logged in.",
        Phase::Discovering => "Fetching the provider's metadata…",
        Phase::Redirecting => "Leaving for the provider's login page…",
        Phase::Exchanging => "Exchanging the code for tokens…",
        Phase::Verifying => "Checking the ID token…",
        Phase::Refreshing => "Refreshing the tokens…",
        Phase::Revoking => "Revoking a token…",
        Phase::LoggedIn => "Logged in: tokens are in memory.",
        Phase::CallingApi => "Calling the API…",
        Phase::WaitingIatWindow { left_s } => {
            return format!("Late replay: waiting {left_s} s for the API's iat window to pass…")
        }
        Phase::AwaitingSecret => "Code received: type the client secret to redeem it.",
        Phase::Failed => "Stopped: see what happened below.",
    };
    line.to_owned()
}
