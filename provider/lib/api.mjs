// Demo resource API (RFC 6750 bearer tokens, RFC 9449 DPoP-bound tokens). Tokens
// are validated on every request through the provider's real introspection
// endpoint (RFC 7662), authenticated as the confidential client `demo-api`
// (client_secret_basic). DPoP proofs are checked here (lib/dpop.mjs) and the
// token's cnf.jkt from introspection must name the proof's key.
import { getAccount } from './accounts.mjs';
import { DpopVerifier } from './dpop.mjs';

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
  // Read-only view of the presented token as introspection sees it (no scope needed): the
  // app, a public client, cannot call introspection itself, and the bundled provider's access
  // tokens are opaque, so this is where the app reads cnf.jkt (RFC 9449 §6.2) to show it
  // beside its own key's thumbprint. Protected like the other routes (a bound token needs
  // its proof).
  '/api/token-info': {
    scope: null,
    handle: (sub, info) => ({
      sub,
      token_type: info.token_type ?? null,
      cnf: info.cnf ?? null,
      scope: info.scope ?? '',
      exp: info.exp ?? null,
    }),
  },
};

// RFC 6750 §3: error_description / scope use a restricted character set
function quoted(value) {
  return String(value).replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '?');
}

function challenge(params = {}, scheme = 'Bearer', extra = {}) {
  const parts = [`${scheme} realm="${REALM}"`];
  for (const [k, v] of Object.entries({ ...params, ...extra })) {
    if (v !== undefined) parts.push(`${k}="${quoted(v)}"`);
  }
  return parts.join(', ');
}

export function createApiHandler({
  appOrigins, introspectionUrl, clientId, clientSecret, apiUrl, dpopAlgs = ['ES256'], dpopNonceSecret,
  dpopIatWindow,
}) {
  const dpop = new DpopVerifier({ algs: dpopAlgs, nonceSecret: dpopNonceSecret, iatWindow: dpopIatWindow });
  // RFC 9449 §7.1: the DPoP challenge names the accepted proof algorithms.
  const dpopChallenge = (params = {}) => challenge(params, 'DPoP', { algs: dpopAlgs.join(' ') });
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
      res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate, DPoP-Nonce');
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
        res.setHeader('Access-Control-Allow-Headers', 'Authorization, DPoP');
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
    if (!header || !/^(bearer|dpop)(\s|$)/i.test(header)) {
      const inQuery = new URL(req.url, 'http://api.invalid').searchParams.has('access_token');
      send(res, 401, {
        error_description: inQuery
          ? 'No access token in the Authorization header. Tokens in the URL query are not accepted.'
          : 'No access token. Send it as "Authorization: Bearer <access token>" (or "DPoP <access token>" with a DPoP proof).',
      }, { 'WWW-Authenticate': `${challenge()}, ${dpopChallenge()}` });
      return;
    }
    const match = /^(bearer|dpop) +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
    if (!match) {
      const isDpop = /^dpop/i.test(header);
      const description = `The Authorization header is not of the form "${isDpop ? 'DPoP' : 'Bearer'} <token>".`;
      const params = { error: 'invalid_request', error_description: description };
      send(res, 400, params, { 'WWW-Authenticate': isDpop ? dpopChallenge(params) : challenge(params) });
      return;
    }
    const scheme = match[1].toLowerCase();
    const token = match[2];
    // The challenge for this request's scheme.
    const challengeFor = scheme === 'dpop' ? dpopChallenge : challenge;
    const refuse = (status, error, description, headers = {}) => send(res, status, { error, error_description: description }, {
      'WWW-Authenticate': challengeFor({ error, error_description: description }),
      ...headers,
    });

    // RFC 9449 §7.1: a DPoP-scheme request must carry a valid proof for this very request
    // (method, URL, this token's hash), checked before the token is looked up.
    let proof;
    if (scheme === 'dpop') {
      // htu must name this API as configured, not whatever Host the request claims: a proof
      // made for another server must not pass here with a forged Host header.
      const target = `${apiUrl}${path}`;
      const verdict = await dpop.verify(req.headers.dpop, { method: req.method, htu: target, accessToken: token });
      if (verdict.error) {
        refuse(401, verdict.error, verdict.description, verdict.nonce ? { 'DPoP-Nonce': verdict.nonce } : {});
        return;
      }
      proof = verdict;
    }

    let info;
    try {
      info = await introspect(token);
    } catch (err) {
      console.error(`api: introspection failed: ${err.message}`);
      send(res, 503, { error: 'temporarily_unavailable', error_description: 'Could not reach the authorization server to check the token.' });
      return;
    }

    const now = Math.floor(Date.now() / 1000);
    let problem;
    if (!info.active) problem = 'The access token is not active: it is unknown, expired or revoked.';
    else if (typeof info.exp === 'number' && info.exp <= now) problem = 'The access token has expired.';
    else if (info.token_type !== 'Bearer' && info.token_type !== 'DPoP') problem = 'This is not an access token (refresh tokens and other token types are not accepted here).';
    else if (!info.sub) problem = 'The access token has no subject.';
    if (problem) {
      refuse(401, 'invalid_token', problem);
      return;
    }
    const jkt = info.cnf?.jkt;
    if (scheme === 'bearer' && jkt) {
      // RFC 9449 §7.2: the stolen-token defence. A DPoP-bound token sent as Bearer is refused,
      // so a copy of the token is useless without the key it is bound to.
      const description = 'This access token is bound to a DPoP key (cnf.jkt): send it as Authorization: DPoP <token> with a DPoP proof signed by that key. As a Bearer token it is refused.';
      send(res, 401, { error: 'invalid_token', error_description: description }, {
        'WWW-Authenticate': dpopChallenge({ error: 'invalid_token', error_description: description }),
      });
      return;
    }
    if (scheme === 'dpop') {
      if (!jkt) problem = 'This access token is not bound to a DPoP key: send it as Authorization: Bearer <token>.';
      else if (jkt !== proof.jkt) problem = 'The DPoP proof is signed by another key than the one this token is bound to (cnf.jkt does not match the proof\'s JWK thumbprint).';
      if (problem) {
        refuse(401, 'invalid_token', problem);
        return;
      }
    }

    const granted = new Set(String(info.scope ?? '').split(' ').filter(Boolean));
    if (route.scope && !granted.has(route.scope)) {
      const description = `This endpoint needs the scope ${route.scope}; the access token has: ${[...granted].join(' ') || '(none)'}.`;
      send(res, 403, { error: 'insufficient_scope', scope: route.scope, error_description: description }, {
        'WWW-Authenticate': challengeFor({ error: 'insufficient_scope', scope: route.scope, error_description: description }),
      });
      return;
    }

    send(res, 200, route.handle(info.sub, info));
  };
}
