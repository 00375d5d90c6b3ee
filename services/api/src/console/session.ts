import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { DigestRegistry } from "@vigil/common";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { ApiCaller } from "../auth";

export type ConsoleEnv = { Variables: { caller: ApiCaller; csrf: string } };

const COOKIE = "vigil_key";

/**
 * Console sign-in: the API key is kept in an HttpOnly, SameSite=Strict cookie (never
 * readable by page scripts, never sent cross-site). Forms that change state carry a
 * CSRF token, an HMAC of the key under a per-process secret, checked in constant time;
 * Hono's csrf middleware also refuses cross-origin form posts.
 */
export class ConsoleSessions {
  private readonly secret = randomBytes(32);

  constructor(private readonly keys: DigestRegistry<ApiCaller>) {}

  signIn(c: Context, key: string): ApiCaller | undefined {
    const caller = this.keys.lookup(key);
    if (caller === undefined) return undefined;
    setCookie(c, COOKIE, key, {
      httpOnly: true,
      sameSite: "Strict",
      secure: new URL(c.req.url).protocol === "https:",
      path: "/",
      maxAge: 12 * 3600,
    });
    return caller;
  }

  signOut(c: Context): void {
    deleteCookie(c, COOKIE, { path: "/" });
  }

  private csrfFor(key: string): string {
    return createHmac("sha256", this.secret).update(key).digest("base64url");
  }

  /** Pages need a signed-in key; otherwise they go to the sign-in page. */
  readonly required: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
    const key = getCookie(c, COOKIE);
    const caller = key === undefined ? undefined : this.keys.lookup(key);
    if (key === undefined || caller === undefined) {
      const back = new URL(c.req.url);
      return c.redirect(`/login?next=${encodeURIComponent(back.pathname + back.search)}`, 303);
    }
    c.set("caller", caller);
    c.set("csrf", this.csrfFor(key));
    await next();
  };

  /** For POST forms: the CSRF token must match the signed-in key. */
  readonly csrfChecked: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
    const form = await c.req.parseBody();
    const sent = typeof form.csrf === "string" ? Buffer.from(form.csrf) : Buffer.alloc(0);
    const expected = Buffer.from(c.get("csrf"));
    if (sent.length !== expected.length || !timingSafeEqual(sent, expected))
      return c.text("The form's CSRF token is missing or wrong: reload the page and try again.", 403);
    await next();
  };
}
