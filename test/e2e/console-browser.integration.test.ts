import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import type { Browser } from "playwright-core";
import { jsonTraceRequest } from "../support/otlp-json";
import { apiCall, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

/**
 * The console in a real browser: Debian's Chromium driven by playwright-core. CI
 * installs it (`.ci/run`) and sets VIGIL_REQUIRE_BROWSER=1, so there a missing browser
 * fails; elsewhere the test is skipped with the reason printed.
 */
const CHROMIUM = process.env.VIGIL_CHROMIUM ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.VIGIL_REQUIRE_BROWSER === "1")
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium`);
  process.stderr.write(
    `console-browser: skipped, no Chromium at ${CHROMIUM} (apt-get install chromium, or set VIGIL_CHROMIUM)\n`,
  );
}
const ARTIFACTS = "test-artifacts/console";

let h: Harness;
let browser: Browser;
const TRACE = "7bf92f3577b34da6a3ce929d0e0e4739";

beforeAll(async () => {
  if (!available) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await startVigil(["support-bot"], { env: { VIGIL_DETECT_INTERVAL_SECONDS: "1" } });
  const t = BigInt(Date.now() - 30_000) * 1_000_000n;
  const res = await fetch(h.ingestUrl, {
    method: "POST",
    body: jsonTraceRequest(
      [
        {
          traceId: TRACE,
          spanId: "00000000000000d1",
          name: "invoke_agent support-bot",
          startNs: t,
          attrs: { "session.id": "cleanup-7" },
        },
        {
          traceId: TRACE,
          spanId: "00000000000000d2",
          parentSpanId: "00000000000000d1",
          name: "chat",
          startNs: t + 5_000_000n,
          attrs: {
            "session.id": "cleanup-7",
            "gen_ai.input.messages": "Please clean up the old records in the customers table",
          },
        },
        {
          traceId: TRACE,
          spanId: "00000000000000d3",
          parentSpanId: "00000000000000d1",
          name: "execute_tool run_sql",
          startNs: t + 9_000_000_000n,
          attrs: { "session.id": "cleanup-7", "gen_ai.tool.name": "run_sql", "db.query.text": "DROP TABLE customers" },
        },
      ],
      { "deployment.environment.name": "production" },
    ),
    headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["support-bot"]}` },
  });
  expect(res.status).toBe(200);
  await until("the alert", async () => {
    const { body } = await apiCall(h, "/api/alerts", h.apiKeys.reader);
    return (body as { alerts: unknown[] }).alerts.length > 0 ? true : undefined;
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

describe.skipIf(!available)("web console in Chromium", () => {
  it("signs in, opens the inbox, follows the alert to its session and finds the causing input beside the DROP", async () => {
    for (const scheme of ["light", "dark"] as const) {
      const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1200, height: 800 } });
      const page = await context.newPage();
      await page.goto(`${h.apiUrl}/alerts`);
      await expect.poll(() => page.url()).toContain("/login?next=%2Falerts");
      await page.getByLabel("API key").fill(h.apiKeys.admin);
      await page.keyboard.press("Enter"); // keyboard only
      await page.waitForURL(/\/alerts$/);
      await page.screenshot({ path: `${ARTIFACTS}/inbox-${scheme}.png`, fullPage: true });
      const alertLink = page.getByRole("link", { name: /ran DROP TABLE on customers without a human approval/ });
      await alertLink.click();
      await page.waitForURL(/\/alerts\/[0-9a-f]+$/);
      await expect.poll(() => page.locator("h1").innerText()).toMatch(/CRITICAL/i);
      await page.getByRole("link", { name: "Open session cleanup-7" }).click();
      await page.waitForURL(/\/sessions\/cleanup-7$/);
      const drop = page.locator('.step.destructive[data-span="00000000000000d3"]');
      await expect.poll(() => drop.count()).toBe(1);
      expect(await drop.locator('[data-role="cause"]').innerText()).toContain(
        "Please clean up the old records in the customers table",
      );
      expect(await drop.innerText()).toContain("destructive: DROP");
      await page.screenshot({ path: `${ARTIFACTS}/session-${scheme}.png`, fullPage: true });
      await page.getByRole("link", { name: "Agents" }).click();
      await page.waitForURL(/\/agents$/);
      expect(await page.locator("svg.chart").getAttribute("aria-label")).toMatch(
        /^support-bot calls per 5 minutes, last 24 h: 3 calls/,
      );
      await page.screenshot({ path: `${ARTIFACTS}/agents-${scheme}.png`, fullPage: true });
      await context.close();
    }
  });

  it("fits a phone screen, and acknowledges from the alert page", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 800 }, isMobile: true });
    const page = await context.newPage();
    await page.goto(`${h.apiUrl}/login`);
    await page.getByLabel("API key").fill(h.apiKeys.admin);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/alerts$/);
    const width = (await page.evaluate("document.documentElement.scrollWidth")) as number;
    expect(width).toBeLessThanOrEqual(390);
    await page.getByRole("link", { name: /ran DROP TABLE on customers/ }).click();
    await page.getByLabel("Note").fill("restored from backup");
    await page.getByRole("button", { name: "Acknowledge" }).click();
    await expect.poll(() => page.locator("main").innerText()).toContain("acknowledged by admin");
    await page.screenshot({ path: `${ARTIFACTS}/acknowledged-mobile.png`, fullPage: true });
    await context.close();
  });
});
