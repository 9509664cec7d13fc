// In-memory storage adapter for oidc-provider.
//
// The bundled provider is a local demo: all state (sessions, interactions,
// codes, tokens, grants) lives in this process and is lost on restart. This
// adapter exists so that the provider does not print the "development-only
// in-memory adapter" warning on every start, and so that nothing is evicted
// by an LRU cap during a long end-to-end test run. Expired entries are swept
// lazily and by a timer.

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/** key -> { value, expiresAt (ms epoch or Infinity) } */
const store = new Map();

function put(key, value, expiresIn) {
  const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
  store.set(key, { value, expiresAt });
}

function get(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.value;
}

const sweeper = setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of store) {
    if (entry.expiresAt <= now) store.delete(key);
  }
}, 60_000);
sweeper.unref();

export class LabMemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    if (this.model === 'Session') {
      put(`sessionUid:${payload.uid}`, id, expiresIn);
    }
    if (GRANTABLE.has(this.model) && payload.grantId) {
      const grantKey = `grant:${payload.grantId}`;
      const members = get(grantKey) ?? new Set();
      members.add(key);
      // keep the index at least as long as the longest-lived member
      const previous = store.get(grantKey);
      const wanted = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
      store.set(grantKey, { value: members, expiresAt: Math.max(previous?.expiresAt ?? 0, wanted) });
    }
    if (payload.userCode) {
      put(`userCode:${payload.userCode}`, id, expiresIn);
    }
    put(key, payload, expiresIn);
  }

  async find(id) {
    return get(this.key(id));
  }

  async findByUid(uid) {
    const id = get(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = get(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const grantKey = `grant:${grantId}`;
    const members = get(grantKey);
    if (members) {
      for (const key of members) store.delete(key);
    }
    store.delete(grantKey);
  }
}

/** Drop everything (used on shutdown; handy for tests). */
export function clearStore() {
  store.clear();
}
