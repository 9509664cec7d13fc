// DPoP proof checks for the demo resource API (RFC 9449 §4.3, §7.1), with `jose` (already
// installed as a dependency of oidc-provider) for the JWS part and Node's crypto for hashes.
// Every failure is an RFC 9449 error code plus a sentence saying what was wrong.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

import {
  calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify,
} from 'jose';

/** How far `iat` may be from the server's clock, either way (seconds), unless configured. */
export const IAT_WINDOW = 60;
/** Most proofs remembered for replay detection; older ones fall out first. */
const JTI_CACHE_MAX = 10000;
/** Nonce lifetime step (seconds): a nonce is good for its step and the next one. */
const NONCE_STEP = 60;
/** JWK members only a private or symmetric key has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const fail = (description) => ({ error: 'invalid_dpop_proof', description });
/** An untrusted value in a message: single-quoted (a `"` would not survive the header). */
const shown = (value) => (typeof value === 'string' ? `'${value.slice(0, 200)}'` : String(value ?? 'none'));

/** `htu` compared as RFC 9449 §4.3 says: no query or fragment, scheme/host/port normalised. */
function normalisedHtu(value) {
  if (typeof value !== 'string') return null;
  const url = URL.parse(value);
  if (!url) return null;
  url.search = '';
  url.hash = '';
  return url.href;
}

export class DpopVerifier {
  #algs;

  #nonceSecret;

  #seen = new Map(); // `${jkt}:${jti}` -> expiry (epoch seconds)

  #iatWindow;

  constructor({ algs, nonceSecret, iatWindow = IAT_WINDOW }) {
    this.#algs = algs;
    this.#iatWindow = iatWindow;
    this.#nonceSecret = nonceSecret ? Buffer.from(nonceSecret) : undefined;
  }

  #nonceFor(step) {
    return createHmac('sha256', this.#nonceSecret).update(`flow-lab-api dpop nonce ${step}`).digest('base64url');
  }

  /** A fresh nonce (RFC 9449 §9), when nonces are required. */
  nonce() {
    return this.#nonceSecret ? this.#nonceFor(Math.floor(Date.now() / 1000 / NONCE_STEP)) : undefined;
  }

  #nonceIsValid(nonce) {
    if (typeof nonce !== 'string') return false;
    const step = Math.floor(Date.now() / 1000 / NONCE_STEP);
    return [step, step - 1].some((s) => {
      const want = Buffer.from(this.#nonceFor(s));
      const got = Buffer.from(nonce);
      return want.length === got.length && timingSafeEqual(want, got);
    });
  }

  /** Remembers `key` until `expiry`; false when it was already there (a replay). */
  #firstUse(key, expiry) {
    const now = Math.floor(Date.now() / 1000);
    if (this.#seen.size >= JTI_CACHE_MAX) {
      for (const [k, exp] of this.#seen) if (exp < now) this.#seen.delete(k);
      // Still full: forget the oldest (Map keeps insertion order).
      while (this.#seen.size >= JTI_CACHE_MAX) this.#seen.delete(this.#seen.keys().next().value);
    }
    if ((this.#seen.get(key) ?? 0) >= now) return false;
    this.#seen.set(key, expiry);
    return true;
  }

  /**
   * Checks the DPoP header of one request. Returns `{ jkt, jti }` for a good proof, or
   * `{ error, description, nonce? }` (`nonce` is the DPoP-Nonce to send with use_dpop_nonce).
   */
  async verify(proofHeader, { method, htu, accessToken }) {
    // RFC 9449 §4.3 checks 1-2: exactly one header, one well-formed JWT (Node joins repeated
    // headers with ", ", which this pattern refuses).
    if (proofHeader === undefined) return fail('No DPoP proof: a request with Authorization: DPoP must carry a DPoP header with a proof JWT.');
    if (typeof proofHeader !== 'string' || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(proofHeader)) {
      return fail('The DPoP header must hold exactly one proof JWT (three base64url parts).');
    }
    let header;
    try {
      header = decodeProtectedHeader(proofHeader);
    } catch {
      return fail('The DPoP proof header is not valid JSON.');
    }
    // Checks 4-6: typ, an asymmetric algorithm from our list, a public jwk.
    if (header.typ !== 'dpop+jwt') return fail(`The proof's typ is ${shown(header.typ)}; it must be 'dpop+jwt'.`);
    if (!this.#algs.includes(header.alg)) return fail(`The proof's alg ${shown(header.alg)} is not accepted; use one of ${this.#algs.join(' ')}.`);
    if (!header.jwk || typeof header.jwk !== 'object') return fail('The proof has no jwk header: the public key it is signed with.');
    if (PRIVATE_MEMBERS.some((m) => m in header.jwk)) return fail('The proof\'s jwk contains private key material; only the public key may be sent.');
    // Check 7: the signature verifies with that very key.
    let payload;
    try {
      ({ payload } = await jwtVerify(proofHeader, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: this.#algs }));
    } catch (err) {
      return fail(`The proof's signature does not verify with the jwk in its header (${err.code ?? err.message}).`);
    }
    // Checks 8-12: claims.
    if (typeof payload.jti !== 'string' || !payload.jti) return fail('The proof has no jti.');
    if (payload.htm !== method) return fail(`The proof is for method ${shown(payload.htm)}, this request is ${method} (htm mismatch).`);
    if (normalisedHtu(payload.htu) !== normalisedHtu(htu)) {
      return fail(`The proof is for ${shown(payload.htu)}, this request is for ${htu} (htu mismatch).`);
    }
    const now = Math.floor(Date.now() / 1000);
    // The jti of a proof is remembered only for this window (check 11 below): after it, this
    // check is what refuses a replayed proof.
    if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > this.#iatWindow) {
      return fail(`The proof's iat is not within ${this.#iatWindow} s of the server's time: it is too old (or from the future). Its jti is no longer remembered, so iat is what refuses it.`);
    }
    const ath = createHash('sha256').update(accessToken).digest('base64url');
    if (payload.ath !== ath) {
      return fail('The proof\'s ath is not the hash of this access token: the proof was made for another token (ath mismatch).');
    }
    // RFC 9449 §9: with nonces on, a proof without the current nonce gets one to retry with.
    if (this.#nonceSecret && !this.#nonceIsValid(payload.nonce)) {
      return {
        error: 'use_dpop_nonce',
        description: payload.nonce === undefined ? 'This API requires a server nonce in the DPoP proof.' : 'The DPoP nonce is not valid (any more).',
        nonce: this.nonce(),
      };
    }
    const jkt = await calculateJwkThumbprint(header.jwk, 'sha256');
    // Check 11: a proof is good once. Remembered until it could no longer pass the iat check.
    if (!this.#firstUse(`${jkt}:${payload.jti}`, payload.iat + this.#iatWindow)) {
      return fail('This DPoP proof was already used (its jti was seen before): a captured proof cannot be replayed.');
    }
    return { jkt, jti: payload.jti };
  }
}
