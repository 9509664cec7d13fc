//! Provider settings: a preset with its setup hints, issuer, client id, scopes (with a picker),
//! manual endpoints, the redirect URI and origin to register, and a shareable link.

use super::driver::SettingsForm;
use super::notes::tr;
use crate::browser::{files, location};
use crate::flow::presets::{self, Fit, Preset, PRESETS};
use crate::flow::settings::{
    AuthParams, ClientType, ManualEndpoints, ProviderSettings, BUNDLED_CONFIDENTIAL_CLIENT,
    NAMED_PARAMETERS,
};
use crate::protocol::dpop::DpopAlg;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Scopes offered as checkboxes (plus the bundled provider's API scopes).
const COMMON_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "offline_access",
    "read:profile",
    "read:files",
];

/// The settings panel: a disclosure whose one-line summary names the provider and the client.
/// Folded when the page lands back from a provider trip (the user came for the run: the token
/// panel then starts in the first screen), open otherwise; after that, the user's clicks decide.
/// Its fields are built when it is first opened and then kept (folding only hides them), so the
/// callback page builds and lays out none of them (issue 12).
#[component]
pub fn SettingsPanel() -> impl IntoView {
    let form: SettingsForm = expect_context();
    // Which key algorithms this browser makes decides the next login's proofs, whether or not
    // the form is ever opened: probed once the page has settled, since its trial keys took
    // ~11 ms of WebCrypto on the callback page's path before the tokens (issue 12).
    let settled = super::settled::settled();
    crate::diagram::view::effect(Box::new(move || {
        if settled.get() {
            form.probe_dpop();
        }
    }));
    let open = !form.back_from_provider();
    let built = RwSignal::new(open);
    let line = move || form.with(|s| s.folded_line(form.dpop().0));
    view! {
        <section class="panel settings" aria-labelledby="settings-title">
            <details id="settings-panel" class="settings-fold" open=open
                on:toggle:target=move |ev| {
                    // Once: a second write would run the fields' view again and rewrite every
                    // field from the saved settings (text typed but not yet committed lost).
                    if ev.target().open() && !built.get_untracked() {
                        built.set(true);
                    }
                }>
                <summary>
                    <h2 id="settings-title">"Provider"</h2>
                    <span id="settings-summary" class="settings-summary">{line}</span>
                </summary>
                {move || built.get().then(|| view! { <SettingsFields /> })}
            </details>
        </section>
    }
}

/// The settings form. Every field is non-secret and saved in localStorage as it is typed.
#[component]
fn SettingsFields() -> impl IntoView {
    let form: SettingsForm = expect_context();
    let redirect_uri = location::redirect_uri();
    let origin = location::origin();
    let field = move |read: fn(&ProviderSettings) -> String| move || form.with(read);
    let copied = RwSignal::new("");
    let copy = move |text: String, what: &'static str| {
        spawn_local(async move {
            let done = files::copy(&text).await.is_ok();
            copied.set(if done { what } else { "" });
        });
    };
    let redirect_for_copy = redirect_uri.clone();
    let share_link = move || {
        let query = form.with(|l| l.share_query());
        format!("{}?{query}", location::redirect_uri())
    };
    view! {
        <label for="preset">"Preset"</label>
        <select id="preset"
            on:change=move |ev| form.preset(&event_target_value(&ev))>
            {PRESETS.iter().map(|p| {
                let id = p.id;
                view! {
                    <option value=id
                        prop:selected=move || form.with(|l| l.preset == id)>
                        {p.name}
                    </option>
                }
            }).collect_view()}
            <option value=presets::OTHER
                prop:selected=move || form.with(|l| l.preset == presets::OTHER)>
                "Other provider"
            </option>
        </select>
        <PresetHints redirect_uri=redirect_uri.clone() origin=origin.clone() />
        <label for="issuer">"Issuer"</label>
        <input id="issuer" type="url" spellcheck="false"
            prop:value=field(|l| l.issuer.clone())
            on:change=move |ev| {
                let v = event_target_value(&ev);
                form.edit(|s| s.set_issuer(v))
            } />
        <label for="client-id">"Client id"</label>
        <input id="client-id" type="text" spellcheck="false"
            prop:value=field(|l| l.client_id.clone())
            on:change=move |ev| {
                let v = event_target_value(&ev);
                form.edit(|s| s.client_id = v)
            } />
        <label for="scope">"Scopes"</label>
        <input id="scope" type="text" spellcheck="false"
            prop:value=field(|l| l.scope.clone())
            on:change=move |ev| {
                let v = event_target_value(&ev);
                form.edit(|s| s.scope = v)
            } />
        <div class="scope-picker" role="group" aria-label="Common scopes">
            {COMMON_SCOPES.iter().map(|scope| {
                let scope: &'static str = scope;
                view! {
                    <label class="scope-chip">
                        <input type="checkbox" data-scope=scope
                            prop:checked=move || form.with(|l| {
                                l.scope.split_whitespace().any(|s| s == scope)
                            })
                            on:change=move |_| toggle_scope(form, scope) />
                        {scope}
                    </label>
                }
            }).collect_view()}
        </div>
        <label for="api-base">"Resource API"</label>
        <input id="api-base" type="url" spellcheck="false"
            prop:value=field(|l| l.api_base.clone())
            on:change=move |ev| {
                let v = event_target_value(&ev);
                form.edit(|s| s.api_base = v)
            } />
        <ManualEndpointsForm />
        <AuthParamsForm />
        <fieldset class="client-type">
            <legend>"Client type"</legend>
            <label>
                <input id="client-public" type="radio" name="client-type"
                    prop:checked=move || form.with(|l| l.client_type == ClientType::Public)
                    on:change=move |_| switch_client_type(form, ClientType::Public) />
                " Public client with PKCE (no secret)"
            </label>
            <label>
                <input id="client-confidential" type="radio" name="client-type"
                    prop:checked=move || form.with(|l| l.client_type == ClientType::Confidential)
                    on:change=move |_| switch_client_type(form, ClientType::Confidential) />
                " Confidential, PKCE off (teaching only: needs a secret)"
            </label>
        </fieldset>
        <DpopSwitch />
        <p class="hint">
            "Redirect URI to register at the provider (exactly, byte for byte): "
            <code id="redirect-uri">{redirect_uri}</code>
            <button id="copy-redirect-uri" class="reveal"
                on:click=move |_| copy(redirect_for_copy.clone(), "redirect URI")>"Copy"</button>
        </p>
        <p class="hint">
            "Origin to allow for CORS: " <code id="app-origin">{origin}</code>
        </p>
        <p class="hint">
            "Share (never a secret): "
            <code id="share-link">{share_link}</code>
            <button id="copy-share-link" class="reveal"
                on:click=move |_| copy(share_link(), "link")>"Copy"</button>
        </p>
        <p class="hint" role="status">
            {move || (!copied.get().is_empty()).then(|| format!("Copied the {}.", copied.get()))}
        </p>
    }
}

/// The DPoP switch's explanation: where its state comes from (`dpop`: on, the user's choice, the
/// provider's default) and the proof algorithm the next login uses, with those on offer (`algs`:
/// offered, chosen, this tab's key).
fn dpop_origin_line(
    dpop: (bool, Option<bool>, Option<bool>),
    (allowed, chosen, key): (Vec<DpopAlg>, DpopAlg, Option<DpopAlg>),
) -> String {
    let mut line = match dpop {
        (_, Some(_), _) => "your choice",
        (_, None, Some(true)) => {
            "on by default: the provider lists dpop_signing_alg_values_supported"
        }
        (_, None, Some(false)) => {
            "off by default: the provider lists no proof algorithm this app signs with"
        }
        (_, None, None) => "follows the provider once its metadata is known",
    }
    .to_owned();
    line.push_str(". Proofs: ");
    line.push_str(chosen.name());
    line.push_str(", a non-extractable ");
    line.push_str(chosen.key_description());
    line.push_str(" key; offered (listed by the provider, made by this browser):");
    // Before the metadata is known (or when the provider lists none this browser makes), the
    // list is empty: say so rather than end the sentence on a colon.
    if allowed.is_empty() {
        line.push_str(" none yet");
    }
    for a in allowed {
        line.push(' ');
        line.push_str(a.name());
    }
    if let Some(k) = key {
        line.push_str("; this tab's key: ");
        line.push_str(k.name());
    }
    line
}

/// The DPoP switch (RFC 9449): on, the token requests, refreshes and API calls carry proofs
/// signed by a non-extractable key of this tab, and the tokens are bound to it. Until touched it
/// follows the provider's metadata (on when it lists a proof algorithm this app signs with).
/// Beside it, the proof algorithm: those the provider lists and this browser makes, ES256 first.
#[component]
fn DpopSwitch() -> impl IntoView {
    let form: SettingsForm = expect_context();
    let on = move || form.dpop().0;
    let algs = move || form.dpop_algs();
    // One line for where the switch comes from and which algorithm the next login uses.
    let origin = move || dpop_origin_line(form.dpop(), algs());
    view! {
        <fieldset class="dpop">
            <legend>"Sender-constrained tokens"</legend>
            <label>
                <input id="dpop" type="checkbox" prop:checked=on
                    on:change=move |ev| {
                        let checked = event_target_checked(&ev);
                        form.edit(|s| s.dpop = Some(checked))
                    } />
                " DPoP (RFC 9449): bind the tokens to a key of this tab"
            </label>
            <label>
                " Proof algorithm "
                <select id="dpop-alg"
                    on:change=move |ev| {
                        let picked = event_target_value(&ev);
                        form.edit(|s| s.dpop_alg = Some(picked))
                    }>
                    {move || {
                        let (allowed, chosen, _) = algs();
                        let mut shown = allowed;
                        if !shown.contains(&chosen) {
                            shown.insert(0, chosen);
                        }
                        shown.into_iter().map(|a| view! {
                            <option value=a.name() selected=a == chosen>{a.name()}</option>
                        }).collect_view()
                    }}
                </select>
            </label>
            <p class="hint" id="dpop-origin">{origin}</p>
        </fieldset>
    }
}

/// The selected preset's setup steps, CORS setting, caveats and, for GitHub and Google, why a
/// browser alone cannot do it.
#[component]
fn PresetHints(
    /// This page's redirect URI.
    redirect_uri: String,
    /// This page's origin.
    origin: String,
) -> impl IntoView {
    let form: SettingsForm = expect_context();
    move || {
        let id = form.with(|l| l.preset.clone());
        presets::find(&id).map(|preset: &'static Preset| {
            let fill = |text: &str| presets::fill(&tr(text), &redirect_uri, &origin);
            let steps = preset
                .setup
                .iter()
                .map(|step| view! { <li>{fill(step)}</li> })
                .collect_view();
            let caveats = preset
                .caveats
                .iter()
                .map(|c| view! { <li>{tr(c)}</li> })
                .collect_view();
            let cannot = match preset.fit {
                Fit::NeedsBackend { why, instead } => Some(view! {
                    <div id="preset-cannot" class="callout">
                        <p><strong>"Why this provider cannot serve a pure browser client: "</strong>{tr(why)}</p>
                        <p><strong>"What would be needed: "</strong>{tr(instead)}</p>
                    </div>
                }),
                Fit::PureBrowser => None,
            };
            let open = preset.id != presets::BUNDLED;
            view! {
                <details id="preset-hints" class="preset-hints" open=open>
                    <summary>"Setup for " {preset.name}</summary>
                    {cannot}
                    <ol id="setup-steps">{steps}</ol>
                    <p>"CORS: register " <code>{origin.clone()}</code> " in "
                        <span id="cors-setting">{preset.cors_setting}</span> "."</p>
                    <ul class="caveats">{caveats}</ul>
                    <p class="hint">{tr(preset.verified)}</p>
                </details>
            }
        })
    }
}

/// The "manual endpoints" disclosure: endpoints typed by hand replace discovery.
#[component]
fn ManualEndpointsForm() -> impl IntoView {
    let form: SettingsForm = expect_context();
    type Field = (
        &'static str,
        &'static str,
        fn(&ManualEndpoints) -> String,
        fn(&mut ManualEndpoints, String),
    );
    const FIELDS: [Field; 6] = [
        (
            "ep-authorization",
            "Authorization endpoint",
            |e| e.authorization_endpoint.clone(),
            |e, v| e.authorization_endpoint = v,
        ),
        (
            "ep-token",
            "Token endpoint",
            |e| e.token_endpoint.clone(),
            |e, v| e.token_endpoint = v,
        ),
        (
            "ep-jwks",
            "JWKS URI",
            |e| e.jwks_uri.clone(),
            |e, v| e.jwks_uri = v,
        ),
        (
            "ep-userinfo",
            "UserInfo endpoint",
            |e| e.userinfo_endpoint.clone(),
            |e, v| e.userinfo_endpoint = v,
        ),
        (
            "ep-revocation",
            "Revocation endpoint",
            |e| e.revocation_endpoint.clone(),
            |e, v| e.revocation_endpoint = v,
        ),
        (
            "ep-end-session",
            "End-session endpoint",
            |e| e.end_session_endpoint.clone(),
            |e, v| e.end_session_endpoint = v,
        ),
    ];
    view! {
        <details id="manual-endpoints" class="manual-endpoints"
            open=move || form.with(|l| l.manual)>
            <summary>"Manual endpoints (instead of discovery)"</summary>
            <label class="inline">
                <input id="manual" type="checkbox"
                    prop:checked=move || form.with(|l| l.manual)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        form.edit(|s| s.manual = on)
                    } />
                " Use these endpoints; do not fetch the discovery document"
            </label>
            {FIELDS.iter().map(|(id, label, read, write)| {
                let (id, read, write) = (*id, *read, *write);
                view! {
                    <label for=id>{*label}</label>
                    <input id=id type="url" spellcheck="false"
                        prop:value=move || form.with(|l| read(&l.endpoints))
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            form.edit(|s| write(&mut s.endpoints, v))
                        } />
                }
            }).collect_view()}
            <p class="hint">"Same rules as discovered endpoints: https, or http only on this \
                machine (127.0.0.1, localhost)."</p>
        </details>
    }
}

/// The "extra parameters" disclosure: named authorization parameters and free-form lines.
#[component]
fn AuthParamsForm() -> impl IntoView {
    let form: SettingsForm = expect_context();
    let custom = |p: &AuthParams| p.custom.clone();
    view! {
        <details id="auth-params" class="manual-endpoints">
            <summary>"Extra authorization parameters"</summary>
            {NAMED_PARAMETERS.iter().map(|(name, read)| {
                let (name, read) = (*name, *read);
                let id = format!("ap-{name}");
                view! {
                    <label for=id.clone()>{name}</label>
                    <input id=id type="text" spellcheck="false"
                        prop:value=move || form.with(|l| read(&l.auth_params).clone())
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            form.edit(|s| s.auth_params.set(name, v))
                        } />
                }
            }).collect_view()}
            <label for="ap-custom">"Other (a=b lines)"</label>
            <textarea id="ap-custom" rows="2" spellcheck="false"
                prop:value=move || form.with(|l| custom(&l.auth_params))
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    form.edit(|s| s.auth_params.custom = v)
                }></textarea>
        </details>
    }
}

/// Adds or removes one scope from the space-separated list.
fn toggle_scope(form: SettingsForm, scope: &str) {
    form.edit(|s| {
        let mut scopes: Vec<&str> = s.scope.split_whitespace().collect();
        if scopes.contains(&scope) {
            scopes.retain(|s| *s != scope);
        } else {
            scopes.push(scope);
        }
        s.scope = scopes.join(" ");
    });
}

/// Switches the client type; with the bundled provider's ids, swaps to the matching demo client.
fn switch_client_type(form: SettingsForm, client_type: ClientType) {
    form.edit(|s| {
        s.client_type = client_type;
        match client_type {
            ClientType::Confidential if s.client_id == "flow-lab" => {
                s.client_id = BUNDLED_CONFIDENTIAL_CLIENT.to_owned();
            }
            ClientType::Public if s.client_id == BUNDLED_CONFIDENTIAL_CLIENT => {
                s.client_id = "flow-lab".to_owned();
            }
            _ => {}
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpop_line_before_the_metadata_says_none_yet_instead_of_ending_on_a_colon() {
        let line = dpop_origin_line((false, None, None), (Vec::new(), DpopAlg::Es256, None));
        assert!(
            line.starts_with("follows the provider once its metadata is known"),
            "{line}"
        );
        assert!(line.ends_with("made by this browser): none yet"), "{line}");
    }

    #[test]
    fn dpop_line_lists_the_offered_algorithms_and_the_tabs_key() {
        let line = dpop_origin_line(
            (true, None, Some(true)),
            (
                vec![DpopAlg::Es256, DpopAlg::Rs256],
                DpopAlg::Es256,
                Some(DpopAlg::Es256),
            ),
        );
        assert!(line.starts_with("on by default"), "{line}");
        assert!(
            line.contains("made by this browser): ES256 RS256; this tab's key: ES256"),
            "{line}"
        );
        assert!(!line.contains("none yet"), "{line}");
    }
}
