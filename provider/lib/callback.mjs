// Edits the authorization response carried by a redirect back to the app (the Location of a
// 3xx whose target is one of the app origins). oidc-provider puts the response in the query
// (response_type=code, and errors for it) or in the fragment (implicit/hybrid response types
// and their errors); the helper edits whichever of the two holds it. Used by the callback_iss
// fault (lib/faults.mjs) and by LAB_WEAK=no_iss (lib/weak.mjs).

/**
 * `edit(params)` changes a URLSearchParams in place. Returns true when the Location changed.
 * The redirect is re-issued with ctx.redirect so that Koa's "Redirecting to …" body matches.
 */
export function editCallbackLocation(ctx, appOrigins, edit) {
  if (ctx.status < 300 || ctx.status > 399) return false;
  const location = ctx.response.get('Location');
  if (!location) return false;
  let target;
  try {
    target = new URL(location);
  } catch {
    return false;
  }
  if (!appOrigins.includes(target.origin)) return false;
  const inFragment = target.hash.length > 1;
  const params = new URLSearchParams(inFragment ? target.hash.slice(1) : target.search);
  const before = params.toString();
  edit(params);
  const after = params.toString();
  if (after === before) return false;
  if (inFragment) target.hash = after;
  else target.search = after;
  ctx.redirect(target.href); // keeps the 303 (Koa only sets 302 when the status is not a redirect)
  return true;
}
