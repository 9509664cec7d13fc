// Demo accounts. Passwords are demo values printed on the login page.
import { createHash, timingSafeEqual } from 'node:crypto';

const ACCOUNTS = new Map([
  ['alice', {
    sub: 'alice',
    password: 'wonderland',
    name: 'Alice Liddell',
    email: 'alice@example.test',
    files: [
      { name: 'tea-party-guest-list.txt', size: 1312 },
      { name: 'rabbit-hole-map.svg', size: 48210 },
      { name: 'looking-glass-notes.md', size: 5120 },
    ],
  }],
  ['bob', {
    sub: 'bob',
    password: 'builder',
    name: 'Bob Builder',
    email: 'bob@example.test',
    files: [
      { name: 'site-plan.pdf', size: 734003 },
      { name: 'materials-list.csv', size: 2048 },
      { name: 'scoop-maintenance-log.txt', size: 912 },
    ],
  }],
]);

export const DEMO_ACCOUNTS = [...ACCOUNTS.values()].map(({ sub, password, name }) => ({
  login: sub, password, name,
}));

function digest(value) {
  return createHash('sha256').update(String(value), 'utf8').digest();
}

/** Returns the account id when login/password match, otherwise undefined. */
export function checkPassword(login, password) {
  const account = ACCOUNTS.get(String(login ?? '').trim());
  // compare digests in constant time (and still hash when the user is unknown)
  const expected = digest(account ? account.password : '\u0000no-such-user');
  const ok = timingSafeEqual(expected, digest(password ?? ''));
  return account && ok ? account.sub : undefined;
}

export function getAccount(sub) {
  return ACCOUNTS.get(sub);
}

/** oidc-provider `findAccount` */
export async function findAccount(ctx, sub) {
  const account = ACCOUNTS.get(sub);
  if (!account) return undefined;
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        name: account.name,
        email: account.email,
        email_verified: true,
      };
    },
  };
}
