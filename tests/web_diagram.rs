//! In-browser tests of the diagram panel (explain mode needs no provider): the inspector masks
//! secrets until revealed, reduced motion removes movement, the keyboard steps the replay.
#![cfg(target_arch = "wasm32")]

use oauth_flow_lab::ui::explain_panel::ExplainPanel;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, KeyboardEvent, KeyboardEventInit};

wasm_bindgen_test_configure!(run_in_browser);

mod web_support;
use web_support::{click, settle, text, Watch};

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

/// Where a DOM change landed: by the diagram row or list item ("row 2: attributes class",
/// "item 3: characterData "), "lanes" for the lane headers and "elsewhere" for the rest.
fn place_of(record: &web_sys::MutationRecord) -> String {
    let element = record.target().and_then(|target| {
        target
            .dyn_ref::<Element>()
            .cloned()
            .or_else(|| target.parent_element())
    });
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
    format!(
        "{place}: {} {}",
        record.type_(),
        record.attribute_name().unwrap_or_default()
    )
}

/// A token request between the client app and the authorization server, labelled `label`.
fn token_step(label: &str) -> oauth_flow_lab::flow::timeline::Step {
    use oauth_flow_lab::flow::timeline::{Actor, Channel, Step, StepKind};
    Step::new(
        StepKind::TokenRequest,
        Actor::ClientApp,
        Actor::AuthorizationServer,
        Channel::Back,
        label,
        0,
    )
}

/// The diagram and the step list of `timeline`, live, with the packets on.
fn mount_live(
    timeline: leptos::prelude::RwSignal<oauth_flow_lab::flow::timeline::Timeline>,
) -> (Element, impl Drop) {
    use leptos::prelude::*;
    use oauth_flow_lab::diagram::replay::Replay;
    use oauth_flow_lab::diagram::view::SequenceDiagram;
    web_support::mount(move || {
        view! {
            <SequenceDiagram timeline=timeline replay=RwSignal::new(Replay::default())
                selected=RwSignal::new(None) reduced_motion=false narrow=false />
            <oauth_flow_lab::ui::timeline_list::TimelineList timeline=timeline.into() />
        }
    })
}

/// Issue 12's performance goal: a step that arrives draws its own row and list item and
/// rewrites nothing in the rows and items before it (each redraw of an element rewrites all its
/// attributes: redrawing every row on each event led the callback page's profile). The lane
/// headers only follow the new height: three attributes, not a redraw. The row that was
/// arriving only ends its arrival: its `newest` class and its packet go, the row stays.
#[wasm_bindgen_test]
async fn p12_a_new_step_redraws_no_earlier_row_or_list_item() {
    use leptos::prelude::*;
    use oauth_flow_lab::flow::timeline::Timeline;

    let timeline = RwSignal::new(Timeline::new());
    timeline.update(|t| {
        for label in ["one", "two", "three"] {
            t.push_done(token_step(label), 5.0);
        }
    });
    let (host, _guard) = mount_live(timeline);
    settle().await;
    let count = |css: &str| host.query_selector_all(css).unwrap().length();
    assert_eq!(count("#diagram g.row"), 3);
    assert_eq!(count("#timeline > li"), 3);
    let arriving = host
        .query_selector("#diagram g.row[data-step='2']")
        .unwrap()
        .unwrap();
    assert!(
        arriving.class_list().contains("newest"),
        "the newest step arrives"
    );
    assert_eq!(count("#diagram g.row[data-step='2'] .packet"), 1);

    let watch = Watch::start(&host, place_of);
    timeline.update(|t| {
        t.push_done(token_step("four"), 5.0);
    });
    settle().await;
    settle().await;
    let touched = watch.stop();
    assert_eq!(count("#diagram g.row"), 4, "the new step is drawn");
    assert_eq!(count("#timeline > li"), 4, "and listed");
    // Rows 0 and 1 and the first three list items are left as they are.
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
    // The row that was arriving is the same element, settled: one class removed, the packet
    // removed, nothing redrawn.
    let row_2 = host
        .query_selector("#diagram g.row[data-step='2']")
        .unwrap()
        .unwrap();
    assert!(
        row_2.is_same_node(Some(&arriving)),
        "the row that was arriving was redrawn"
    );
    assert!(!row_2.class_list().contains("newest"));
    assert_eq!(count("#diagram g.row[data-step='2'] .packet"), 0);
    let settled: Vec<&String> = touched.iter().filter(|t| t.starts_with("row 2:")).collect();
    // The class, and the packet swapped for its empty placeholder (one or two node records).
    assert!(
        settled.len() <= 3
            && settled
                .iter()
                .filter(|t| **t == "row 2: attributes class")
                .count()
                == 1
            && settled
                .iter()
                .all(|t| ["row 2: attributes class", "row 2: childList "].contains(&t.as_str())),
        "the row that was arriving was rewritten, not just settled: {settled:?}"
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

/// Issue 12: a step's status change (in progress → done, with its duration) keeps its diagram
/// row and its list item and rewrites only the status (class, `data-status`) and the duration
/// text; the notes' arrival rewrites only their text; a change of what the row does not draw
/// (the exchange, the note) leaves the row alone.
#[wasm_bindgen_test]
async fn p12_a_status_change_rewrites_only_the_status_and_the_duration() {
    use leptos::prelude::*;
    use oauth_flow_lab::flow::timeline::{HttpExchange, Timeline};

    let timeline = RwSignal::new(Timeline::new());
    let mut id = 0;
    timeline.update(|t| {
        for label in ["one", "two", "three"] {
            t.push_done(token_step(label), 5.0);
        }
        id = t.push(token_step("four"));
    });
    let (host, _guard) = mount_live(timeline);
    settle().await;
    let element = |css: &str| host.query_selector(css).unwrap().expect(css);
    let row = element("#diagram g.row[data-step='3']");
    let item = element("#timeline > li:nth-child(4)");
    assert_eq!(row.get_attribute("data-status").as_deref(), Some("active"));
    assert!(row.class_list().contains("active"));
    assert_eq!(text(&host, "#diagram g.row[data-step='3'] .duration"), "");

    let watch = Watch::start(&host, place_of);
    timeline.update(|t| t.complete(id, 38));
    settle().await;
    settle().await;
    let touched = watch.stop();
    assert!(
        element("#diagram g.row[data-step='3']").is_same_node(Some(&row)),
        "the row was redrawn"
    );
    assert!(
        element("#timeline > li:nth-child(4)").is_same_node(Some(&item)),
        "the list item was redrawn"
    );
    assert_eq!(row.get_attribute("data-status").as_deref(), Some("ok"));
    assert!(row.class_list().contains("ok") && !row.class_list().contains("active"));
    assert!(
        row.class_list().contains("newest"),
        "still arriving: not cut"
    );
    assert_eq!(
        text(&host, "#diagram g.row[data-step='3'] .duration"),
        "38 ms"
    );
    assert_eq!(item.get_attribute("data-status").as_deref(), Some("ok"));
    assert!(item.class_list().contains("ok") && !item.class_list().contains("active"));
    assert_eq!(
        text(&host, "#timeline > li:nth-child(4) .duration"),
        "38 ms"
    );
    // The class, data-status and the duration's text: one write each, no more.
    for place in ["row 3", "item 3"] {
        let writes: Vec<&String> = touched
            .iter()
            .filter(|t| t.starts_with(&format!("{place}:")))
            .collect();
        assert!(
            writes.len() <= 3
                && writes.iter().all(|t| {
                    [
                        "attributes class",
                        "attributes data-status",
                        "characterData ",
                    ]
                    .iter()
                    .any(|w| *t == &format!("{place}: {w}"))
                }),
            "{place} was rewritten beyond its status and duration: {writes:?}"
        );
    }
    let others: Vec<&String> = touched
        .iter()
        .filter(|t| !t.starts_with("row 3:") && !t.starts_with("item 3:"))
        .collect();
    assert!(others.is_empty(), "other rows or items changed: {others:?}");

    // The teaching notes arrive (the catalog is fetched after the first paint): each item's
    // note text is rewritten in place, no item is redrawn, and no diagram row is touched.
    let watch = Watch::start(&host, place_of);
    timeline.update(|t| {
        for step in 0..4 {
            t.step_mut(step).unwrap().note = format!("Why step {step}.");
        }
    });
    settle().await;
    settle().await;
    let touched = watch.stop();
    assert_eq!(
        text(&host, "#timeline > li:nth-child(4) .note"),
        "Why step 3."
    );
    assert!(
        touched.len() == 4 && touched.iter().all(|t| t.ends_with(": characterData ")),
        "more than the notes' text was rewritten: {touched:?}"
    );

    // The response arrives on a finished step: the list shows it, the diagram does not draw it.
    let watch = Watch::start(&host, place_of);
    timeline.update(|t| {
        let step = t.step_mut(id).unwrap();
        step.exchange = Some(HttpExchange::json_get("https://as.example/token"));
    });
    settle().await;
    settle().await;
    let touched = watch.stop();
    let rows: Vec<&String> = touched.iter().filter(|t| t.starts_with("row")).collect();
    assert!(rows.is_empty(), "a row was rewritten: {rows:?}");
    assert!(element("#diagram g.row[data-step='3']").is_same_node(Some(&row)));
}
