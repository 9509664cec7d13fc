// OAuth Flow Lab — bundled local OAuth 2.0 / OpenID Connect provider and demo
// resource API. One process, two listeners on 127.0.0.1:
//   * the authorization server (npm oidc-provider) on LAB_ISSUER_PORT (9000)
//   * the demo resource API on LAB_API_PORT (9001)
// See README.md for settings, clients, accounts and fault switches.
import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

import { LabMemoryAdapter } from './lib/adapter.mjs';
import { findAccount, DEMO_ACCOUNTS } from './lib/accounts.mjs';
import { interactionRoutes, pageSecurityHeaders } from './lib/interactions.mjs';
import { faultMiddleware, releaseHung } from './lib/faults.mjs';
import {
  parseWeak, applyWeakConfiguration, applyWeakProvider, weakMiddleware, weakBanner,
} from './lib/weak.mjs';
import { createApiHandler } from './lib/api.mjs';
import { errorPage, logoutPage, logoutSuccessPage } from './lib/views.mjs';

const HOST = '127.0.0.1';

function fail(message) {
  console.error(`provider: ${message}`);
  process.exit(2);
}

function parsePort(value, name) {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`${name} must be a TCP port, got ${JSON.stringify(value)}`);
  return port;
}

// ---------------------------------------------------------------- settings
const env = process.env;
let issuerUrl;
if (env.LAB_ISSUER) {
  try {
    issuerUrl = new URL(env.LAB_ISSUER);
  } catch {
    fail(`LAB_ISSUER is not a URL: ${JSON.stringify(env.LAB_ISSUER)}`);
  }
  if (issuerUrl.search || issuerUrl.hash) fail('LAB_ISSUER must not have a query or fragment');
}
const ISSUER_PORT = parsePort(
  env.LAB_ISSUER_PORT ?? (issuerUrl ? (issuerUrl.port || (issuerUrl.protocol === 'https:' ? 443 : 80)) : 9000),
  'LAB_ISSUER_PORT',
);
const API_PORT = parsePort(env.LAB_API_PORT ?? 9001, 'LAB_API_PORT');
const ISSUER = (env.LAB_ISSUER ?? `http://${HOST}:${ISSUER_PORT}`).replace(/\/+$/, '');
const MOUNT = new URL(ISSUER).pathname.replace(/\/+$/, ''); // '' or '/realms/lab'
const LAB_BASE = `http://${HOST}:${ISSUER_PORT}`; // where this process really listens
const API_URL = `http://${HOST}:${API_PORT}`;

const APP_ORIGINS = (env.LAB_APP_ORIGINS ?? 'http://127.0.0.1:8080')
  .split(',').map((s) => s.trim()).filter(Boolean)
  .map((s) => {
    let u;
    try {
      u = new URL(s);
    } catch {
      fail(`LAB_APP_ORIGINS entry is not a URL: ${JSON.stringify(s)}`);
    }
    return u.origin;
  });
if (APP_ORIGINS.length === 0) fail('LAB_APP_ORIGINS is empty');

// LAB_WEAK: a deliberately weak configuration for the attack lab (lib/weak.mjs); empty = strict.
let WEAK;
try {
  WEAK = parseWeak(env.LAB_WEAK);
} catch (err) {
  fail(err.message);
}
// LAB_NO_CORS=1 (or LAB_WEAK=no_cors): no Access-Control-* header on any answer of the
// authorization server, like a provider that does not allow the app's origin (the app must
// explain CORS). Login pages work.
const NO_CORS = env.LAB_NO_CORS === '1' || WEAK.has('no_cors');
// LAB_WEAK=no_cors keeps the public metadata readable (many real providers serve discovery with
// `Access-Control-Allow-Origin: *` whatever the client's settings): only the endpoints a
// browser app must call with its own requests (token, userinfo, revocation, ...) lose CORS, so
// the checkup can still read the metadata and show exactly which line fails.
const CORS_KEPT_FOR_METADATA = env.LAB_NO_CORS !== '1' && WEAK.has('no_cors');
// LAB_DISCOVERY=rfc8414: metadata only at the RFC 8414 location (well-known inserted before the
// issuer's path); the OpenID Connect location (appended) answers 404.
const DISCOVERY = env.LAB_DISCOVERY ?? 'oidc';
if (!['oidc', 'rfc8414'].includes(DISCOVERY)) fail('LAB_DISCOVERY must be oidc or rfc8414');

// LAB_DPOP_NONCE=1: every DPoP proof must carry a server nonce (RFC 9449 §8), at the token
// endpoint, userinfo and the demo API: the first proof of each exchange is answered with
// use_dpop_nonce and a DPoP-Nonce header, so the client's single nonce retry can be watched.
// Without it only the client flow-lab-dpop-nonce must use nonces (at the token endpoint).
if (![undefined, '', '0', '1'].includes(env.LAB_DPOP_NONCE)) fail('LAB_DPOP_NONCE must be 1 (or unset)');
const DPOP_NONCE_ALL = env.LAB_DPOP_NONCE === '1';
const DPOP_NONCE_CLIENT = 'flow-lab-dpop-nonce';
// Proof algorithms the provider and the demo API accept (RFC 9449 §5.1 metadata; §7.1 `algs`).
const DPOP_ALGS = ['ES256', 'ES384', 'PS256', 'RS256', 'Ed25519', 'EdDSA'];
// API_DPOP_IAT_WINDOW_S: how many seconds the demo API accepts a proof's iat (and remembers
// its jti); default 60. The e2e sets a short one to watch the iat check refuse an old proof.
const API_DPOP_IAT_WINDOW = env.API_DPOP_IAT_WINDOW_S === undefined ? 60 : Number(env.API_DPOP_IAT_WINDOW_S);
if (!Number.isInteger(API_DPOP_IAT_WINDOW) || API_DPOP_IAT_WINDOW < 1 || API_DPOP_IAT_WINDOW > 3600) {
  fail('API_DPOP_IAT_WINDOW_S must be a whole number of seconds from 1 to 3600');
}
// One nonce secret for the process: the provider's ServerChallenge wants 32 bytes.
const DPOP_NONCE_SECRET = randomBytes(32);

const ACCESS_TOKEN_TTL = parsePort(env.LAB_ACCESS_TOKEN_TTL ?? 600, 'LAB_ACCESS_TOKEN_TTL');
const REDIRECT_URIS = APP_ORIGINS.map((o) => `${o}/`);

const CONFIDENTIAL_SECRET = 'demo-secret-not-secret-in-a-browser';
const API_CLIENT_ID = 'demo-api';
const API_CLIENT_SECRET = env.LAB_API_CLIENT_SECRET || randomBytes(24).toString('base64url');
const APP_CLIENTS = new Set(['flow-lab', 'flow-lab-confidential', 'flow-lab-dpop', DPOP_NONCE_CLIENT]);

// ---------------------------------------------------------------- provider
function signingKeys() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: `lab-${randomBytes(6).toString('hex')}`, alg: 'RS256', use: 'sig' }] };
}

const configuration = {
  adapter: LabMemoryAdapter,
  jwks: signingKeys(), // fresh per start: state is in memory anyway
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  clients: [
    {
      client_id: 'flow-lab',
      client_name: 'OAuth Flow Lab',
      token_endpoint_auth_method: 'none',
      redirect_uris: REDIRECT_URIS,
      post_logout_redirect_uris: REDIRECT_URIS,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    {
      client_id: 'flow-lab-confidential',
      client_name: 'OAuth Flow Lab (confidential client, PKCE off)',
      client_secret: CONFIDENTIAL_SECRET,
      token_endpoint_auth_method: 'client_secret_post',
      redirect_uris: REDIRECT_URIS,
      post_logout_redirect_uris: REDIRECT_URIS,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    {
      // DPoP required (RFC 9449 §5.2 dpop_bound_access_tokens): a token request without a
      // proof is refused, so every token this client gets is sender-constrained.
      client_id: 'flow-lab-dpop',
      client_name: 'OAuth Flow Lab (DPoP required)',
      token_endpoint_auth_method: 'none',
      dpop_bound_access_tokens: true,
      redirect_uris: REDIRECT_URIS,
      post_logout_redirect_uris: REDIRECT_URIS,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    {
      // DPoP required, and the token endpoint asks for a server nonce (RFC 9449 §8) on every
      // proof that has none: the use_dpop_nonce round without restarting the provider.
      client_id: DPOP_NONCE_CLIENT,
      client_name: 'OAuth Flow Lab (DPoP with server nonces)',
      token_endpoint_auth_method: 'none',
      dpop_bound_access_tokens: true,
      redirect_uris: REDIRECT_URIS,
      post_logout_redirect_uris: REDIRECT_URIS,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    {
      client_id: API_CLIENT_ID,
      client_name: 'Demo resource API',
      client_secret: API_CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [],
      grant_types: [],
      response_types: [],
    },
  ],
  responseTypes: ['code'],
  enabledJWA: { dPoPSigningAlgValues: DPOP_ALGS },
  scopes: ['openid', 'profile', 'email', 'offline_access', 'read:profile', 'read:files'],
  claims: {
    openid: ['sub'],
    profile: ['name'],
    email: ['email', 'email_verified'],
  },
  // put the requested profile/email claims in the ID token as well (teaching aid)
  conformIdTokenClaims: false,
  findAccount,
  interactions: {
    url: (ctx, interaction) => `${MOUNT}/interaction/${interaction.uid}`,
  },
  // PKCE (S256 only in 9.x) is required for public clients, optional for the
  // confidential "PKCE off" demo client.
  pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
  // The browser app calls /token, /token/revocation and /me with CORS. Allow
  // the configured app origins for the two app clients (public and
  // confidential), never for demo-api.
  clientBasedCORS: (ctx, origin, client) => APP_CLIENTS.has(client.clientId) && APP_ORIGINS.includes(origin),
  // same as the 9.x default, spelled out: refresh tokens only when
  // offline_access was requested and granted (see the /auth rewrite below)
  issueRefreshToken: async (ctx, client, source) => client.grantTypeAllowed('refresh_token')
    && source.scopes.has('offline_access'),
  rotateRefreshToken: true,
  ttl: {
    AccessToken: ACCESS_TOKEN_TTL,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 24 * 3600,
    Interaction: 3600,
    Session: 24 * 3600,
    Grant: 24 * 3600,
  },
  features: {
    devInteractions: { enabled: false },
    // DPoP (RFC 9449): on by default in oidc-provider 9, spelled out. A client that sends a
    // proof gets token_type DPoP (cnf.jkt in introspection); one that sends none still gets
    // Bearer, except the clients registered with dpop_bound_access_tokens.
    dPoP: {
      enabled: true,
      nonceSecret: DPOP_NONCE_SECRET,
      requireNonce: (ctx) => DPOP_NONCE_ALL || ctx.oidc?.client?.clientId === DPOP_NONCE_CLIENT,
    },
    resourceIndicators: { enabled: false },
    introspection: {
      enabled: true,
      allowedPolicy: async (ctx, client, token) => client.clientId === API_CLIENT_ID
        || token.clientId === client.clientId,
    },
    revocation: {
      enabled: true,
      allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId,
    },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        pageSecurityHeaders(ctx, APP_ORIGINS);
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = logoutPage({ form, clientName: ctx.oidc.client?.clientName });
      },
      postLogoutSuccessSource: async (ctx) => {
        pageSecurityHeaders(ctx, APP_ORIGINS);
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = logoutSuccessPage({ clientName: ctx.oidc.client?.clientName });
      },
    },
  },
  renderError: async (ctx, out) => {
    pageSecurityHeaders(ctx, APP_ORIGINS);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = errorPage('The provider could not complete this request', out);
  },
};

applyWeakConfiguration(configuration, WEAK);
const provider = new Provider(ISSUER, configuration);
applyWeakProvider(provider, WEAK);

provider.on('server_error', (ctx, err) => {
  console.error(`provider server_error on ${ctx.method} ${ctx.path}: ${err.name}: ${err.message}`);
});

// --- middleware in front of the provider (provider.use runs before it) ---
provider.use(async (ctx, next) => {
  // the issuer may carry a path; the outer server strips it before Koa sees
  // the request, oidc-provider builds its URLs from ctx.mountPath
  ctx.mountPath = MOUNT;
  return next();
});

// OpenID Connect ignores offline_access unless prompt=consent is present
// (oidc-provider drops it silently). So that the app gets a refresh token by
// just asking for offline_access, a GET /auth that requests offline_access
// without any prompt parameter is treated as prompt=consent: the user always
// sees the consent page, which lists "Stay signed in (refresh token)".
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/auth') {
    const query = new URLSearchParams(ctx.querystring);
    const scopes = (query.get('scope') ?? '').split(' ');
    if (scopes.includes('offline_access') && !query.has('prompt')) {
      query.set('prompt', 'consent');
      ctx.querystring = query.toString();
    }
  }
  return next();
});

provider.use(faultMiddleware({ appOrigins: APP_ORIGINS, labBase: LAB_BASE }));
if (WEAK.size) provider.use(weakMiddleware({ weak: WEAK, appOrigins: APP_ORIGINS }));
provider.use(interactionRoutes({ provider, mount: MOUNT, appOrigins: APP_ORIGINS }));

// ---------------------------------------------------------------- servers
function logRequests(label, handler) {
  return (req, res) => {
    const started = process.hrtime.bigint();
    const method = req.method;
    const path = (req.url ?? '').split('?')[0]; // never the query: it may carry codes or state
    res.once('close', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const status = res.headersSent ? res.statusCode : '---';
      console.log(`${label} ${method} ${path} ${status} ${ms.toFixed(1)}ms`);
    });
    handler(req, res);
  };
}

const providerCallback = provider.callback();

function withoutCors(res) {
  const isCors = (name) => String(name).toLowerCase().startsWith('access-control-');
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) => (isCors(name) ? res : setHeader(name, value));
  const writeHead = res.writeHead.bind(res);
  res.writeHead = (status, ...rest) => {
    const headers = rest.find((r) => r && typeof r === 'object');
    if (headers && !Array.isArray(headers)) for (const name of Object.keys(headers)) if (isCors(name)) delete headers[name];
    return writeHead(status, ...rest);
  };
}

function issuerHandler(req, res) {
  const [path, query] = (req.url ?? '/').split('?');
  if (NO_CORS && !(CORS_KEPT_FOR_METADATA && path.includes('/.well-known/'))) withoutCors(res);
  if (DISCOVERY === 'rfc8414') {
    if (path === `/.well-known/oauth-authorization-server${MOUNT}`) {
      req.url = `/.well-known/openid-configuration${query === undefined ? '' : `?${query}`}`;
      return providerCallback(req, res);
    }
    if (path === `${MOUNT}/.well-known/openid-configuration`) {
      res.writeHead(404, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' });
      res.end('{"error":"not_found","error_description":"LAB_DISCOVERY=rfc8414: see /.well-known/oauth-authorization-server"}');
      return undefined;
    }
  }
  if (MOUNT && (path === MOUNT || path.startsWith(`${MOUNT}/`))) {
    const rest = req.url.slice(MOUNT.length);
    req.url = rest.startsWith('/') ? rest : `/${rest}`;
    return providerCallback(req, res);
  }
  if (!MOUNT || path.startsWith('/__lab/')) return providerCallback(req, res);
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`Not found. The issuer is ${ISSUER}\n`);
  return undefined;
}

const apiHandler = createApiHandler({
  appOrigins: APP_ORIGINS,
  introspectionUrl: `${LAB_BASE}${MOUNT}/token/introspection`,
  clientId: API_CLIENT_ID,
  clientSecret: API_CLIENT_SECRET,
  apiUrl: API_URL,
  dpopAlgs: DPOP_ALGS,
  dpopNonceSecret: DPOP_NONCE_ALL ? DPOP_NONCE_SECRET : undefined,
  dpopIatWindow: API_DPOP_IAT_WINDOW,
});

const issuerServer = http.createServer(logRequests('op ', issuerHandler));
const apiServer = http.createServer(logRequests('api', (req, res) => {
  apiHandler(req, res).catch((err) => {
    console.error(`api error: ${err.message}`);
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end('{"error":"server_error"}');
  });
}));

function listen(server, port, name) {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`${name} cannot listen on ${HOST}:${port}: ${err.code ?? err.message}`)));
    server.listen(port, HOST, resolve);
  });
}

try {
  await listen(issuerServer, ISSUER_PORT, 'authorization server');
  await listen(apiServer, API_PORT, 'resource API');
} catch (err) {
  fail(err.message);
}

console.log(`OAuth Flow Lab demo provider (oidc-provider, Node ${process.version})
  issuer:        ${ISSUER}
  discovery:     ${ISSUER}/.well-known/openid-configuration
  resource API:  ${API_URL}/api/profile (read:profile), ${API_URL}/api/files (read:files)
  app origins:   ${APP_ORIGINS.join(', ')}
  redirect URIs: ${REDIRECT_URIS.join(', ')}
  DPoP:          proofs ${DPOP_ALGS.join(' ')}; API iat window ${API_DPOP_IAT_WINDOW} s; clients flow-lab-dpop (required), ${DPOP_NONCE_CLIENT} (required + nonce)${DPOP_NONCE_ALL ? '; LAB_DPOP_NONCE=1: nonce required everywhere' : ''}
  clients:       flow-lab (public, ${WEAK.has('pkce_optional') ? 'PKCE optional' : 'PKCE required'}, ${WEAK.has('plain') ? 'S256 or plain' : 'S256 only'}${WEAK.has('implicit') ? ', implicit allowed' : ''}), flow-lab-confidential (client_secret_post, PKCE optional)
  accounts:      ${DEMO_ACCOUNTS.map((a) => `${a.login} / ${a.password}`).join(', ')}
  metadata:      ${DISCOVERY === 'rfc8414' ? `RFC 8414 only: ${LAB_BASE}/.well-known/oauth-authorization-server${MOUNT}` : 'OpenID Connect'}${NO_CORS ? `\n  CORS:          off for every origin (${env.LAB_NO_CORS === '1' ? 'LAB_NO_CORS=1' : 'LAB_WEAK=no_cors'})` : ''}
  faults:        ${LAB_BASE}/__lab/faults (off)${WEAK.size ? `\n${weakBanner(WEAK)}` : ''}
ready`);
if (WEAK.size) console.error(`provider: WEAK CONFIGURATION active (LAB_WEAK=${[...WEAK].join(',')}), for demonstrations only`);

// ---------------------------------------------------------------- shutdown
let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`received ${signal}, shutting down`);
  releaseHung();
  const closed = [issuerServer, apiServer].map((server) => new Promise((resolve) => {
    server.close(resolve);
    server.closeAllConnections();
  }));
  Promise.all(closed).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
