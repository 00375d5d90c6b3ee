import { randomBytes, timingSafeEqual } from "node:crypto";
import type { DigestRegistry } from "@vigil/common";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { ApiCaller } from "../auth";

export type ConsoleEnv = { Variables: { caller: ApiCaller; csrf: string } };

const COOKIE = "vigil_session";

/** A session lasts this long from sign-in, whatever happens (absolute expiry). */
const SESSION_MS = 12 * 3600_000;
/** And ends after this long without a request. */
const IDLE_MS = 3600_000;
/** Sessions held at once; past it the oldest is dropped (memory is bounded). */
const MAX_SESSIONS = 10_000;

interface Session {
  caller: ApiCaller;
  csrf: string;
  expiresAt: number;
  lastSeen: number;
}

/**
 * Console sign-in with server-side sessions: the cookie holds a random session id
 * (HttpOnly, SameSite=Strict, Secure on https), never the API key; the session ends at
 * sign-out (a POST), after an hour idle or twelve hours in all, and with the process.
 * Forms that change state carry the session's random CSRF token, checked in constant
 * time; Hono's csrf middleware also refuses cross-origin form posts.
 */
export class ConsoleSessions {
  /** Insertion order is sign-in order: the first entry is the oldest. */
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly keys: DigestRegistry<ApiCaller>,
    private readonly now: () => number = Date.now,
  ) {}

  signIn(c: Context, key: string): ApiCaller | undefined {
    const caller = this.keys.lookup(key);
    if (caller === undefined) return undefined;
    const now = this.now();
    this.prune(now);
    const id = randomBytes(32).toString("base64url");
    this.sessions.set(id, {
      caller,
      csrf: randomBytes(32).toString("base64url"),
      expiresAt: now + SESSION_MS,
      lastSeen: now,
    });
    setCookie(c, COOKIE, id, {
      httpOnly: true,
      sameSite: "Strict",
      secure: new URL(c.req.url).protocol === "https:",
      path: "/",
      maxAge: SESSION_MS / 1000,
    });
    return caller;
  }

  /** Ends the session of this request, here and in the browser. */
  signOut(c: Context): void {
    const id = getCookie(c, COOKIE);
    if (id !== undefined) this.sessions.delete(id);
    deleteCookie(c, COOKIE, { path: "/" });
  }

  /** Sessions currently held (for tests and metrics). */
  get size(): number {
    return this.sessions.size;
  }

  private current(c: Context): Session | undefined {
    const id = getCookie(c, COOKIE);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    const now = this.now();
    if (now >= session.expiresAt || now - session.lastSeen >= IDLE_MS) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  private prune(now: number): void {
    for (const [id, s] of this.sessions)
      if (now >= s.expiresAt || now - s.lastSeen >= IDLE_MS) this.sessions.delete(id);
    while (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
  }

  /** Pages need a signed-in session; otherwise they go to the sign-in page. */
  readonly required: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
    const session = this.current(c);
    if (session === undefined) {
      const back = new URL(c.req.url);
      return c.redirect(`/login?next=${encodeURIComponent(back.pathname + back.search)}`, 303);
    }
    c.set("caller", session.caller);
    c.set("csrf", session.csrf);
    await next();
  };

  /** For POST forms: the CSRF token must match the session's. */
  readonly csrfChecked: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
    const form = await c.req.parseBody();
    const sent = typeof form.csrf === "string" ? Buffer.from(form.csrf) : Buffer.alloc(0);
    const expected = Buffer.from(c.get("csrf"));
    if (sent.length !== expected.length || !timingSafeEqual(sent, expected))
      return c.text("The form's CSRF token is missing or wrong: reload the page and try again.", 403);
    await next();
  };
}
