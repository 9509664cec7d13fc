//! In-browser tests of the diagram panel (explain mode needs no provider): the inspector masks
//! secrets until revealed, reduced motion removes movement, the keyboard steps the replay.
#![cfg(target_arch = "wasm32")]

use oauth_flow_lab::ui::explain_panel::ExplainPanel;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, KeyboardEvent, KeyboardEventInit};

wasm_bindgen_test_configure!(run_in_browser);

mod web_support;
use web_support::{click, settle, text};

fn mount() -> (Element, impl Drop) {
    web_support::mount(ExplainPanel)
}

#[wasm_bindgen_test]
async fn x08_inspector_masks_secrets_until_reveal() {
    let (host, _guard) = mount();
    settle().await;
    host.query_selector("#diagram g.row[data-kind=GenerateVerifier]")
        .unwrap()
        .expect("verifier row")
        .unchecked_into::<web_sys::SvgElement>()
        .dispatch_event(&web_sys::MouseEvent::new("click").unwrap())
        .unwrap();
    settle().await;
    let masked = text(&host, "#inspector code.value.secret");
    assert!(masked.contains('…'), "masked: {masked}");
    assert!(!masked.contains("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
    click(&host, "#inspector button.reveal");
    settle().await;
    let revealed = text(&host, "#inspector code.value.secret");
    assert_eq!(revealed, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
}

#[wasm_bindgen_test]
async fn reduced_motion_removes_the_travelling_packet() {
    let (host, _guard) = mount();
    settle().await;
    let checkbox: web_sys::HtmlInputElement = host
        .query_selector("#reduce-motion")
        .unwrap()
        .unwrap()
        .unchecked_into();
    if checkbox.checked() {
        // The system already prefers reduced motion: switch it off to see the packet first.
        checkbox.click();
        settle().await;
    }
    assert_eq!(
        host.query_selector_all("#diagram .packet")
            .unwrap()
            .length(),
        1
    );
    checkbox.click();
    settle().await;
    assert_eq!(
        host.query_selector_all("#diagram .packet")
            .unwrap()
            .length(),
        0
    );
    let svg = host.query_selector("#diagram").unwrap().unwrap();
    assert!(svg.class_list().contains("reduced-motion"));
    // Every state change still shows: stepping back still removes a row.
    let rows = host.query_selector_all("#diagram g.row").unwrap().length();
    click(&host, "#replay-back");
    settle().await;
    assert_eq!(
        host.query_selector_all("#diagram g.row").unwrap().length(),
        rows - 1
    );
}

#[wasm_bindgen_test]
async fn keyboard_arrows_and_space_step_the_replay() {
    let (host, _guard) = mount();
    settle().await;
    let total = host.query_selector_all("#diagram g.row").unwrap().length();
    let pane: HtmlElement = host
        .query_selector(".diagram-scroll")
        .unwrap()
        .unwrap()
        .unchecked_into();
    let press = |key: &str| {
        let init = KeyboardEventInit::new();
        init.set_key(key);
        init.set_bubbles(true);
        pane.dispatch_event(
            &KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap(),
        )
        .unwrap();
    };
    press("ArrowLeft");
    press("ArrowLeft");
    settle().await;
    assert_eq!(
        text(&host, "#replay-position"),
        format!("{} / {total}", total - 2)
    );
    press("ArrowRight");
    settle().await;
    assert_eq!(
        text(&host, "#replay-position"),
        format!("{} / {total}", total - 1)
    );
    press(" ");
    settle().await;
    assert_eq!(
        text(&host, "#replay-play"),
        "❚❚ Pause",
        "space plays from here"
    );
    press(" ");
    settle().await;
    assert_eq!(text(&host, "#replay-play"), "▶ Play", "space again pauses");
    // Each shown step is announced in one plain sentence.
    press("ArrowRight");
    settle().await;
    assert!(
        text(&host, "#announcer").starts_with(&format!("Step {total}: ")),
        "{}",
        text(&host, "#announcer")
    );
}

#[wasm_bindgen_test]
async fn back_in_replay_shows_each_remaining_step_settled_and_next_replays_the_arrival() {
    let (host, _guard) = mount();
    settle().await;
    let checkbox: web_sys::HtmlInputElement = host
        .query_selector("#reduce-motion")
        .unwrap()
        .unwrap()
        .unchecked_into();
    if checkbox.checked() {
        checkbox.click();
        settle().await;
    }
    let count = |css: &str| host.query_selector_all(css).unwrap().length();
    assert_eq!(count("#diagram g.row.newest"), 1, "the newest step arrives");
    click(&host, "#replay-back");
    settle().await;
    assert_eq!(count("#diagram g.row.newest"), 0, "Back replays nothing");
    assert_eq!(count("#diagram .packet"), 0);
    click(&host, "#replay-forward");
    settle().await;
    assert_eq!(
        count("#diagram g.row.newest"),
        1,
        "Next plays the step that arrives"
    );
    assert_eq!(count("#diagram .packet"), 1);
}

/// Issue 12's performance goal: a step that arrives draws its own row and list item and
/// rewrites nothing in the rows and items before it (each redraw of an element rewrites all its
/// attributes: redrawing every row on each event led the callback page's profile). The lane
/// headers only follow the new height: three attributes, not a redraw.
#[wasm_bindgen_test]
async fn p12_a_new_step_redraws_no_earlier_row_or_list_item() {
    use leptos::prelude::*;
    use oauth_flow_lab::diagram::replay::Replay;
    use oauth_flow_lab::diagram::view::SequenceDiagram;
    use oauth_flow_lab::flow::timeline::{Actor, Channel, Step, StepKind, Timeline};
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::closure::Closure;

    let step = |label: &str| {
        Step::new(
            StepKind::TokenRequest,
            Actor::ClientApp,
            Actor::AuthorizationServer,
            Channel::Back,
            label,
            0,
        )
    };
    let timeline = RwSignal::new(Timeline::new());
    timeline.update(|t| {
        for label in ["one", "two", "three"] {
            t.push_done(step(label), 5.0);
        }
    });
    let (host, _guard) = web_support::mount(move || {
        view! {
            <SequenceDiagram timeline=timeline replay=RwSignal::new(Replay::default())
                selected=RwSignal::new(None) reduced_motion=false narrow=false />
            <oauth_flow_lab::ui::timeline_list::TimelineList timeline=timeline.into() />
        }
    });
    settle().await;
    let count = |css: &str| host.query_selector_all(css).unwrap().length();
    assert_eq!(count("#diagram g.row"), 3);
    assert_eq!(count("#timeline > li"), 3);

    // Every attribute write and node change from here on, by the row or item it lands in.
    let touched: Rc<RefCell<Vec<String>>> = Rc::default();
    let seen = touched.clone();
    let callback = Closure::<dyn FnMut(js_sys::Array)>::new(move |records: js_sys::Array| {
        for record in records.iter() {
            let record: web_sys::MutationRecord = record.unchecked_into();
            let Some(target) = record.target() else {
                continue;
            };
            let element = target
                .dyn_ref::<Element>()
                .cloned()
                .or_else(|| target.parent_element());
            let place = element
                .and_then(|e| {
                    e.closest("#diagram g.row, #timeline > li, #diagram g.lanes")
                        .ok()
                        .flatten()
                })
                .map(|e| {
                    if e.get_attribute("class").as_deref() == Some("lanes") {
                        return "lanes".to_owned();
                    }
                    let list = e.tag_name() == "LI";
                    let index = e.get_attribute("data-step").unwrap_or_else(|| {
                        let items = e.parent_element().unwrap().children();
                        (0..items.length())
                            .position(|i| items.item(i).as_ref() == Some(&e))
                            .unwrap()
                            .to_string()
                    });
                    format!("{} {index}", if list { "item" } else { "row" })
                })
                .unwrap_or_else(|| "elsewhere".to_owned());
            seen.borrow_mut().push(format!(
                "{place}: {} {}",
                record.type_(),
                record.attribute_name().unwrap_or_default()
            ));
        }
    });
    let observer = web_sys::MutationObserver::new(callback.as_ref().unchecked_ref()).unwrap();
    let init = web_sys::MutationObserverInit::new();
    init.set_subtree(true);
    init.set_child_list(true);
    init.set_attributes(true);
    init.set_character_data(true);
    observer.observe_with_options(&host, &init).unwrap();

    timeline.update(|t| {
        t.push_done(step("four"), 5.0);
    });
    settle().await;
    settle().await;
    observer.disconnect();
    assert_eq!(count("#diagram g.row"), 4, "the new step is drawn");
    assert_eq!(count("#timeline > li"), 4, "and listed");
    let touched = touched.borrow();
    // The row that was newest loses its arrival; rows 0 and 1 and the first three list items
    // are left as they are.
    let earlier: Vec<&String> = touched
        .iter()
        .filter(|t| {
            ["row 0", "row 1", "item 0", "item 1", "item 2"]
                .iter()
                .any(|p| t.starts_with(&format!("{p}:")))
        })
        .collect();
    assert!(
        earlier.is_empty(),
        "earlier rows and items were redrawn: {earlier:?}"
    );
    let lanes: Vec<&String> = touched.iter().filter(|t| t.starts_with("lanes:")).collect();
    assert!(
        !lanes.is_empty()
            && lanes.iter().all(|t| {
                [
                    "lanes: attributes height",
                    "lanes: attributes y",
                    "lanes: attributes y2",
                ]
                .contains(&t.as_str())
            }),
        "the lanes were redrawn, not lengthened: {lanes:?}"
    );
}
