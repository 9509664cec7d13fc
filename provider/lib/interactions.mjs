// The provider's own login and consent pages, built on oidc-provider's
// interaction API (interactionDetails / interactionFinished). Mounted as a Koa
// middleware in front of the provider (provider.use), so paths here are
// relative to the issuer's path prefix.
import { errors } from 'oidc-provider';

import { checkPassword, getAccount, DEMO_ACCOUNTS } from './accounts.mjs';
import { loginPage, consentPage, errorPage } from './views.mjs';

const { SessionNotFound } = errors;

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|consent|abort))?$/;
const MAX_FORM_BYTES = 16 * 1024;

export async function readForm(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) {
      const err = new Error('form too large');
      err.status = 413;
      throw err;
    }
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export function pageSecurityHeaders(ctx, appOrigins) {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  // form-action must allow the app origins too: browsers check it on the
  // redirect chain that follows a form submission (POST -> /auth/:uid -> app).
  ctx.set('Content-Security-Policy', [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    "img-src 'self' data:",
    `form-action 'self' ${appOrigins.join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; '));
}

export function interactionRoutes({ provider, mount, appOrigins }) {
  const url = (uid, action) => `${mount}/interaction/${uid}${action ? `/${action}` : ''}`;

  function html(ctx, status, body) {
    pageSecurityHeaders(ctx, appOrigins);
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = body;
  }

  async function finish(ctx, result, mergeWithLastSubmission) {
    // interactionFinished writes the 303 itself
    ctx.respond = false;
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission });
  }

  async function renderLogin(ctx, details, { login, error, status = 200 } = {}) {
    const client = await provider.Client.find(details.params.client_id);
    html(ctx, status, loginPage({
      client,
      action: url(details.uid, 'login'),
      cancelAction: url(details.uid, 'abort'),
      login: login ?? details.params.login_hint ?? '',
      error,
      accounts: DEMO_ACCOUNTS,
    }));
  }

  async function renderConsent(ctx, details) {
    const client = await provider.Client.find(details.params.client_id);
    const scopes = [...new Set(String(details.params.scope ?? '').split(' ').filter(Boolean))];
    const accountName = getAccount(details.session?.accountId)?.name;
    html(ctx, 200, consentPage({
      client, action: url(details.uid, 'consent'), scopes, accountName,
    }));
  }

  async function allow(ctx, details) {
    const { prompt: { details: missing }, params, session: { accountId } } = details;
    let { grantId } = details;
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId, clientId: params.client_id });

    // Custom scopes (read:profile, read:files) are listed in the provider's
    // `scopes` configuration, so without resource indicators they arrive in
    // missingOIDCScope and are granted like the OpenID Connect scopes.
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scope] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scope.join(' '));
      }
    }
    grantId = await grant.save();

    const consent = details.grantId ? {} : { grantId };
    return finish(ctx, { consent }, true);
  }

  return async function interactions(ctx, next) {
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    const [, uid, action] = match;
    const method = ctx.method;

    try {
      if (!(method === 'GET' && !action) && !(method === 'POST' && action)) {
        ctx.status = 405;
        ctx.set('Allow', action ? 'POST' : 'GET');
        ctx.body = 'method not allowed';
        return undefined;
      }

      const details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== uid) {
        throw new SessionNotFound('interaction id does not match the interaction cookie');
      }
      const promptName = details.prompt.name;

      if (method === 'GET') {
        if (promptName === 'login') return await renderLogin(ctx, details);
        if (promptName === 'consent') return await renderConsent(ctx, details);
        return html(ctx, 501, errorPage('Unsupported step', { prompt: promptName }));
      }

      const form = await readForm(ctx.req);

      if (action === 'abort') {
        return await finish(ctx, {
          error: 'access_denied',
          error_description: 'The user cancelled the sign-in',
        }, false);
      }

      if (action === 'login') {
        if (promptName !== 'login') return ctx.redirect(url(uid));
        const login = form.get('login') ?? '';
        const accountId = checkPassword(login, form.get('password') ?? '');
        if (!accountId) {
          return await renderLogin(ctx, details, { login, error: 'Wrong user name or password' });
        }
        return await finish(ctx, { login: { accountId, amr: ['pwd'] } }, false);
      }

      // action === 'consent'
      if (promptName !== 'consent') return ctx.redirect(url(uid));
      if (form.get('decision') === 'allow') return await allow(ctx, details);
      return await finish(ctx, {
        error: 'access_denied',
        error_description: 'The user denied access',
      }, false);
    } catch (err) {
      if (ctx.res.headersSent) {
        console.error(`interaction error after response: ${err.name}: ${err.message}`);
        return undefined;
      }
      ctx.respond = true;
      if (err instanceof SessionNotFound) {
        return html(ctx, 400, errorPage('This sign-in has expired', {
          error: 'session_not_found',
          error_description: 'This sign-in attempt has expired or was already finished (the provider keeps state in memory, so a restart also ends it).',
        }));
      }
      if (err.status === 413) {
        return html(ctx, 413, errorPage('Request too large', { error: 'invalid_request' }));
      }
      console.error(`interaction error: ${err.name}: ${err.message}`);
      return html(ctx, 500, errorPage('Something went wrong', { error: 'server_error' }));
    }
  };
}
