// LAB_WEAK: a deliberately weak configuration of the bundled provider, for the app's attack lab
// and provider checkup. Each switch turns one protection off (or emulates an old, weaker
// feature that oidc-provider 9 does not implement). Off unless asked for; never a model to copy.
//
//   LAB_WEAK=pkce_optional,no_iss      some switches
//   LAB_WEAK=all                       every switch
//
// The request rewrites apply to GET /auth (the front-channel request a browser makes); a
// POSTed authorization request is passed to oidc-provider unchanged.
import { createHash, randomBytes } from 'node:crypto';

import { editCallbackLocation } from './callback.mjs';

export const WEAK_SWITCHES = {
  pkce_optional: 'the public client flow-lab may send an authorization request without code_challenge',
  plain: 'code_challenge_method=plain accepted (and a code_challenge without a method, RFC 7636 §4.3)',
  implicit: 'response_type=token accepted (implicit grant: the access token comes back in the URL fragment)',
  no_cors: 'no Access-Control-* header for any origin on the token, userinfo and other endpoints (discovery stays readable; LAB_NO_CORS=1 closes it too)',
  no_iss: 'no RFC 9207 iss on the redirects back to the app, and not advertised in discovery',
};

/**
 * Parses LAB_WEAK. Returns a Set of switch names (empty = the strict default).
 * Throws an Error with a message naming the valid switches on an unknown name.
 */
export function parseWeak(value) {
  const names = String(value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (names.includes('all')) {
    if (names.length > 1) throw new Error(`LAB_WEAK=all cannot be combined with other names, got ${JSON.stringify(value)}`);
    return new Set(Object.keys(WEAK_SWITCHES));
  }
  const unknown = names.filter((n) => !Object.hasOwn(WEAK_SWITCHES, n));
  if (unknown.length) {
    throw new Error(`LAB_WEAK: unknown switch ${unknown.map((n) => JSON.stringify(n)).join(', ')}; `
      + `valid: ${Object.keys(WEAK_SWITCHES).join(', ')} (comma-separated), or all`);
  }
  return new Set(names);
}

/** Changes the oidc-provider configuration (before `new Provider`) for the active switches. */
export function applyWeakConfiguration(configuration, weak) {
  if (weak.has('pkce_optional')) {
    const strict = configuration.pkce.required;
    configuration.pkce = {
      ...configuration.pkce,
      required: (ctx, client) => client.clientId !== 'flow-lab' && strict(ctx, client),
    };
  }
  if (weak.has('implicit')) {
    // oidc-provider refuses `token` alone as a response type; `id_token token` is the nearest it
    // implements. GET /auth?response_type=token is rewritten to it (see weakMiddleware).
    configuration.responseTypes = [...configuration.responseTypes, 'id_token token'];
    const app = configuration.clients.find((c) => c.client_id === 'flow-lab');
    app.response_types = [...app.response_types, 'id_token token'];
    app.grant_types = [...app.grant_types, 'implicit'];
  }
}

/**
 * Changes the provider instance (after `new Provider`). oidc-provider refuses http redirect URIs
 * for web clients that use the implicit grant ("MUST only register URLs using the https
 * scheme"); the app runs on http://127.0.0.1, so that check is skipped in implicit mode (the
 * override oidc-provider's documentation suggests for development).
 */
export function applyWeakProvider(provider, weak) {
  if (!weak.has('implicit')) return;
  const { invalidate } = provider.Client.Schema.prototype;
  provider.Client.Schema.prototype.invalidate = function labInvalidate(message, code) {
    if (code === 'implicit-force-https' || code === 'implicit-forbid-localhost') return;
    invalidate.call(this, message, code);
  };
}

const PKCE_FORMAT = /^[A-Za-z0-9._~-]{43,128}$/;

/** The /auth rewrites; returns true when the query changed. */
function rewriteAuthorizationQuery(query, weak) {
  let changed = false;
  const single = (name) => query.getAll(name).length === 1; // leave duplicates to oidc-provider
  if (weak.has('plain') && single('code_challenge') && query.getAll('code_challenge_method').length <= 1) {
    const method = query.get('code_challenge_method');
    if (method === 'plain' || method === null) {
      // oidc-provider 9 only implements S256: turn the plain challenge (= the verifier) into
      // its S256 form, so that the later code_verifier (the plain value) matches. A challenge
      // that is not a valid verifier is left as it is, and oidc-provider reports its format.
      const challenge = query.get('code_challenge');
      if (PKCE_FORMAT.test(challenge)) {
        query.set('code_challenge', createHash('sha256').update(challenge).digest('base64url'));
      }
      query.set('code_challenge_method', 'S256');
      changed = true;
    }
  }
  if (weak.has('implicit') && single('response_type') && query.get('response_type').trim() === 'token') {
    query.set('response_type', 'id_token token');
    const scopes = (query.get('scope') ?? '').split(' ').filter(Boolean);
    if (!scopes.includes('openid')) query.set('scope', ['openid', ...scopes].join(' '));
    if (!query.get('nonce')) query.set('nonce', randomBytes(16).toString('base64url'));
    changed = true;
  }
  return changed;
}

/**
 * Koa middleware in front of the provider (place it after faultMiddleware, so that the
 * callback_iss fault still has the last word on the redirect).
 */
export function weakMiddleware({ weak, appOrigins }) {
  return async function labWeak(ctx, next) {
    if (ctx.method === 'GET' && ctx.path === '/auth') {
      const query = new URLSearchParams(ctx.querystring);
      if (rewriteAuthorizationQuery(query, weak)) ctx.querystring = query.toString();
    }
    await next();
    if (ctx.path === '/.well-known/openid-configuration' && ctx.status === 200
      && ctx.body && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body)) {
      const body = { ...ctx.body };
      if (weak.has('plain')) body.code_challenge_methods_supported = ['S256', 'plain'];
      if (weak.has('implicit')) body.response_types_supported = [...body.response_types_supported, 'token'];
      if (weak.has('no_iss')) delete body.authorization_response_iss_parameter_supported;
      ctx.body = body;
    }
    if (weak.has('no_iss')) editCallbackLocation(ctx, appOrigins, (params) => params.delete('iss'));
  };
}

/** Lines for the startup banner. */
export function weakBanner(weak) {
  if (weak.size === 0) return '';
  const bar = '!'.repeat(78);
  return [
    `  ${bar}`,
    '  !!! WEAK CONFIGURATION — LAB_WEAK is set. For demonstrations of attacks only.',
    '  !!! This provider now accepts requests a real one must refuse:',
    ...[...weak].map((n) => `  !!!   ${n}: ${WEAK_SWITCHES[n]}`),
    `  ${bar}`,
  ].join('\n');
}
