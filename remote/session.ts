/**
 * A vCenter-style session: the first request authenticates with basic auth and receives a
 * `vmware_soap_session` cookie; later requests send only the cookie, kept in a tough-cookie
 * jar. vCenter drops sessions idle for 30 minutes, so a session idle for `renewIdle` is
 * renewed with basic auth before it is used, and a 401 renews once. Nothing here is ever
 * written to a log or an error message.
 */
import type { CookieJar } from 'tough-cookie';

export interface SessionOptions {
  /** User for basic auth (from the URL); none means cookies only. */
  user?: string;
  /** Asked once, when basic auth is first needed. */
  password?: () => Promise<string | undefined>;
  /** A fixed Cookie header (qemu's `file.cookie`), sent as given. */
  cookie?: string;
  /**
   * Session cookies to start with (`name=value; …`, as a vCenter SOAP Login set them): sent
   * until the server refuses them, then renewed with basic auth like cookies it set itself.
   */
  startCookie?: string;
  /** Renew a session idle this long, in ms (default 25 minutes: vCenter drops them at 30). */
  renewIdle?: number;
}

export class Session {
  private passwordPromise: Promise<string | undefined> | undefined;
  private lastUse = 0;
  private forceAuth = false;
  private started = false;

  constructor(
    private readonly jar: CookieJar,
    private readonly opts: SessionOptions,
  ) {}

  get canAuthenticate(): boolean {
    return this.opts.user !== undefined;
  }

  /** Headers for a request to `url`: the session cookie, or basic auth when there is none yet. */
  async headers(url: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    if (!this.started) {
      this.started = true;
      for (const c of this.opts.startCookie?.split('; ') ?? []) await this.jar.setCookie(c, url, { ignoreError: true });
    }
    const idle = this.lastUse > 0 && Date.now() - this.lastUse > (this.opts.renewIdle ?? 25 * 60_000);
    const jarCookies = this.forceAuth || idle ? '' : await this.jar.getCookieString(url);
    const cookie = [this.opts.cookie, jarCookies].filter(Boolean).join('; ');
    if (cookie) out['cookie'] = cookie;
    if (this.opts.user !== undefined && (!jarCookies || idle)) {
      this.passwordPromise ??= this.opts.password?.() ?? Promise.resolve(undefined);
      const password = (await this.passwordPromise) ?? '';
      out['authorization'] = `Basic ${Buffer.from(`${this.opts.user}:${password}`).toString('base64')}`;
    }
    return out;
  }

  /** Keep the cookies a response set, and note the session was used now. */
  async update(url: string, setCookie: string | string[] | undefined): Promise<void> {
    this.lastUse = Date.now();
    for (const c of typeof setCookie === 'string' ? [setCookie] : (setCookie ?? [])) {
      await this.jar.setCookie(c, url, { ignoreError: true });
      this.forceAuth = false;
    }
  }

  /** The Cookie header the session sends now (for a qemu `file.cookie`). */
  async cookie(url: string): Promise<string> {
    return [this.opts.cookie, await this.jar.getCookieString(url)].filter(Boolean).join('; ');
  }

  /** After a 401: the next request authenticates again. */
  async renew(): Promise<void> {
    await this.jar.removeAllCookies();
    this.forceAuth = true;
  }
}
