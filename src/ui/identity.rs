//! Who logged in, and what each token is for: the access token and the verified ID token side
//! by side, the decoded ID token, UserInfo, and the session actions (UserInfo, refresh, revoke,
//! logout at the provider). Untrusted values are text nodes only.

use super::driver::{Dispatch, SessionShown, SessionView, StatusView};
use crate::browser::clock;
use crate::flow::session::Action;
use crate::protocol::error::sanitize_for_display;
use crate::protocol::jwt::NonceCheck;
use crate::protocol::revocation::TokenKind;
use leptos::prelude::*;

/// One session action: element id, label, the action, when it is possible.
type SessionAction = (
    &'static str,
    &'static str,
    Action,
    fn(&SessionShown) -> bool,
);

fn has_refresh(s: &SessionShown) -> bool {
    s.tokens.as_ref().is_some_and(|t| t.refresh_token.is_some())
}

const ACTIONS: [SessionAction; 5] = [
    ("call-userinfo", "Call UserInfo", Action::UserInfo, |s| {
        s.provider.is_some_and(|m| m.userinfo)
    }),
    ("refresh", "Refresh tokens", Action::Refresh, |s| {
        s.provider.is_some() && has_refresh(s)
    }),
    (
        "revoke-access",
        "Revoke access token",
        Action::Revoke(TokenKind::Access),
        |s| s.provider.is_some_and(|m| m.revocation),
    ),
    (
        "revoke-refresh",
        "Revoke refresh token",
        Action::Revoke(TokenKind::Refresh),
        |s| has_refresh(s) && s.provider.is_some_and(|m| m.revocation),
    ),
    (
        "logout-provider",
        "Log out at the provider too",
        // The logout's `state` bytes are drawn at the click (`Dispatch::action`).
        Action::LogoutAtProvider([0; 32]),
        |s| s.provider.is_some_and(|m| m.end_session),
    ),
];

/// Buttons for what can be done with the tokens; each dispatches an action to the session.
#[component]
pub fn SessionActions() -> impl IntoView {
    let (shown, StatusView(status)) = (expect_context::<SessionView>(), expect_context());
    let dispatch = expect_context::<Dispatch>();
    let actions = move || {
        view! {
            <section class="controls session-actions" aria-label="Session actions">
                {ACTIONS.iter().map(|(id, label, action, possible)| {
                    let (action, possible) = (*action, *possible);
                    view! {
                        <button id=*id on:click=move |_| dispatch.action(action)
                            disabled=move || shown.with(|s| s.tokens.is_none() || !possible(s))
                                || status.with(|s| s.phase.is_busy())>{*label}</button>
                    }
                }).collect_view()}
                // Disabled buttons alone do not say why (issue 15: LemonLDAP::NG has none).
                {move || shown
                    .with(|s| s.provider.is_some_and(|m| !m.revocation))
                    .then(|| view! {
                        <p id="no-revocation" class="hint">"This provider has no revocation \
                            endpoint (RFC 7009): its tokens cannot be revoked here and stay valid \
                            until they expire. Logging out at the provider ends its session."</p>
                    })}
            </section>
        }
        .into_any()
    };
    super::show_when(
        Box::new(move || shown.with(|s| s.tokens.is_some())),
        Box::new(actions),
        super::nothing(),
    )
}

fn when(epoch_s: u64) -> String {
    clock::local_time(epoch_s.saturating_mul(1000))
}

/// How the access token travels, as this app really sends it: a DPoP-bound token goes with
/// the `DPoP` scheme and a proof of this tab's key on every request (RFC 9449 §7.1).
pub fn sent_as(dpop: bool) -> &'static str {
    if dpop {
        "APIs and UserInfo, as Authorization: DPoP <token> with a DPoP: <proof> header, \
         signed by this tab's key for each request"
    } else {
        "APIs and UserInfo, as Authorization: Bearer <token>"
    }
}

/// The access token and the ID token side by side, the decoded ID token, and UserInfo.
#[component]
pub fn IdentityPanel() -> impl IntoView {
    let shown: SessionView = expect_context();
    let rejected = move || {
        shown.with(|s| s.rejected.clone()).map(|r| {
            view! {
                <section id="rejected-id-token" class="panel problem" aria-labelledby="rejected-title">
                    <h2 id="rejected-title">"ID token rejected: nothing in it is trusted"</h2>
                    <p class="hint">"Decoded only to show what arrived. Its signature or claims \
                        failed validation, so the login was refused and the tokens discarded."</p>
                    <pre class="jwt-header">{r.header_json}</pre>
                    <pre class="jwt-claims">{r.claims_json}</pre>
                </section>
            }
        })
    };
    // Drawn once the page has settled: back from the provider, the frame that shows the tokens
    // does not also build and lay out this table and the decoded token (issue 12); one frame
    // later, they follow.
    let settled = super::settled::settled();
    let compare = move || {
        if !settled.get() {
            return None;
        }
        shown.with(|l| {
            let tokens = l.tokens.as_ref()?;
            let client_id = l.client_id.clone();
            let scope = sanitize_for_display(&tokens.granted_scope, 4096);
            let access_expiry = tokens
                .expires_in
                .map(|s| format!("in {s} s (expires_in)"))
                .unwrap_or_else(|| "not stated".to_owned());
            let revoked = l.revoked.access.then_some(" — revoked at the provider");
            let dpop = tokens.token_type == "DPoP";
            let id = l.identity.clone();
            let identity = |f: &dyn Fn(&crate::flow::oidc::VerifiedIdToken) -> String| {
                id.as_ref().map(f).unwrap_or_default()
            };
            let rows: [(&str, &str, String, String); 5] = [
                (
                    "Meant for",
                    "id-aud",
                    "The API (resource server). Opaque to this app; it only forwards it.".into(),
                    match &id {
                        Some(i) => format!(
                            "This app: aud = {} (this client is {client_id})",
                            i.claims.aud.join(", ")
                        ),
                        None => "No ID token: openid was not requested or not granted.".into(),
                    },
                ),
                (
                    "Proves",
                    "id-proves",
                    format!(
                        "{}: {scope}{}",
                        if dpop {
                            "Whoever holds it and this tab's DPoP key may do"
                        } else {
                            "The bearer may do"
                        },
                        revoked.unwrap_or("")
                    ),
                    identity(&|i| {
                        format!(
                            "{} signed in at {}{}",
                            i.claims
                                .name
                                .clone()
                                .unwrap_or_else(|| format!("sub {}", i.claims.shown_sub())),
                            i.claims.iss,
                            i.claims
                                .auth_time
                                .map(|t| format!(" at {}", when(t)))
                                .unwrap_or_default()
                        )
                    }),
                ),
                (
                    "Checked by this app",
                    "id-checked",
                    "Nothing: only the API can judge it.".into(),
                    identity(&|i| {
                        // The nonce is named only when it was compared (a refresh may not).
                        format!(
                            "{} signature (key {}), iss, aud, exp{}",
                            i.alg,
                            i.kid
                                .as_deref()
                                .map(|kid| sanitize_for_display(kid, 64))
                                .unwrap_or_else(|| "without kid".into()),
                            if i.claims.nonce == NonceCheck::Matches {
                                ", nonce"
                            } else {
                                ""
                            }
                        )
                    }),
                ),
                (
                    "Expires",
                    "id-exp",
                    access_expiry,
                    identity(&|i| format!("at {} (exp)", when(i.claims.exp))),
                ),
                (
                    "Sent to",
                    "id-sent",
                    sent_as(dpop).into(),
                    "Nowhere (only as id_token_hint when logging out at the provider)".into(),
                ),
            ];
            Some(view! {
                <section id="identity" class="panel identity" aria-labelledby="identity-title">
                    <h2 id="identity-title">"Access token vs ID token"</h2>
                    <table class="compare">
                        <thead><tr><th>"What"</th><th>"Access token"</th><th>"ID token"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|(head, id, access, identity)| view! {
                                <tr><th>{head}</th><td id=format!("{id}-access")>{access}</td><td id=id>{identity}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    {id.map(|i| view! {
                        <details id="id-token-decoded" open=true>
                            <summary>"ID token, decoded and verified"</summary>
                            <p>"Subject: " <code id="id-sub">{i.claims.shown_sub()}</code></p>
                            <h3>"Header"</h3>
                            <pre id="id-header" class="jwt-header">{i.header_json}</pre>
                            <h3>"Claims"</h3>
                            <pre id="id-claims" class="jwt-claims">{i.claims_json}</pre>
                        </details>
                    })}
                </section>
            })
        })
    };
    let userinfo = move || {
        shown.with(|l| l.userinfo.clone()).map(|body| {
            view! {
                <section class="panel" aria-labelledby="userinfo-title">
                    <h2 id="userinfo-title">"UserInfo answer"</h2>
                    <pre id="userinfo-result">{body}</pre>
                </section>
            }
        })
    };
    view! { {rejected} {compare} {userinfo} }
}

#[cfg(test)]
mod tests {
    use super::sent_as;

    #[test]
    fn r9449_7_1_a_dpop_token_is_said_to_travel_as_dpop_with_a_proof_not_bearer() {
        let dpop = sent_as(true);
        assert!(dpop.contains("Authorization: DPoP <token>"), "{dpop}");
        assert!(dpop.contains("DPoP: <proof>"), "{dpop}");
        assert!(!dpop.contains("Bearer"), "{dpop}");
        assert!(sent_as(false).contains("Authorization: Bearer <token>"));
    }
}
