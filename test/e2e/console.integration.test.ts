import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonTraceRequest } from "../support/otlp-json";
import { apiCall, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

let h: Harness;
let alertId = "";
const TRACE = "6bf92f3577b34da6a3ce929d0e0e4738";

beforeAll(async () => {
  h = await startVigil(["support-bot", "other-bot"], { env: { VIGIL_DETECT_INTERVAL_SECONDS: "1" } });
  const t = BigInt(Date.now() - 5_000) * 1_000_000n;
  const res = await fetch(h.ingestUrl, {
    method: "POST",
    body: jsonTraceRequest([
      {
        traceId: TRACE,
        spanId: "00000000000000c1",
        name: "chat",
        startNs: t,
        attrs: { "session.id": "xss-1", "gen_ai.input.messages": "<script>alert(1)</script> drop it" },
      },
      {
        traceId: TRACE,
        spanId: "00000000000000c2",
        name: "run_sql",
        startNs: t + 1_000_000n,
        attrs: { "session.id": "xss-1", "db.query.text": "DROP TABLE customers" },
      },
    ]),
    headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["support-bot"]}` },
  });
  expect(res.status).toBe(200);
  alertId = await until("the alert", async () => {
    const { body } = await apiCall(h, "/api/alerts", h.apiKeys.reader);
    return (body as { alerts: Array<{ alertId: string }> }).alerts[0]?.alertId;
  });
});
afterAll(async () => {
  await h.stop();
});

/** Signs in through the form; returns the cookie header to send back. */
async function signIn(key: string): Promise<string> {
  const res = await fetch(`${h.apiUrl}/login`, {
    method: "POST",
    body: new URLSearchParams({ key, next: "/alerts" }),
    headers: { origin: h.apiUrl },
    redirect: "manual",
  });
  expect(res.status).toBe(303);
  expect(res.headers.get("location")).toBe("/alerts");
  const cookie = res.headers.get("set-cookie") ?? "";
  expect(cookie).toMatch(/^vigil_session=[\w-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
  // The cookie names a server-side session: the key itself never leaves the form post.
  expect(cookie).not.toContain(key);
  return cookie.split(";")[0] as string;
}

const get = (path: string, cookie?: string) =>
  fetch(`${h.apiUrl}${path}`, { headers: cookie === undefined ? {} : { cookie }, redirect: "manual" });

describe("web console over HTTP", () => {
  it("sends visitors without a key to sign in, refuses unknown keys, and leaves /api and /healthz alone", async () => {
    const res = await get("/sessions/xss-1");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/login?next=%2Fsessions%2Fxss-1");
    const bad = await fetch(`${h.apiUrl}/login`, {
      method: "POST",
      body: new URLSearchParams({ key: "vak_wrong", next: "/alerts" }),
      headers: { origin: h.apiUrl },
      redirect: "manual",
    });
    expect(bad.headers.get("location")).toBe("/login?failed=1&next=%2Falerts");
    expect(bad.headers.get("set-cookie")).toBeNull();
    expect((await get("/healthz")).status).toBe(200);
    expect((await get("/api/alerts")).status).toBe(401);
  });

  it("renders the pages for a signed-in reader, escaping what agents sent", async () => {
    const cookie = await signIn(h.apiKeys.reader);
    for (const path of [
      "/alerts",
      `/alerts/${alertId}`,
      "/agents",
      "/agents/support-bot",
      "/agents/support-bot/activity?since=1h",
      "/sessions",
      "/sessions/xss-1",
      "/integrity",
    ]) {
      const res = await get(path, cookie);
      expect(res.status, path).toBe(200);
      const page = await res.text();
      expect(page, path).not.toContain("<script>");
    }
    const session = await (await get("/sessions/xss-1", cookie)).text();
    expect(session).toContain("&lt;script&gt;alert(1)&lt;/script&gt; drop it");
    expect(session).toContain("destructive: DROP");
    expect(await (await get("/integrity", cookie)).text()).toContain("intact");
    // A reader sees no acknowledge form.
    expect(await (await get(`/alerts/${alertId}`, cookie)).text()).toContain("An admin key can acknowledge it.");
  });

  it("acknowledges only with an admin key, the form's CSRF token and the same origin", async () => {
    const admin = await signIn(h.apiKeys.admin);
    const page = await (await get(`/alerts/${alertId}`, admin)).text();
    const token = /name="csrf" value="([^"]+)"/.exec(page)?.[1] as string;
    expect(token).toBeTruthy();
    const post = (cookie: string, body: Record<string, string>, origin = h.apiUrl) =>
      fetch(`${h.apiUrl}/alerts/${alertId}/ack`, {
        method: "POST",
        body: new URLSearchParams(body),
        headers: { cookie, origin },
        redirect: "manual",
      });
    expect((await post(admin, { note: "x" })).status).toBe(403); // no token
    expect((await post(admin, { note: "x", csrf: "forged" })).status).toBe(403);
    expect((await post(admin, { note: "x", csrf: token }, "http://evil.example")).status).toBe(403);
    const reader = await signIn(h.apiKeys.reader);
    const readerToken = /name="csrf" value="([^"]+)"/.exec(await (await get("/alerts", reader)).text());
    expect(readerToken).toBeNull(); // no form for readers
    const ok = await post(admin, { note: "table restored", csrf: token });
    expect(ok.status).toBe(303);
    expect((await apiCall(h, `/api/alerts/${alertId}`, h.apiKeys.reader)).body).toMatchObject({
      acknowledged: { author: "admin", note: "table restored" },
    });
  });

  it("signs out with a POST that ends the session on the server: the old cookie no longer works, a GET alone does nothing", async () => {
    const cookie = await signIn(h.apiKeys.reader);
    const confirm = await get("/logout", cookie);
    expect(confirm.status).toBe(200);
    expect((await get("/alerts", cookie)).status).toBe(200); // a GET (a prefetch, an <img>) signs nobody out
    const token = /name="csrf" value="([^"]+)"/.exec(await confirm.text())?.[1] as string;
    const out = (csrfToken: string, origin = h.apiUrl) =>
      fetch(`${h.apiUrl}/logout`, {
        method: "POST",
        body: new URLSearchParams({ csrf: csrfToken }),
        headers: { cookie, origin },
        redirect: "manual",
      });
    expect((await out(token, "http://evil.example")).status).toBe(403);
    expect((await out("forged")).status).toBe(403);
    expect((await get("/alerts", cookie)).status).toBe(200);
    const done = await out(token);
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("/login");
    // Replaying the copied cookie after sign-out leads to the sign-in page.
    const replay = await get("/alerts", cookie);
    expect(replay.status).toBe(303);
    expect(replay.headers.get("location")).toMatch(/^\/login/);
  });

  it.each([
    "//evil.example/x",
    "/\\evil.example",
    "/\\/evil.example",
    "https://evil.example",
    "/%0d%0a//evil",
    "javascript:alert(1)",
    "/\t/evil.example",
  ])("after sign-in goes only to a path on this site, never to %s", async (next) => {
    const res = await fetch(`${h.apiUrl}/login`, {
      method: "POST",
      body: new URLSearchParams({ key: h.apiKeys.reader, next }),
      headers: { origin: h.apiUrl },
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    const location = res.headers.get("location") ?? "";
    expect(new URL(location, h.apiUrl).origin).toBe(new URL(h.apiUrl).origin);
    expect(location).toMatch(/^\/[^/\\]/);
  });

  it("keeps an honest next path, query included", async () => {
    const res = await fetch(`${h.apiUrl}/login`, {
      method: "POST",
      body: new URLSearchParams({ key: h.apiKeys.reader, next: "/sessions?agent=support-bot" }),
      headers: { origin: h.apiUrl },
      redirect: "manual",
    });
    expect(res.headers.get("location")).toBe("/sessions?agent=support-bot");
  });

  it("sends security headers on pages and API answers: no script, no framing, no sniffing, no referrer, no caching", async () => {
    for (const res of [
      await get("/login"),
      await fetch(`${h.apiUrl}/api/alerts`, { headers: { authorization: `Bearer ${h.apiKeys.reader}` } }),
    ]) {
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("script-src");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
  });

  it("marks a session that another agent wrote into, naming each step's agent, and leaves a one-agent session plain", async () => {
    const post = async (agent: string, attrs: Record<string, string>, traceId: string) => {
      const res = await fetch(h.ingestUrl, {
        method: "POST",
        body: jsonTraceRequest([{ traceId, attrs: { "session.id": "shared-1", ...attrs } }]),
        headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens[agent]}` },
      });
      expect(res.status).toBe(200);
    };
    await post(
      "support-bot",
      { "db.system.name": "postgresql", "db.query.text": "DROP TABLE invoices" },
      "5a12ed01".padEnd(32, "0"),
    );
    // Another agent drops an "approval" into the same session id.
    await post(
      "other-bot",
      { "vigil.approval.id": "appr-x", "vigil.approval.status": "approved" },
      "5a12ed02".padEnd(32, "0"),
    );
    const cookie = await signIn(h.apiKeys.reader);
    const html = await (await get("/sessions/shared-1", cookie)).text();
    expect(html).toContain('data-role="shared-session"');
    expect(html).toContain('<span class="tag" data-role="agent">other-bot</span>');
    expect(html).toContain('<span class="tag" data-role="agent">support-bot</span>');
    const single = await (await get("/sessions/xss-1", cookie)).text();
    expect(single).not.toContain('data-role="shared-session"');
  });
});
