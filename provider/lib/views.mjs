// Server-rendered HTML for the provider's own pages. Inline CSS only, no
// scripts, no external resources. Everything echoed is HTML-escaped.

export const PAGE_TITLE = 'OAuth Flow Lab — demo provider';

export const SCOPE_DESCRIPTIONS = {
  openid: 'Sign you in and tell the app who you are (OpenID Connect)',
  profile: 'See your name',
  email: 'See your email address',
  offline_access: 'Stay signed in (refresh token)',
  'read:profile': 'Read your profile',
  'read:files': 'List your files',
};

export function esc(value) {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;',
  })[c]);
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;background:#eef1f5;color:#1d2430}
header{background:#243b53;color:#fff;padding:.75rem 1.25rem;font-weight:600;letter-spacing:.02em}
header small{font-weight:400;opacity:.8;margin-left:.5rem}
main{max-width:30rem;margin:2rem auto;padding:1.5rem 1.75rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.35rem;margin:0 0 .75rem}
p{margin:.5rem 0}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input[type=text],input[type=password]{width:100%;padding:.55rem .6rem;font:inherit;border:1px solid #9aa5b1;border-radius:4px}
input:focus,button:focus{outline:3px solid #7cb4ff;outline-offset:1px}
.actions{display:flex;gap:.75rem;margin-top:1.25rem}
button{font:inherit;font-weight:600;padding:.55rem 1.1rem;border-radius:4px;border:1px solid #1f5fbf;background:#1f6fdf;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#243b53;border-color:#9aa5b1}
.error{background:#fde8e8;border:1px solid #e0a3a3;color:#8a1c1c;padding:.6rem .75rem;border-radius:4px;margin:.75rem 0}
.hint{background:#f3f7e9;border:1px solid #c5d6a0;padding:.6rem .75rem;border-radius:4px;margin-top:1.25rem;font-size:.92rem}
.hint table{border-collapse:collapse}.hint td{padding:.1rem .75rem .1rem 0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eef1f5;padding:0 .25rem;border-radius:3px;overflow-wrap:anywhere}
ul.scopes{padding-left:0;list-style:none}
ul.scopes li{padding:.45rem .6rem;border:1px solid #d9e2ec;border-radius:4px;margin:.35rem 0}
ul.scopes li .desc{display:block;color:#3e4c59}
.client{color:#243b53}
.muted{color:#52606d;font-size:.9rem}
`;

export function page(heading, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${esc(PAGE_TITLE)}</title>
<style>${CSS}</style>
</head>
<body>
<header>OAuth Flow Lab <small>demo provider — local, for learning only</small></header>
<main>
<h1>${esc(heading)}</h1>
${body}
</main>
</body>
</html>`;
}

function clientLabel(client) {
  const name = client?.clientName || client?.clientId || 'An application';
  const id = client?.clientId;
  return `<strong class="client" id="client-name">${esc(name)}</strong>${id ? ` <span class="muted">(client_id <code id="client-id">${esc(id)}</code>)</span>` : ''}`;
}

export function loginPage({ client, action, cancelAction, login = '', error, accounts }) {
  const rows = accounts.map((a) => `<tr><td><code>${esc(a.login)}</code></td><td><code>${esc(a.password)}</code></td><td>${esc(a.name)}</td></tr>`).join('');
  return page('Sign in', `
<p>${clientLabel(client)} asks you to sign in.</p>
${error ? `<div class="error" id="login-error" role="alert">${esc(error)}</div>` : ''}
<form method="post" action="${esc(action)}">
  <label for="login">User name</label>
  <input type="text" id="login" name="login" value="${esc(login)}" required autofocus autocomplete="username" autocapitalize="none" spellcheck="false">
  <label for="password">Password</label>
  <input type="password" id="password" name="password" required autocomplete="current-password">
  <div class="actions">
    <button type="submit" id="sign-in">Sign in</button>
    <button type="submit" class="secondary" id="cancel" formaction="${esc(cancelAction)}" formnovalidate>Cancel</button>
  </div>
</form>
<div class="hint" id="demo-accounts">
  <p><strong>Demo accounts</strong> (this provider is a local demo; these are not secrets):</p>
  <table>${rows}</table>
</div>
<p class="muted">The app never sees what you type here: only this provider checks your password.</p>`);
}

export function consentPage({ client, action, scopes, accountName }) {
  const items = scopes.map((s) => `<li data-scope="${esc(s)}"><code>${esc(s)}</code><span class="desc">${esc(SCOPE_DESCRIPTIONS[s] ?? 'Custom permission')}</span></li>`).join('');
  return page('Allow access?', `
<p>${clientLabel(client)} wants to:</p>
<ul class="scopes" id="scopes">${items || '<li>(no scopes requested)</li>'}</ul>
${accountName ? `<p class="muted">Signed in as <strong id="account-name">${esc(accountName)}</strong>.</p>` : ''}
<form method="post" action="${esc(action)}">
  <div class="actions">
    <button type="submit" id="allow" name="decision" value="allow">Allow</button>
    <button type="submit" class="secondary" id="deny" name="decision" value="deny">Deny</button>
  </div>
</form>
<p class="muted">Allow sends you back to the app with a one-time authorization code; Deny sends it <code>error=access_denied</code>.</p>`);
}

export function errorPage(heading, details) {
  const rows = Object.entries(details)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `<p><strong>${esc(k)}</strong>: <span id="${esc(`error-${k}`)}">${esc(v)}</span></p>`).join('');
  return page(heading, `<div class="error" id="provider-error" role="alert">${rows}</div>
<p class="muted">Go back to the app and start the flow again.</p>`);
}

export function logoutPage({ form, clientName }) {
  return page('Sign out?', `
<p>${clientName ? `${esc(clientName)} asks to sign you out of the demo provider.` : 'Sign out of the demo provider?'}</p>
${form}
<div class="actions">
  <button type="submit" form="op.logoutForm" value="yes" name="logout" id="logout-yes" autofocus>Yes, sign me out</button>
  <button type="submit" form="op.logoutForm" class="secondary" id="logout-no">No, stay signed in</button>
</div>`);
}

export function logoutSuccessPage({ clientName }) {
  return page('Signed out', `<p id="logout-done">You are signed out of the demo provider${clientName ? ` (asked by ${esc(clientName)})` : ''}.</p>`);
}
