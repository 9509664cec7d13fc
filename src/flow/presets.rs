//! Provider presets: pure data the settings panel shows as step-by-step setup hints (facts from
//! `shared/reference/providers.md`). A preset fills the issuer (a template with `{placeholders}`
//! the user replaces), the scopes, and says where the app's origin must be registered for CORS.
//!
//! Only the bundled provider is exercised by the end-to-end tests; every other preset is written
//! from the providers' documentation (see `verified`).

/// Whether a provider can serve this app as a pure browser public client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// Yes: a public client with PKCE, no secret, `fetch` to the token endpoint with CORS.
    PureBrowser,
    /// No: the reason and the confidential variant a real app would need.
    NeedsBackend {
        /// Why a browser alone cannot complete the flow.
        why: &'static str,
        /// What would be needed instead.
        instead: &'static str,
    },
}

/// Endpoints for a provider without discovery (GitHub).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownEndpoints {
    /// Authorization endpoint.
    pub authorization: &'static str,
    /// Token endpoint.
    pub token: &'static str,
}

/// One preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    /// Stable id, saved in settings and accepted in a share link.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// The issuer; `{braces}` mark the parts the user must replace.
    pub issuer_template: &'static str,
    /// The client id to pre-fill (empty: the user types the one they registered).
    pub client_id: &'static str,
    /// Scopes to request.
    pub scope: &'static str,
    /// Whether it works as a pure browser client.
    pub fit: Fit,
    /// Setup, step by step; `{redirect_uri}` and `{origin}` are replaced by this page's values.
    pub setup: &'static [&'static str],
    /// Where this page's origin must be allowed for CORS (named in the CORS diagnosis).
    pub cors_setting: &'static str,
    /// Things that surprise people.
    pub caveats: &'static [&'static str],
    /// Endpoints to use when the provider has no discovery document.
    pub endpoints: Option<KnownEndpoints>,
    /// How this preset was checked.
    pub verified: &'static str,
    /// Where the facts come from.
    pub sources: &'static [&'static str],
    /// The provider-side fix for each checkup line this preset can fail, in its own settings.
    pub fixes: Fixes,
}

/// The provider-side fix for each line of the provider checkup (`flow::checkup::Check`), in
/// this preset's own settings; `None`: the checkup's generic fix. One field per check, so a
/// new check does not compile until it has a field here (`checkup::preset_fix` matches them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fixes {
    /// Fix for `Check::IssuerExact`.
    pub issuer_exact: Option<&'static str>,
    /// Fix for `Check::S256Advertised`.
    pub s256_advertised: Option<&'static str>,
    /// Fix for `Check::PkceEnforced`.
    pub pkce_enforced: Option<&'static str>,
    /// Fix for `Check::PlainRefused`.
    pub plain_refused: Option<&'static str>,
    /// Fix for `Check::PublicClients`.
    pub public_clients: Option<&'static str>,
    /// Fix for `Check::TokenCors`.
    pub token_cors: Option<&'static str>,
    /// Fix for `Check::IssInResponse`.
    pub iss_in_response: Option<&'static str>,
    /// Fix for `Check::CodeSingleUse`.
    pub code_single_use: Option<&'static str>,
    /// Fix for `Check::ReplayRevokes`.
    pub replay_revokes: Option<&'static str>,
    /// Fix for `Check::RefreshRotates`.
    pub refresh_rotates: Option<&'static str>,
    /// Fix for `Check::ImplicitRefused`.
    pub implicit_refused: Option<&'static str>,
    /// Fix for `Check::RedirectUriExact`.
    pub redirect_uri_exact: Option<&'static str>,
    /// Fix for `Check::NoStore`.
    pub no_store: Option<&'static str>,
    /// Whether the fixes come from the vendor's documentation only (the hint says so).
    pub from_docs: bool,
}

impl Fixes {
    /// No preset-specific fix: the checkup's generic ones apply.
    pub const NONE: Fixes = Fixes {
        issuer_exact: None,
        s256_advertised: None,
        pkce_enforced: None,
        plain_refused: None,
        public_clients: None,
        token_cors: None,
        iss_in_response: None,
        code_single_use: None,
        replay_revokes: None,
        refresh_rotates: None,
        implicit_refused: None,
        redirect_uri_exact: None,
        no_store: None,
        from_docs: true,
    };
}

impl Preset {
    /// Whether the issuer still has parts to fill in.
    pub fn issuer_needs_filling(&self) -> bool {
        self.issuer_template.contains('{')
    }
}

/// Replaces `{redirect_uri}` and `{origin}` in a hint with this page's values.
pub fn fill(hint: &str, redirect_uri: &str, origin: &str) -> String {
    hint.replace("{redirect_uri}", redirect_uri)
        .replace("{origin}", origin)
}

/// Id of the bundled provider's preset (the default).
pub const BUNDLED: &str = "bundled";

/// The bundled provider's fix for a check its `LAB_WEAK` switches cannot weaken.
const DEFAULT_BUNDLED: &str = t!("presets.oidc_provider_does");

const FROM_DOCS: &str = t!("presets.written_from_the");

/// Every preset, the bundled provider first.
pub const PRESETS: &[Preset] = &[
    Preset {
        id: BUNDLED,
        name: "Bundled demo provider (provider/)",
        issuer_template: "http://127.0.0.1:9000",
        client_id: "flow-lab",
        scope: "openid profile read:profile read:files",
        fit: Fit::PureBrowser,
        setup: &[
            t!("presets.start_it_cd"),
            t!("presets.it_already_knows"),
            t!("presets.sign_in_as"),
            t!("presets.add_offline_access"),
        ],
        cors_setting: "LAB_APP_ORIGINS (environment of provider/server.mjs)",
        caveats: &[
            t!("presets.a_fresh_signing"),
        ],
        endpoints: None,
        verified: t!("presets.verified_end_to"),
        sources: &["provider/README.md"],
        fixes: Fixes {
            issuer_exact: Some(DEFAULT_BUNDLED),
            s256_advertised: Some(DEFAULT_BUNDLED),
            pkce_enforced: Some(t!("presets.restart_provider_server")),
            plain_refused: Some(t!("presets.restart_provider_server_2")),
            public_clients: Some(DEFAULT_BUNDLED),
            token_cors: Some(t!("presets.restart_provider_server_3")),
            iss_in_response: Some(t!("presets.restart_provider_server_4")),
            code_single_use: Some(DEFAULT_BUNDLED),
            replay_revokes: Some(DEFAULT_BUNDLED),
            refresh_rotates: Some(DEFAULT_BUNDLED),
            implicit_refused: Some(t!("presets.restart_provider_server_5")),
            redirect_uri_exact: Some(DEFAULT_BUNDLED),
            no_store: Some(DEFAULT_BUNDLED),
            from_docs: false,
        },
    },
    Preset {
        id: "keycloak",
        name: "Keycloak",
        issuer_template: "https://{host}/realms/{realm}",
        client_id: "",
        scope: "openid profile email",
        fit: Fit::PureBrowser,
        setup: &[
            t!("presets.admin_console_your"),
            t!("presets.capability_config_client"),
            t!("presets.login_settings_valid"),
            t!("presets.advanced_proof_key"),
            t!("presets.issuer_here_https"),
        ],
        cors_setting: "Client → Settings → Web origins",
        caveats: &[
            t!("presets.dev_mode_accepts"),
            t!("presets.with_refresh_token"),
        ],
        endpoints: None,
        verified: t!("presets.path_issuer_and"),
        sources: &[
            "https://github.com/keycloak/keycloak/pull/3616",
            "https://github.com/keycloak/keycloak/issues/16081",
        ],
        fixes: Fixes {
            issuer_exact: Some(t!("presets.use_https_host")),
            s256_advertised: Some(t!("presets.client_advanced_proof")),
            pkce_enforced: Some(t!("presets.client_advanced_proof_2")),
            plain_refused: Some(t!("presets.client_advanced_proof_3")),
            public_clients: Some(t!("presets.client_capability_config")),
            iss_in_response: Some(t!("presets.client_advanced_openid")),
            refresh_rotates: Some(t!("presets.realm_settings_tokens")),
            implicit_refused: Some(t!("presets.client_capability_config_2")),
            from_docs: true,
            ..Fixes::NONE
        },
    },
    Preset {
        id: "auth0",
        name: "Auth0",
        issuer_template: "https://{tenant}.{region}.auth0.com/",
        client_id: "",
        scope: "openid profile email offline_access",
        fit: Fit::PureBrowser,
        setup: &[
            t!("presets.applications_create_application"),
            t!("presets.settings_allowed_callback"),
            t!("presets.credentials_authentication_method"),
            t!("presets.for_offline_access"),
            t!("presets.the_issuer_ends"),
        ],
        cors_setting: "Application → Settings → Allowed Web Origins and Allowed Origins (CORS)",
        caveats: &[
            t!("presets.without_an_audience"),
            t!("presets.end_session_endpoint"),
            t!("presets.silent_renew_in"),
        ],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://auth0.com/docs/get-started/applications/set-up-cors",
            "https://socket.dev/npm/package/@auth0/auth0-spa-js/overview/2.0.7",
        ],
        fixes: Fixes {
            issuer_exact: Some(t!("presets.the_issuer_is")),
            public_clients: Some(t!("presets.application_type_single")),
            refresh_rotates: Some(t!("presets.application_refresh_token")),
            implicit_refused: Some(t!("presets.application_advanced_settings")),
            from_docs: true,
            ..Fixes::NONE
        },
    },
    Preset {
        id: "okta",
        name: "Okta",
        issuer_template: "https://{yourOktaDomain}/oauth2/default",
        client_id: "",
        scope: "openid profile email offline_access",
        fit: Fit::PureBrowser,
        setup: &[
            t!("presets.applications_create_app"),
            t!("presets.grant_type_authorization"),
            t!("presets.sign_in_redirect"),
            t!("presets.security_api_trusted"),
            t!("presets.issuer_https_domain"),
        ],
        cors_setting: "Security → API → Trusted Origins (type CORS)",
        caveats: &[
            t!("presets.okta_requires_a"),
        ],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://github.com/okta/okta-developer-docs/pull/1678",
            "https://developer.okta.com/docs/api/openapi/okta-management/management/tags/trustedorigin",
        ],
        fixes: Fixes {
            pkce_enforced: Some(t!("presets.application_general_client")),
            public_clients: Some(t!("presets.use_the_single")),
            refresh_rotates: Some(t!("presets.grant_type_refresh")),
            implicit_refused: Some(t!("presets.application_general_settings")),
            from_docs: true,
            ..Fixes::NONE
        },
    },
    Preset {
        id: "entra",
        name: "Microsoft Entra ID (SPA platform)",
        issuer_template: "https://login.microsoftonline.com/{tenant-id}/v2.0",
        client_id: "",
        scope: "openid profile email offline_access",
        fit: Fit::PureBrowser,
        setup: &[
            t!("presets.entra_admin_center"),
            t!("presets.redirect_uri_platform"),
            t!("presets.no_client_secret"),
            t!("presets.authentication_front_channel"),
            t!("presets.issuer_https_login"),
        ],
        cors_setting: "Authentication → Platform configurations → Single-page application \
            (the registered redirect URI's origin is what gets CORS)",
        caveats: &[
            t!("presets.a_web_redirect"),
            t!("presets.spa_refresh_tokens"),
        ],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://github.com/AzureAD/microsoft-authentication-library-for-js/issues/5622",
            "https://learn.microsoft.com/en-nz/entra/identity-platform/refresh-tokens",
        ],
        fixes: Fixes {
            issuer_exact: Some("Use https://login.microsoftonline.com/<tenant-id>/v2.0 (the \
            common endpoint's issuer holds a {tenantid} placeholder)."),
            pkce_enforced: Some(t!("presets.register_the_redirect")),
            public_clients: Some(t!("presets.register_the_redirect_2")),
            implicit_refused: Some(t!("presets.authentication_implicit_grant")),
            from_docs: true,
            ..Fixes::NONE
        },
    },
    Preset {
        id: "gitlab",
        name: "GitLab",
        issuer_template: "https://gitlab.com",
        client_id: "",
        scope: "openid profile email",
        fit: Fit::PureBrowser,
        setup: &[
            t!("presets.user_settings_applications"),
            t!("presets.redirect_uri_redirect"),
            t!("presets.save_then_copy"),
            t!("presets.self_managed_the"),
        ],
        cors_setting: "nothing to set: GitLab 15.1+ answers CORS on /oauth/token, /oauth/revoke \
            and /oauth/userinfo (an older GitLab cannot serve a browser client)",
        caveats: &[
            t!("presets.custom_request_headers"),
        ],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://docs.gitlab.com/api/oauth2",
            "https://github.com/panva/oauth4webapi/issues/13",
        ],
        fixes: Fixes {
            pkce_enforced: Some(t!("presets.gitlab_18_0")),
            public_clients: Some(t!("presets.edit_the_application")),
            from_docs: true,
            ..Fixes::NONE
        },
    },
    Preset {
        id: "cognito",
        name: "AWS Cognito",
        issuer_template: "https://cognito-idp.{region}.amazonaws.com/{userPoolId}",
        client_id: "",
        scope: "openid profile email",
        fit: Fit::PureBrowser,
        setup: &[
            t!("presets.user_pool_domain"),
            t!("presets.app_integration_app"),
            t!("presets.managed_login_hosted"),
            t!("presets.issuer_https_cognito"),
        ],
        cors_setting: "nothing to set: Cognito's token endpoint answers CORS",
        caveats: &[
            t!("presets.only_refresh_tokens"),
            t!("presets.discovery_names_no"),
            t!("presets.a_secretless_client"),
        ],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://github.com/BitySA/oauth2-auth-code-pkce/issues/22",
            "https://github.com/aws-amplify/amplify-js/issues/5284",
        ],
        fixes: Fixes {
            public_clients: Some(t!("presets.create_an_app")),
            implicit_refused: Some(t!("presets.app_client_oauth")),
            from_docs: true,
            ..Fixes::NONE
        },
    },
    Preset {
        id: "zitadel",
        name: "ZITADEL",
        issuer_template: "https://{instance}.zitadel.cloud",
        client_id: "",
        scope: "openid profile email offline_access",
        fit: Fit::PureBrowser,
        setup: &[
            t!("presets.your_project_new"),
            t!("presets.authentication_method_pkce"),
            t!("presets.redirect_uris_redirect"),
            t!("presets.optional_token_settings"),
            t!("presets.issuer_your_instance"),
        ],
        cors_setting: "no separate CORS setting is documented: the User Agent application type \
            is what allows the browser's token request",
        caveats: &[
            t!("presets.reported_a_first"),
        ],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://zitadel.com/docs/concepts/structure/applications",
            "https://github.com/zitadel/zitadel/issues/5267",
        ],
        fixes: Fixes {
            pkce_enforced: Some(t!("presets.application_type_user")),
            public_clients: Some(t!("presets.application_type_user_2")),
            implicit_refused: Some(t!("presets.application_type_user_3")),
            from_docs: true,
            ..Fixes::NONE
        },
    },
    Preset {
        id: "authentik",
        name: "authentik",
        issuer_template: "https://{host}/application/o/{app-slug}/",
        client_id: "",
        scope: "openid profile email",
        fit: Fit::PureBrowser,
        setup: &[
            t!("presets.applications_providers_create"),
            t!("presets.redirect_uris_origins"),
            t!("presets.signing_key_pick"),
            t!("presets.applications_create_link"),
            t!("presets.the_issuer_ends_2"),
        ],
        cors_setting: "Provider → Redirect URIs/Origins (the allowed origins are derived from \
            them)",
        caveats: &[
            t!("presets.authentik_cannot_require"),
        ],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://github.com/goauthentik/authentik/pull/22179",
            "https://github.com/goauthentik/authentik/issues/3084",
        ],
        fixes: Fixes {
            pkce_enforced: Some(t!("presets.authentik_cannot_require_2")),
            public_clients: Some("Provider → Client type: Public."),
            from_docs: true,
            ..Fixes::NONE
        },
    },
    Preset {
        id: "dex",
        name: "Dex",
        issuer_template: "https://{host}/dex",
        client_id: "",
        scope: "openid profile email offline_access",
        fit: Fit::PureBrowser,
        setup: &[
            t!("presets.in_dex_s"),
            t!("presets.web_allowedorigins_origin"),
            "oauth2: responseTypes: [\"code\"].",
            t!("presets.issuer_exactly_the"),
        ],
        cors_setting: "web.allowedOrigins in Dex's configuration",
        caveats: &[t!("presets.dex_publishes_no")],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://github.com/dexidp/dex/issues/2244",
            "https://github.com/dexidp/dex/pull/775",
        ],
        fixes: Fixes {
            public_clients: Some(t!("presets.in_staticclients_public")),
            implicit_refused: Some("Set oauth2.responseTypes: [\"code\"]."),
            from_docs: true,
            ..Fixes::NONE
        },
    },
    Preset {
        id: "lemonldap-ng",
        name: "LemonLDAP::NG",
        issuer_template: "https://{auth.example.com}",
        client_id: "",
        scope: "openid profile email",
        fit: Fit::PureBrowser,
        setup: &[
            t!("presets.manager_openid_connect"),
            t!("presets.openid_connect_service"),
            t!("presets.ready_made_for"),
        ],
        cors_setting: "the portal's Access-Control-Allow-Origin (one origin)",
        caveats: &[
            t!("presets.no_revocation_endpoint"),
        ],
        endpoints: None,
        verified: t!("presets.verified_live_against_2"),
        sources: &["provider/lemonldap-ng/README.md"],
        fixes: Fixes {
            pkce_enforced: Some(t!("presets.the_relying_party_2")),
            plain_refused: Some(t!("presets.2_16_1")),
            iss_in_response: Some(t!("presets.2_16_1_3")),
            replay_revokes: Some(t!("presets.2_16_1_4")),
            refresh_rotates: Some(t!("presets.2_16_1_2")),
            implicit_refused: Some(t!("presets.turn_the_openid")),
            redirect_uri_exact: Some(t!("presets.the_relying_party")),
            from_docs: false,
            ..Fixes::NONE
        },
    },
    Preset {
        id: "glewlwyd",
        name: "Glewlwyd",
        issuer_template: "https://{host}/api/oidc",
        client_id: "",
        scope: "openid profile email offline_access",
        fit: Fit::PureBrowser,
        setup: &[
            t!("presets.admin_clients_new"),
            t!("presets.openid_connect_plugin"),
            t!("presets.server_config_allow"),
            t!("presets.ready_made_for_2"),
        ],
        cors_setting: "allow_origin in glewlwyd.conf (one origin for the whole server)",
        caveats: &[
            t!("presets.a_continue_page"),
        ],
        endpoints: None,
        verified: t!("presets.verified_live_against"),
        sources: &["provider/glewlwyd/README.md"],
        fixes: Fixes {
            pkce_enforced: Some("OIDC plugin: pkce-required-public-client: true."),
            plain_refused: Some("OIDC plugin: pkce-method-plain-allowed: false."),
            iss_in_response: Some(t!("presets.oidc_plugin_oauth")),
            redirect_uri_exact: Some(t!("presets.client_redirect_uri")),
            replay_revokes: Some("OIDC plugin: auth-type-code-revoke-replayed: true."),
            refresh_rotates: Some("OIDC plugin: refresh-token-one-use: always."),
            implicit_refused: Some("OIDC plugin: auth-type-token-enabled: false."),
            from_docs: false,
            ..Fixes::NONE
        },
    },
    Preset {
        id: "hydra",
        name: "Ory Hydra",
        issuer_template: "https://{host}/",
        client_id: "",
        scope: "openid offline_access",
        fit: Fit::PureBrowser,
        setup: &[
            t!("presets.create_the_client"),
            t!("presets.cors_serve_public"),
            t!("presets.hydra_needs_a"),
            t!("presets.issuer_the_urls"),
        ],
        cors_setting: "serve.public.cors (allowed_origins) or the client's allowed_cors_origins",
        caveats: &[t!("presets.the_authorization_endpoint")],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://github.com/ory/docs/pull/2283",
            "https://github.com/ory/hydra/issues/1754",
        ],
        fixes: Fixes {
            pkce_enforced: Some(t!("presets.set_oauth2_pkce")),
            public_clients: Some("Client token_endpoint_auth_method: none."),
            implicit_refused: Some(t!("presets.client_response_types")),
            from_docs: true,
            ..Fixes::NONE
        },
    },
    Preset {
        id: "github",
        name: "GitHub (cannot be a pure browser client)",
        issuer_template: "https://github.com",
        client_id: "",
        scope: "read:user",
        fit: Fit::NeedsBackend {
            why: t!("presets.github_s_token"),
            instead: t!("presets.the_confidential_variant_2"),
        },
        setup: &[
            t!("presets.settings_developer_settings"),
            t!("presets.trying_it_here_2"),
        ],
        cors_setting: "— nowhere: GitHub has no CORS setting for its token endpoint, so only a \
            backend can redeem the code (see the preset's explanation)",
        caveats: &[],
        endpoints: Some(KnownEndpoints {
            authorization: "https://github.com/login/oauth/authorize",
            token: "https://github.com/login/oauth/access_token",
        }),
        verified: FROM_DOCS,
        sources: &[
            "https://github.blog/changelog/2025-07-14-pkce-support-for-oauth-and-github-app-authentication",
            "https://github.com/github/docs/issues/22270",
            "https://github.com/isaacs/github/issues/330",
        ],
        fixes: Fixes::NONE,
    },
    Preset {
        id: "google",
        name: "Google (cannot be a pure browser client)",
        issuer_template: "https://accounts.google.com",
        client_id: "",
        scope: "openid profile email",
        fit: Fit::NeedsBackend {
            why: t!("presets.google_s_web"),
            instead: t!("presets.the_confidential_variant"),
        },
        setup: &[
            t!("presets.google_cloud_console"),
            t!("presets.trying_it_here"),
        ],
        cors_setting: "Credentials → OAuth client → Authorized JavaScript origins",
        caveats: &[],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://github.com/openid/AppAuth-JS/issues/46",
            "https://github.com/manfredsteyer/angular-oauth2-oidc/issues/812",
        ],
        fixes: Fixes::NONE,
    },
];

/// Id of the "Other provider" choice: no preset, so no hints and a generic CORS sentence.
pub const OTHER: &str = "other";

/// The preset that describes `issuer`: `current` while the issuer still fits its template
/// (each `{placeholder}` standing for any text without `/`), else [`OTHER`], so that one
/// provider's hints are never shown for another server.
pub fn preset_for_issuer(current: &str, issuer: &str) -> &'static str {
    match find(current) {
        Some(preset)
            if fits_template(preset.issuer_template, issuer.trim())
                || fits_template(preset.issuer_template, &as_https_if_loopback(issuer)) =>
        {
            preset.id
        }
        _ => OTHER,
    }
}

/// A loopback issuer over http (a provider run on this machine, RFC 8252 §8.3) read as its
/// https form, so that it still fits an `https://` template: the LemonLDAP::NG and Glewlwyd
/// presets are verified live against exactly such issuers.
fn as_https_if_loopback(issuer: &str) -> String {
    let issuer = issuer.trim();
    match issuer.strip_prefix("http://") {
        Some(rest)
            if ["127.0.0.1", "localhost", "[::1]"].iter().any(|host| {
                rest.strip_prefix(host)
                    .is_some_and(|after| after.is_empty() || after.starts_with([':', '/']))
            }) =>
        {
            format!("https://{rest}")
        }
        _ => issuer.to_owned(),
    }
}

/// Whether `text` is `template` with every `{placeholder}` replaced by non-empty text without `/`.
fn fits_template(template: &str, text: &str) -> bool {
    let Some(open) = template.find('{') else {
        return template == text;
    };
    let Some(rest) = text.strip_prefix(&template[..open]) else {
        return false;
    };
    let after = match template[open..].find('}') {
        Some(close) => &template[open + close + 1..],
        None => return template == text,
    };
    rest.char_indices()
        .skip(1)
        .map(|(i, _)| i)
        .chain([rest.len()])
        .filter(|&i| i > 0)
        .take_while(|&i| !rest[..i].contains('/'))
        .any(|i| fits_template(after, &rest[i..]))
}

/// The preset with this id.
pub fn find(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id == id)
}

/// The bundled provider's preset.
pub fn bundled() -> &'static Preset {
    &PRESETS[0]
}

/// Where to register the origin for CORS: the preset's setting, or a generic sentence.
pub fn cors_setting_for(preset_id: &str) -> Option<(&'static str, &'static str)> {
    find(preset_id).map(|p| (p.name, p.cors_setting))
}

#[cfg(test)]
mod tests;
