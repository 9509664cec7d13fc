// Demo resource API (RFC 6750 bearer tokens). Tokens are validated on every
// request through the provider's real introspection endpoint (RFC 7662),
// authenticated as the confidential client `demo-api` (client_secret_basic).
import { getAccount } from './accounts.mjs';

const REALM = 'flow-lab-api';

const ROUTES = {
  '/api/profile': {
    scope: 'read:profile',
    handle: (sub) => {
      const account = getAccount(sub);
      return { sub, name: account?.name ?? null, email: account?.email ?? null };
    },
  },
  '/api/files': {
    scope: 'read:files',
    handle: (sub) => ({ owner: sub, files: (getAccount(sub)?.files ?? []).map((f) => ({ ...f })) }),
  },
};

// RFC 6750 §3: error_description / scope use a restricted character set
function quoted(value) {
  return String(value).replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '?');
}

function challenge(params = {}) {
  const parts = [`Bearer realm="${REALM}"`];
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined) parts.push(`${k}="${quoted(v)}"`);
  }
  return parts.join(', ');
}

export function createApiHandler({ appOrigins, introspectionUrl, clientId, clientSecret }) {
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;

  async function introspect(token) {
    const res = await fetch(introspectionUrl, {
      method: 'POST',
      headers: {
        authorization: basic,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`introspection answered HTTP ${res.status}`);
    return res.json();
  }

  function cors(req, res) {
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    if (origin && appOrigins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate');
      return true;
    }
    return false;
  }

  function send(res, status, body, headers = {}) {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  return async function api(req, res) {
    const path = new URL(req.url, 'http://api.invalid').pathname;
    const allowedOrigin = cors(req, res);

    if (req.method === 'OPTIONS') {
      // CORS preflight: GET with an Authorization header
      if (allowedOrigin && req.headers['access-control-request-method']) {
        res.setHeader('Access-Control-Allow-Methods', 'GET');
        res.setHeader('Access-Control-Allow-Headers', 'Authorization');
        res.setHeader('Access-Control-Max-Age', '600');
      }
      res.writeHead(204, { 'Cache-Control': 'no-store' });
      res.end();
      return;
    }

    if (path === '/' || path === '/api' || path === '/api/') {
      send(res, 200, {
        service: 'OAuth Flow Lab demo resource API',
        endpoints: Object.fromEntries(Object.entries(ROUTES).map(([p, r]) => [p, { method: 'GET', scope: r.scope }])),
      });
      return;
    }

    const route = ROUTES[path];
    if (!route) {
      send(res, 404, { error: 'not_found' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { error: 'method_not_allowed' }, { Allow: 'GET, OPTIONS' });
      return;
    }

    // The token is taken from the Authorization header only (never the query).
    const header = req.headers.authorization;
    if (!header || !/^bearer(\s|$)/i.test(header)) {
      const inQuery = new URL(req.url, 'http://api.invalid').searchParams.has('access_token');
      send(res, 401, {
        error_description: inQuery
          ? 'No access token in the Authorization header. Tokens in the URL query are not accepted.'
          : 'No access token. Send it as "Authorization: Bearer <access token>".',
      }, { 'WWW-Authenticate': challenge() });
      return;
    }
    const match = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
    if (!match) {
      const description = 'The Authorization header is not of the form "Bearer <token>".';
      send(res, 400, { error: 'invalid_request', error_description: description }, {
        'WWW-Authenticate': challenge({ error: 'invalid_request', error_description: description }),
      });
      return;
    }

    let info;
    try {
      info = await introspect(match[1]);
    } catch (err) {
      console.error(`api: introspection failed: ${err.message}`);
      send(res, 503, { error: 'temporarily_unavailable', error_description: 'Could not reach the authorization server to check the token.' });
      return;
    }

    const now = Math.floor(Date.now() / 1000);
    let problem;
    if (!info.active) problem = 'The access token is not active: it is unknown, expired or revoked.';
    else if (typeof info.exp === 'number' && info.exp <= now) problem = 'The access token has expired.';
    else if (info.token_type !== 'Bearer') problem = 'This is not a Bearer access token (refresh tokens and sender-constrained tokens are not accepted here).';
    else if (!info.sub) problem = 'The access token has no subject.';
    if (problem) {
      send(res, 401, { error: 'invalid_token', error_description: problem }, {
        'WWW-Authenticate': challenge({ error: 'invalid_token', error_description: problem }),
      });
      return;
    }

    const granted = new Set(String(info.scope ?? '').split(' ').filter(Boolean));
    if (!granted.has(route.scope)) {
      const description = `This endpoint needs the scope ${route.scope}; the access token has: ${[...granted].join(' ') || '(none)'}.`;
      send(res, 403, { error: 'insufficient_scope', scope: route.scope, error_description: description }, {
        'WWW-Authenticate': challenge({ error: 'insufficient_scope', scope: route.scope, error_description: description }),
      });
      return;
    }

    send(res, 200, route.handle(info.sub));
  };
}
