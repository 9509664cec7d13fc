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
const DEFAULT_BUNDLED: &str = "oidc-provider does this by default: restart provider/server.mjs \
    without LAB_WEAK, reset /__lab/faults, and use its issuer exactly.";

const FROM_DOCS: &str = "Written from the provider's documentation (providers.md); not run \
    against a live tenant by the test suite.";

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
            "Start it: cd provider && npm install && node_modules/.bin/node server.mjs \
             (issuer http://127.0.0.1:9000, demo API on 9001).",
            "It already knows the public client flow-lab (PKCE S256 required, no secret) with \
             the redirect URI {redirect_uri} when started with LAB_APP_ORIGINS={origin}.",
            "Sign in as alice / wonderland or bob / builder.",
            "Add offline_access to the scopes to get a refresh token (the consent page then \
             lists \"Stay signed in\").",
        ],
        cors_setting: "LAB_APP_ORIGINS (environment of provider/server.mjs)",
        caveats: &[
            "A fresh signing key and empty memory on every start: a restart signs everyone out.",
        ],
        endpoints: None,
        verified: "Verified end to end by the test suite (tests/e2e.rs, tests/providers.rs): \
            discovery, login, ID token, UserInfo, refresh rotation, revocation, logout, CORS.",
        sources: &["provider/README.md"],
        fixes: Fixes {
            issuer_exact: Some(DEFAULT_BUNDLED),
            s256_advertised: Some(DEFAULT_BUNDLED),
            pkce_enforced: Some("Restart provider/server.mjs without pkce_optional in LAB_WEAK."),
            plain_refused: Some("Restart provider/server.mjs without plain in LAB_WEAK."),
            public_clients: Some(DEFAULT_BUNDLED),
            token_cors: Some("Restart provider/server.mjs without no_cors (and LAB_NO_CORS; this origin in LAB_APP_ORIGINS) in LAB_WEAK."),
            iss_in_response: Some("Restart provider/server.mjs without no_iss (and the callback_iss fault) in LAB_WEAK."),
            code_single_use: Some(DEFAULT_BUNDLED),
            replay_revokes: Some(DEFAULT_BUNDLED),
            refresh_rotates: Some(DEFAULT_BUNDLED),
            implicit_refused: Some("Restart provider/server.mjs without implicit in LAB_WEAK."),
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
            "Admin console → your realm (not master) → Clients → Create client: type OpenID \
             Connect, a Client ID such as flow-lab.",
            "Capability config: Client authentication OFF (a public client); Standard flow ON; \
             Direct access grants and Implicit flow OFF.",
            "Login settings: Valid redirect URIs = {redirect_uri} (exactly); Valid post logout \
             redirect URIs = {redirect_uri}; Web origins = {origin} (or + to derive it from the \
             redirect URIs).",
            "Advanced → Proof Key for Code Exchange Code Challenge Method = S256 (makes PKCE \
             mandatory).",
            "Issuer here = https://<host>/realms/<realm> (Keycloak 17+; older versions have \
             /auth before /realms).",
        ],
        cors_setting: "Client → Settings → Web origins",
        caveats: &[
            "Dev mode accepts http://localhost redirect URIs: use localhost consistently (not \
             127.0.0.1) for both the app and the registration.",
            "With refresh token rotation (Revoke Refresh Token), two tabs refreshing at once \
             can end the session.",
        ],
        endpoints: None,
        verified: "Path issuer and discovery simulated against the bundled provider started \
            with LAB_ISSUER=…/realms/lab (tests/providers.rs); the console steps are from \
            Keycloak's documentation.",
        sources: &[
            "https://github.com/keycloak/keycloak/pull/3616",
            "https://github.com/keycloak/keycloak/issues/16081",
        ],
        fixes: Fixes {
            issuer_exact: Some("Use https://<host>/realms/<realm> exactly (/auth before \
            /realms before Keycloak 17)."),
            s256_advertised: Some("Client → Advanced → \
            Proof Key for Code Exchange Code Challenge Method = S256."),
            pkce_enforced: Some("Client → Advanced → \
            Proof Key for Code Exchange Code Challenge Method = S256."),
            plain_refused: Some("Client → Advanced → \
            Proof Key for Code Exchange Code Challenge Method = S256."),
            public_clients: Some("Client → Capability config: Client authentication OFF."),
            iss_in_response: Some("Client → Advanced → OpenID Connect Compatibility \
            Modes: Exclude Issuer From Authentication Response OFF."),
            refresh_rotates: Some("Realm settings → Tokens: Revoke Refresh Token ON, \
            Refresh Token Max Reuse 0."),
            implicit_refused: Some("Client → Capability config: Implicit flow OFF."),
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
            "Applications → Create Application → Single Page Web Applications.",
            "Settings: Allowed Callback URLs = {redirect_uri}; Allowed Logout URLs = \
             {redirect_uri}; Allowed Web Origins = {origin}; Allowed Origins (CORS) = {origin}.",
            "Credentials: Authentication Method None (the SPA default: no secret).",
            "For offline_access: Refresh Token Rotation ON (Settings → Refresh Token Rotation).",
            "The issuer ends with a slash: https://<tenant>.<region>.auth0.com/ (or your custom \
             domain) — type it exactly as the discovery document says.",
        ],
        cors_setting: "Application → Settings → Allowed Web Origins and Allowed Origins (CORS)",
        caveats: &[
            "Without an audience parameter the access token is only good for /userinfo.",
            "end_session_endpoint appears in discovery only when the tenant enables \
             RP-Initiated Logout End Session Endpoint Discovery.",
            "Silent renew in an iframe needs a custom domain (third-party cookies).",
        ],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://auth0.com/docs/get-started/applications/set-up-cors",
            "https://socket.dev/npm/package/@auth0/auth0-spa-js/overview/2.0.7",
        ],
        fixes: Fixes {
            issuer_exact: Some("The issuer is https://<tenant>.<region>.auth0.com/ with \
            its trailing slash (or your custom domain)."),
            public_clients: Some("Application type Single Page Application; Credentials → \
            Authentication Method None."),
            refresh_rotates: Some("Application → Refresh Token Rotation: Allow Refresh \
            Token Rotation ON."),
            implicit_refused: Some("Application → Advanced Settings → Grant Types: untick \
            Implicit."),
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
            "Applications → Create App Integration → OIDC - OpenID Connect → Single-Page \
             Application.",
            "Grant type: Authorization Code (add Refresh Token for offline_access); client \
             authentication None with PKCE (the SPA default).",
            "Sign-in redirect URIs = {redirect_uri}; Sign-out redirect URIs = {redirect_uri}; \
             assign the app to your users.",
            "Security → API → Trusted Origins → Add Origin: {origin}, type CORS.",
            "Issuer: https://<domain>/oauth2/default (custom authorization server) or \
             https://<domain> (org authorization server).",
        ],
        cors_setting: "Security → API → Trusted Origins (type CORS)",
        caveats: &[
            "Okta requires a code_verifier of at least 43 characters, unpadded base64url (this \
             app sends exactly that).",
        ],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://github.com/okta/okta-developer-docs/pull/1678",
            "https://developer.okta.com/docs/api/openapi/okta-management/management/tags/trustedorigin",
        ],
        fixes: Fixes {
            pkce_enforced: Some("Application → General → Client Credentials: Require PKCE \
            as additional verification."),
            public_clients: Some("Use the Single-Page Application integration type \
            (client authentication none)."),
            refresh_rotates: Some("Grant type Refresh Token: Rotate token after every use."),
            implicit_refused: Some("Application → General Settings → Grant type: untick \
            Implicit (hybrid)."),
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
            "Entra admin center → App registrations → New registration.",
            "Redirect URI: platform \"Single-page application\" (not \"Web\") = {redirect_uri}. \
             Only the SPA platform allows the browser's token request (CORS).",
            "No client secret or certificate: the app is a public client with PKCE.",
            "Authentication → Front-channel logout URL (optional) = {redirect_uri}.",
            "Issuer: https://login.microsoftonline.com/<tenant id>/v2.0 with your tenant's ID \
             (a GUID), not common or organizations, whose discovery names a templated issuer.",
        ],
        cors_setting: "Authentication → Platform configurations → Single-page application \
            (the registered redirect URI's origin is what gets CORS)",
        caveats: &[
            "A \"Web\" redirect URI gives AADSTS9002326 (cross-origin token redemption is \
             permitted only for the Single-Page Application client type).",
            "SPA refresh tokens live 24 h and cannot be extended; no revocation endpoint is \
             published.",
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
            pkce_enforced: Some("Register the redirect URI under the \
            Single-page application platform, not Web."),
            public_clients: Some("Register the redirect URI under the \
            Single-page application platform, not Web."),
            implicit_refused: Some("Authentication → Implicit grant and hybrid flows: \
            untick Access tokens and ID tokens."),
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
            "User Settings → Applications (or a group's or the instance's Applications) → Add \
             new application.",
            "Redirect URI = {redirect_uri}; Confidential UNCHECKED; scopes openid, profile, \
             email.",
            "Save, then copy the Application ID: it is the client id.",
            "Self-managed: the issuer is your instance's URL, e.g. https://gitlab.example.com.",
        ],
        cors_setting: "nothing to set: GitLab 15.1+ answers CORS on /oauth/token, /oauth/revoke \
            and /oauth/userinfo (an older GitLab cannot serve a browser client)",
        caveats: &[
            "Custom request headers would need a preflight that GitLab does not allow; this \
             app sends only CORS-safelisted headers and Authorization.",
        ],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://docs.gitlab.com/api/oauth2",
            "https://github.com/panva/oauth4webapi/issues/13",
        ],
        fixes: Fixes {
            pkce_enforced: Some("GitLab 18.0 and later require PKCE for public \
            applications: upgrade."),
            public_clients: Some("Edit the application and untick Confidential."),
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
            "User pool → Domain: set up a Cognito or custom domain (the login pages live there).",
            "App integration → App clients → Create app client: type Public client (single-page \
             app), WITHOUT a client secret.",
            "Managed login / Hosted UI: Allowed callback URLs = {redirect_uri}; Allowed sign-out \
             URLs = {redirect_uri}; grant type Authorization code; OpenID Connect scopes openid, \
             profile, email.",
            "Issuer: https://cognito-idp.<region>.amazonaws.com/<user pool id> (the endpoints in \
             its discovery point at your domain).",
        ],
        cors_setting: "nothing to set: Cognito's token endpoint answers CORS",
        caveats: &[
            "Only refresh tokens can be revoked, not access tokens.",
            "Discovery names no end_session_endpoint (Cognito's /logout takes client_id and \
             logout_uri instead).",
            "A secretless client that sends an Authorization header gets invalid_client (this \
             app never sends one).",
        ],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://github.com/BitySA/oauth2-auth-code-pkce/issues/22",
            "https://github.com/aws-amplify/amplify-js/issues/5284",
        ],
        fixes: Fixes {
            public_clients: Some("Create an app client without a client secret (a secret \
            cannot be removed from an existing one)."),
            implicit_refused: Some("App client → OAuth grant types: untick Implicit \
            grant."),
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
            "Your project → New application → type User Agent.",
            "Authentication method: PKCE (no secret).",
            "Redirect URIs = {redirect_uri}; Post logout URIs = {redirect_uri}. For an http:// \
             redirect URI turn on Development mode.",
            "Optional: Token settings → Refresh Token for offline_access.",
            "Issuer: your instance's domain, e.g. https://<instance>.zitadel.cloud.",
        ],
        cors_setting: "no separate CORS setting is documented: the User Agent application type \
            is what allows the browser's token request",
        caveats: &[
            "Reported: a first login in Firefox private mode can fail with \"invalid code \
             challenge\".",
        ],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://zitadel.com/docs/concepts/structure/applications",
            "https://github.com/zitadel/zitadel/issues/5267",
        ],
        fixes: Fixes {
            pkce_enforced: Some("Application type User \
            Agent with authentication method PKCE (not Implicit)."),
            public_clients: Some("Application type User \
            Agent with authentication method PKCE (not Implicit)."),
            implicit_refused: Some("Application type User \
            Agent with authentication method PKCE (not Implicit)."),
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
            "Applications → Providers → Create → OAuth2/OpenID Provider: Client type Public.",
            "Redirect URIs/Origins (strict) = {redirect_uri}.",
            "Signing Key: pick a certificate (RS256). Without one, ID tokens are signed HS256 \
             with the client secret, which a public client cannot verify.",
            "Applications → Create: link it to that provider; its slug goes into the issuer.",
            "The issuer ends with a slash: https://<host>/application/o/<slug>/.",
        ],
        cors_setting: "Provider → Redirect URIs/Origins (the allowed origins are derived from \
            them)",
        caveats: &[
            "authentik cannot require PKCE: it checks a challenge only when one was sent (this \
             app always sends one).",
        ],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://github.com/goauthentik/authentik/pull/22179",
            "https://github.com/goauthentik/authentik/issues/3084",
        ],
        fixes: Fixes {
            pkce_enforced: Some("authentik cannot require PKCE (it checks one only when \
            sent): rely on state, and watch for an upgrade that adds it."),
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
            "In Dex's config, under staticClients: id: flow-lab, name: OAuth Flow Lab, public: \
             true (no secret), redirectURIs: ['{redirect_uri}'].",
            "web: allowedOrigins: ['{origin}'] (CORS for the token and keys endpoints).",
            "oauth2: responseTypes: [\"code\"].",
            "Issuer: exactly the issuer: value of Dex's config.",
        ],
        cors_setting: "web.allowedOrigins in Dex's configuration",
        caveats: &["Dex publishes no revocation or end-session endpoint."],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://github.com/dexidp/dex/issues/2244",
            "https://github.com/dexidp/dex/pull/775",
        ],
        fixes: Fixes {
            public_clients: Some("In staticClients: public: true, without a secret."),
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
            "Manager → OpenID Connect Relying Parties → new: Public client, Require PKCE, \
             Allowed redirection addresses for login and for logout = {redirect_uri}, RS256, \
             Use refresh tokens, Bypass consent, Bypass confirm.",
            "OpenID Connect Service: a signing key; set the Issuer identifier (default: the \
             portal URL with a trailing slash). CORS: Access-Control-Allow-Origin = {origin}.",
            "Ready-made for this machine: provider/lemonldap-ng/run.",
        ],
        cors_setting: "the portal's Access-Control-Allow-Origin (one origin)",
        caveats: &[
            "No revocation endpoint, no refresh token rotation, no iss on the callback; PKCE \
             plain accepted; prompt=none without a session shows its login page.",
        ],
        endpoints: None,
        verified: "Verified live against LemonLDAP::NG 2.16.1 (Debian 12), tests/lemonldap.rs.",
        sources: &["provider/lemonldap-ng/README.md"],
        fixes: Fixes {
            pkce_enforced: Some("The relying party's Require PKCE option \
            (oidcRPMetaDataOptionsRequirePKCE: 1)."),
            plain_refused: Some("2.16.1 accepts plain and has no switch to turn it off \
            (verified live): only an upgrade or the client's own S256 helps."),
            iss_in_response: Some("2.16.1 has no RFC 9207 iss setting: give it a redirect URI \
            of its own (RFC 9700 §4.4.2.2)."),
            replay_revokes: Some("2.16.1 keeps the first tokens valid after a replay (verified \
            live): shorten oidcServiceAccessTokenExpiration."),
            refresh_rotates: Some("2.16.1 cannot rotate refresh tokens (verified live): shorten \
            the refresh token lifetime, or turn refresh tokens off for this relying party."),
            implicit_refused: Some("Turn the OpenID Connect service's implicit flow off \
            (oidcServiceAllowImplicitFlow: 0)."),
            redirect_uri_exact: Some("The relying party's Allowed redirection addresses for \
            login (oidcRPMetaDataOptionsRedirectUris): only the exact URI."),
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
            "Admin → Clients → new: not confidential, no secret, token_endpoint_auth_method \
             none, redirect URI and post-logout redirect URI = {redirect_uri}, authorization \
             types code and refresh_token.",
            "OpenID Connect plugin: PKCE allowed and required for public clients, plain off, \
             refresh-token-one-use always, oauth-as-iss-id on, session management on.",
            "Server config: allow_origin=\"{origin}\" (one origin for the whole server).",
            "Ready-made for this machine: provider/glewlwyd/run.",
        ],
        cors_setting: "allow_origin in glewlwyd.conf (one origin for the whole server)",
        caveats: &[
            "A Continue page on every login; nonce required; RFC 7009 revocation refuses a \
             public client (401); logout returns to the app only when the request has a state \
             (this app sends one).",
        ],
        endpoints: None,
        verified: "Verified live against Glewlwyd 2.7.5 (Debian 12), tests/glewlwyd.rs: login, \
            ID token, refresh rotation, revocation refused to a public client, logout, and the \
            whole checkup.",
        sources: &["provider/glewlwyd/README.md"],
        fixes: Fixes {
            pkce_enforced: Some("OIDC plugin: pkce-required-public-client: true."),
            plain_refused: Some("OIDC plugin: pkce-method-plain-allowed: false."),
            iss_in_response: Some("OIDC plugin: oauth-as-iss-id: true. 2.7.5 then sends iss \
            but has no setting to advertise it (authorization_response_iss_parameter_supported)."),
            redirect_uri_exact: Some("Client redirect_uri: only the exact URI; 2.7.5 compares \
            redirect URIs as exact strings (verified live)."),
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
            "Create the client with token_endpoint_auth_method none: hydra create oauth2-client \
             --token-endpoint-auth-method none --grant-type authorization_code,refresh_token \
             --response-type code --scope openid,offline_access --redirect-uri {redirect_uri} \
             --post-logout-callback {redirect_uri}.",
            "CORS: serve.public.cors.enabled: true with allowed_origins [{origin}], or the \
             client's allowed_cors_origins [{origin}].",
            "Hydra needs a login and consent app of your own (it has no login pages).",
            "Issuer: the urls.self.issuer setting (often with a trailing slash).",
        ],
        cors_setting: "serve.public.cors (allowed_origins) or the client's allowed_cors_origins",
        caveats: &["The authorization endpoint deliberately has no CORS: the app navigates there."],
        endpoints: None,
        verified: FROM_DOCS,
        sources: &[
            "https://github.com/ory/docs/pull/2283",
            "https://github.com/ory/hydra/issues/1754",
        ],
        fixes: Fixes {
            pkce_enforced: Some("Set oauth2.pkce.enforced_for_public_clients: true (or \
            oauth2.pkce.enforced)."),
            public_clients: Some("Client token_endpoint_auth_method: none."),
            implicit_refused: Some("Client response_types: [code], grant_types without \
            implicit."),
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
            why: "GitHub's token endpoint (https://github.com/login/oauth/access_token) sends no \
                CORS headers, so a page can never read its answer; and GitHub has no public \
                client type: the code exchange needs the client_secret. PKCE (S256) is accepted \
                since July 2025, but only in addition to the secret. There is no discovery \
                document either.",
            instead: "The confidential variant: a small backend (or proxy) that keeps the \
                client_secret receives the code from the browser, POSTs code + client_secret + \
                code_verifier to GitHub, and keeps the token server-side behind a session \
                cookie (the backend-for-frontend pattern). The device flow needs no secret, \
                but its endpoints lack CORS too.",
        },
        setup: &[
            "Settings → Developer settings → OAuth Apps → New OAuth App: Authorization callback \
             URL = {redirect_uri}.",
            "Trying it here anyway: the login page works (a navigation needs no CORS), then the \
             token request fails in the browser — the CORS diagnosis explains why.",
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
            why: "Google's web-application client IDs require the client_secret at the token \
                endpoint even with PKCE: the answer \"client_secret is missing\" does reach the \
                page (CORS is not the problem — the secret is). A desktop client's \"secret\" \
                is not confidential, but Google still requires it.",
            instead: "The confidential variant: a backend that holds the client_secret redeems \
                the code; or Google Identity Services' token model (an access token from a \
                Google popup, no refresh token).",
        },
        setup: &[
            "Google Cloud console → APIs & Services → Credentials → Create OAuth client ID → \
             Web application: Authorized JavaScript origins = {origin}; Authorized redirect \
             URIs = {redirect_uri}.",
            "Trying it here anyway: discovery and login work, then the token endpoint answers \
             invalid_request \"client_secret is missing\".",
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
