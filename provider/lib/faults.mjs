// Fault switches: make the provider misbehave on purpose so the app's error
// handling can be tested. Off by default; controlled through /__lab/faults
// (loopback only, JSON only, no CORS).
import { Readable } from 'node:stream';
import { editCallbackLocation } from './callback.mjs';

export const TOKEN_FAULTS = {
  html500: '500 with an HTML error page',
  not_json: '200 whose body is "this is not json" (Content-Type: application/json)',
  json_text_plain: 'the real token response, but Content-Type: text/plain',
  expires_in_string: 'the real token response, with expires_in as a JSON string',
  hang: 'never answers',
  no_cors: 'the real token response without Access-Control-Allow-Origin',
  redirect307: '307 redirect to /__lab/redirected-token (a client must not follow it)',
  invalid_grant: '400 {"error":"invalid_grant"}',
  huge_error_description: '400 invalid_request with a 100 KB error_description containing HTML and bidi controls',
  invalid_utf8: 'the real token response plus a member whose JSON string holds the byte 0xFF (not UTF-8)',
  huge_stream: '200 application/json streaming 5 MB slowly (64 KiB every 10 ms); the state says how much was sent',
};

/** Size of the `huge_stream` answer. */
const HUGE_STREAM_BYTES = 5 * 1024 * 1024;

export const ID_TOKEN_FAULTS = {
  bad_signature: 'the real token response, with a claim of the id_token changed after signing (name)',
  alg_none: 'the real token response, with the id_token re-encoded as alg "none" without a signature',
};

const state = {
  id_token: null, // null = off; else an ID_TOKEN_FAULTS key, for every POST /token until reset
  token: null,
  token_remaining: null, // null = until reset; n = for the next n POST /token
  callback_iss: null, // null = off; '' = remove iss; other = replace iss
  // huge_stream: bytes written before the answer ended, and whether the client closed it early
  stream: null,
};

const hung = new Set();

function snapshot() {
  return {
    token: state.token,
    token_remaining: state.token_remaining,
    callback_iss: state.callback_iss,
    id_token: state.id_token,
    stream: state.stream,
    available: {
      token: TOKEN_FAULTS,
      callback_iss: 'string to put in iss, "" to remove iss, null for off',
      id_token: ID_TOKEN_FAULTS,
    },
  };
}

function reset() {
  state.id_token = null;
  state.token = null;
  state.token_remaining = null;
  state.callback_iss = null;
  state.stream = null;
  releaseHung();
}

/** Drop connections held open by the `hang` fault. */
export function releaseHung() {
  for (const res of hung) res.destroy();
  hung.clear();
}

function isLoopback(address) {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

export function hugeErrorDescription() {
  const head = 'Lab fault huge_error_description: <img src=x onerror=alert(1)> '
    + '<script>alert(2)</script> bidi: \u202Etxt.exe\u202C \u2067isolate\u2069 ';
  const filler = 'This error_description is deliberately enormous and must be shown as plain, truncated text. ';
  let text = head;
  while (text.length < 100 * 1024) text += filler;
  return text.slice(0, 100 * 1024);
}

function json(ctx, status, body) {
  ctx.status = status;
  ctx.type = 'application/json; charset=utf-8';
  ctx.body = JSON.stringify(body);
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() ? JSON.parse(text) : {};
}

/**
 * Koa middleware placed in front of the provider. `labBase` is the issuer's
 * origin (scheme://host:port, no path); `appOrigins` the allowed app origins.
 */
export function faultMiddleware({ appOrigins, labBase }) {
  const corsFor = (ctx) => {
    const origin = ctx.get('Origin');
    ctx.vary('Origin');
    if (origin && appOrigins.includes(origin)) ctx.set('Access-Control-Allow-Origin', origin);
  };

  async function control(ctx) {
    if (!isLoopback(ctx.req.socket.remoteAddress)) {
      return json(ctx, 403, { error: 'forbidden', error_description: 'fault control is loopback-only' });
    }
    ctx.set('Cache-Control', 'no-store');
    if (ctx.method === 'GET') return json(ctx, 200, snapshot());
    if (ctx.method === 'DELETE') {
      reset();
      return json(ctx, 200, snapshot());
    }
    if (ctx.method !== 'POST') {
      ctx.set('Allow', 'GET, POST, DELETE');
      return json(ctx, 405, { error: 'method_not_allowed' });
    }
    if (!ctx.is('application/json')) {
      return json(ctx, 415, { error: 'invalid_request', error_description: 'send Content-Type: application/json' });
    }
    let body;
    try {
      body = await readJson(ctx.req);
    } catch {
      return json(ctx, 400, { error: 'invalid_request', error_description: 'body must be a JSON object' });
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return json(ctx, 400, { error: 'invalid_request', error_description: 'body must be a JSON object' });
    }
    if ('token' in body) {
      if (body.token !== null && !Object.hasOwn(TOKEN_FAULTS, body.token)) {
        return json(ctx, 400, { error: 'invalid_request', error_description: `unknown token fault; one of: ${Object.keys(TOKEN_FAULTS).join(', ')}` });
      }
      if (body.times !== undefined && body.times !== null
        && !(Number.isInteger(body.times) && body.times > 0)) {
        return json(ctx, 400, { error: 'invalid_request', error_description: 'times must be a positive integer or null' });
      }
      if (state.token === 'hang' && body.token !== 'hang') releaseHung();
      state.token = body.token;
      state.token_remaining = body.token === null ? null : (body.times ?? null);
    }
    if ('id_token' in body) {
      if (body.id_token !== null && !Object.hasOwn(ID_TOKEN_FAULTS, body.id_token)) {
        return json(ctx, 400, { error: 'invalid_request', error_description: `unknown id_token fault; one of: ${Object.keys(ID_TOKEN_FAULTS).join(', ')}` });
      }
      state.id_token = body.id_token;
    }
    if ('callback_iss' in body) {
      if (body.callback_iss !== null && typeof body.callback_iss !== 'string') {
        return json(ctx, 400, { error: 'invalid_request', error_description: 'callback_iss must be a string or null' });
      }
      state.callback_iss = body.callback_iss;
    }
    console.log(`lab faults now: id_token=${state.id_token ?? 'off'} token=${state.token ?? 'off'}${state.token_remaining ? ` (x${state.token_remaining})` : ''} callback_iss=${state.callback_iss === null ? 'off' : JSON.stringify(state.callback_iss)}`);
    return json(ctx, 200, snapshot());
  }

  function takeTokenFault() {
    if (!state.token) return null;
    const fault = state.token;
    if (state.token_remaining !== null) {
      state.token_remaining -= 1;
      if (state.token_remaining <= 0) {
        state.token = null;
        state.token_remaining = null;
      }
    }
    return fault;
  }

  async function tokenFault(ctx, next, fault) {
    ctx.set('Cache-Control', 'no-store');
    switch (fault) {
      case 'html500':
        corsFor(ctx);
        ctx.status = 500;
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = '<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>'
          + '<body><h1>Internal Server Error</h1><p>The token service is having a bad day (lab fault <code>html500</code>).</p></body></html>';
        return undefined;
      case 'not_json':
        corsFor(ctx);
        ctx.status = 200;
        ctx.type = 'application/json; charset=utf-8';
        ctx.body = 'this is not json';
        return undefined;
      case 'hang':
        ctx.respond = false;
        hung.add(ctx.res);
        ctx.res.on('close', () => hung.delete(ctx.res));
        return undefined;
      case 'redirect307':
        corsFor(ctx);
        ctx.status = 307;
        ctx.set('Location', `${labBase}/__lab/redirected-token`);
        ctx.body = '';
        return undefined;
      case 'invalid_grant':
        corsFor(ctx);
        return json(ctx, 400, {
          error: 'invalid_grant',
          error_description: 'grant request is invalid (lab fault invalid_grant)',
        });
      case 'huge_error_description':
        corsFor(ctx);
        return json(ctx, 400, { error: 'invalid_request', error_description: hugeErrorDescription() });
      case 'huge_stream': {
        // Slow enough that a client which stops reading at its cap closes the connection long
        // before the end; one that reads everything receives all 5 MB.
        corsFor(ctx);
        ctx.status = 200;
        ctx.type = 'application/json';
        const progress = { sent: 0, closed_early: false, done: false };
        state.stream = progress;
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        ctx.body = new Readable({
          read() {
            if (progress.sent >= HUGE_STREAM_BYTES) {
              progress.done = true;
              this.push(null);
              return;
            }
            setTimeout(() => {
              progress.sent += chunk.length;
              this.push(chunk);
            }, 10);
          },
        });
        ctx.res.on('close', () => {
          if (!progress.done) progress.closed_early = true;
        });
        return undefined;
      }
      default:
        break;
    }

    // the remaining faults let the real token endpoint answer, then damage it
    await next();
    if (fault === 'no_cors') {
      ctx.remove('Access-Control-Allow-Origin');
      ctx.remove('Access-Control-Expose-Headers');
    } else if (fault === 'json_text_plain') {
      if (ctx.body && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body)) {
        const text = JSON.stringify(ctx.body);
        ctx.body = text;
      }
      ctx.type = 'text/plain; charset=utf-8';
    } else if (fault === 'invalid_utf8') {
      if (ctx.body && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body)) {
        // A member the client would otherwise ignore (T-20), so only a strict UTF-8 decode
        // (T-29) refuses the answer; a lenient one turns 0xFF into U+FFFD and logs in.
        const text = JSON.stringify({ ...ctx.body, lab_note: 'caf@' });
        const at = Buffer.from(text.slice(0, text.indexOf('caf@') + 3), 'utf8').length;
        const bytes = Buffer.from(text, 'utf8');
        bytes[at] = 0xff;
        ctx.body = bytes;
        ctx.type = 'application/json';
      }
    } else if (fault === 'expires_in_string') {
      if (ctx.body && typeof ctx.body === 'object' && typeof ctx.body.expires_in === 'number') {
        ctx.body = { ...ctx.body, expires_in: String(ctx.body.expires_in) };
      }
    }
    return undefined;
  }

  // Damages the id_token of a real token response (the signature is left as it was, so the
  // token no longer verifies), for the app's ID token validation tests.
  function tamperIdToken(ctx) {
    const body = ctx.body;
    if (!body || typeof body !== 'object' || Buffer.isBuffer(body) || typeof body.id_token !== 'string') return;
    const [header, payload, signature] = body.id_token.split('.');
    const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    const encode = (value) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
    let idToken;
    if (state.id_token === 'bad_signature') {
      const claims = decode(payload);
      claims.name = 'Mallory (changed after signing)';
      idToken = `${header}.${encode(claims)}.${signature}`;
    } else if (state.id_token === 'alg_none') {
      idToken = `${encode({ ...decode(header), alg: 'none' })}.${payload}.`;
    } else {
      return;
    }
    ctx.body = { ...body, id_token: idToken };
  }

  function rewriteCallbackIss(ctx) {
    if (state.callback_iss === null) return;
    editCallbackLocation(ctx, appOrigins, (params) => {
      if (state.callback_iss === '') params.delete('iss');
      else params.set('iss', state.callback_iss);
    });
  }

  return async function labFaults(ctx, next) {
    if (ctx.path === '/__lab/faults') return control(ctx);
    if (ctx.path === '/__lab/redirected-token') {
      // where redirect307 points; looks like a success so a client that
      // wrongly follows the redirect is easy to spot
      corsFor(ctx);
      ctx.set('Cache-Control', 'no-store');
      return json(ctx, 200, {
        access_token: 'followed-a-redirect-do-not-use',
        token_type: 'Bearer',
        expires_in: 60,
        lab_note: 'the client followed a redirect from the token endpoint',
      });
    }
    if (ctx.method === 'POST' && ctx.path === '/token') {
      const fault = takeTokenFault();
      if (fault) return tokenFault(ctx, next, fault);
      if (state.id_token) {
        await next();
        tamperIdToken(ctx);
        return undefined;
      }
      return next();
    }
    if (ctx.path === '/auth' || ctx.path.startsWith('/auth/')) {
      await next();
      rewriteCallbackIss(ctx);
      return undefined;
    }
    return next();
  };
}
