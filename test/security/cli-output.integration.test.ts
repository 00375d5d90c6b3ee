import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../services/cli/src/program";
import { jsonTraceRequest } from "../support/otlp-json";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

/**
 * An agent names its tool with terminal escape sequences; an investigator runs the CLI.
 * The sequences must arrive as visible text, never as bytes the terminal obeys.
 */
let h: Harness;

beforeAll(async () => {
  h = await startVigil(["escape-bot"]);
});

afterAll(async () => {
  await h?.stop();
});

const HOSTILE_TOOL = "lookup\u001b]0;pwned\u0007\u001b[2J\u001b[1A\r\u009b31m\u202eevil";

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await runCli(["--api", h.apiUrl, "--key", h.apiKeys.reader, ...args], {
    env: {},
    print: (s) => (out += `${s}\n`),
    printError: (s) => (out += `${s}\n`),
  });
  return { code, out };
}

describe("the CLI prints what agents sent without letting it drive the terminal", () => {
  it("shows escape sequences as text, in tables and in JSON, and the honest name still reads", async () => {
    const res = await fetch(h.ingestUrl, {
      method: "POST",
      body: jsonTraceRequest([
        { traceId: "e5c0".padEnd(32, "0"), attrs: { "gen_ai.tool.name": HOSTILE_TOOL, "session.id": "esc-1" } },
        { traceId: "e5c1".padEnd(32, "0"), attrs: { "gen_ai.tool.name": "search_tickets", "session.id": "esc-1" } },
      ]),
      headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["escape-bot"]}` },
    });
    expect(res.status).toBe(200);
    for (const args of [
      ["activity", "escape-bot"],
      ["activity", "escape-bot", "--json"],
    ]) {
      const { code, out } = await cli(args);
      expect(code, out).toBe(0);
      expect(out).toContain("search_tickets");
      expect(out).toContain("lookup\\u001b]0;pwned\\u0007");
      expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    }
    // --json stays JSON, with the same value for the tool name.
    const { out } = await cli(["activity", "escape-bot", "--json"]);
    expect(out).toContain("search_tickets");
    expect(JSON.stringify(JSON.parse(out))).toContain("lookup");
  });
});
