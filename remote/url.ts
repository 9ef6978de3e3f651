/** Remote URLs: which strings are URLs, and how they are shown with no credentials in them. */

/** `http://`, `https://` and `vpx://` names are remote; anything else is a host path. */
export function isRemoteName(name: string): boolean {
  return /^(https?|vpx):\/\//i.test(name);
}

/**
 * The URL as errors and logs show it: no password, no user, and no query values that can
 * carry secrets (vCenter's URLs carry only dcPath and dsName, which are kept).
 */
export function redact(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return '<unparsable URL>';
  }
  u.username = '';
  u.password = '';
  for (const key of [...u.searchParams.keys()]) {
    if (/pass|token|cookie|secret|session|auth/i.test(key)) u.searchParams.set(key, '***');
  }
  return u.toString();
}

/**
 * Split a user-given URL into the request URL (no credentials) and the user name. A password
 * in the URL is refused: it would show in `ps` and shell history.
 */
export function parseRemoteUrl(name: string): { url: URL; user: string | undefined } {
  let url: URL;
  try {
    url = new URL(name);
  } catch {
    throw new Error(`${redact(name)}: not a valid URL`);
  }
  if (url.password) {
    throw new Error(`${redact(url)}: a password in the URL would show in process listings; use --password-file FILE or GUESTKIT_PASSWORD`);
  }
  const user = url.username ? decodeURIComponent(url.username) : undefined;
  url.username = '';
  return { url, user };
}
