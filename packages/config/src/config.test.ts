import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@vigil/common";
import { resolveSecret } from "./alerting";
import { readEnvironment } from "./environment";
import { loadVigilConfig, parseVigilConfig } from "./load";

const HASH = "a".repeat(64);

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe("config file", () => {
  it("accepts agents with several tokens, expiry, environment binding, claims and hosts", () => {
    const config = parseVigilConfig(`
agents:
  - id: support-bot
    claims: [support-bot-api]
    hosts: [support.agents.internal]
    tokens:
      - sha256: "${HASH}"
        name: old
        expires: "2026-12-31T00:00:00Z"
      - sha256: "${"b".repeat(64)}"
        environment: staging
api_keys:
  - name: soc
    role: reader
    sha256: "${"c".repeat(64)}"
`);
    expect(config.agents[0]?.tokens).toHaveLength(2);
    expect(config.api_keys[0]?.role).toBe("reader");
  });

  it("lists every problem with its path in the file", () => {
    const problems = problemsOf(() =>
      parseVigilConfig(
        `
agents:
  - id: Support Bot
    tokens:
      - sha256: "not-a-hash"
        expires: "tomorrow"
  - id: billing
    tokens: []
  - id: billing
    tokne:
      - sha256: "${HASH}"
api_keys:
  - name: x
    role: superuser
    sha256: "${HASH}"
`,
        "vigil.yaml",
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^vigil\.yaml: agents\.0\.id: must be 1-63 characters/),
        expect.stringMatching(/^vigil\.yaml: agents\.0\.tokens\.0\.sha256: must be the lowercase hex SHA-256/),
        expect.stringMatching(/^vigil\.yaml: agents\.0\.tokens\.0\.expires: must be an ISO 8601 date-time/),
        expect.stringMatching(/^vigil\.yaml: agents\.1\.tokens: an agent needs at least one token/),
        expect.stringMatching(/^vigil\.yaml: agents\.2: Unrecognized key: "tokne"/),
        expect.stringMatching(/^vigil\.yaml: api_keys\.0\.role: /),
      ]),
    );
    expect(problems.length).toBeGreaterThanOrEqual(6);
  });

  it("refuses the same token for two agents, and duplicate agent ids", () => {
    const problems = problemsOf(() =>
      parseVigilConfig(`
agents:
  - id: a
    tokens: [{ sha256: "${HASH}" }]
  - id: a
    tokens: [{ sha256: "${HASH}" }]
`),
    );
    expect(problems.join("\n")).toMatch(/duplicate agent id "a"/);
    expect(problems.join("\n")).toMatch(/same token is already declared for agent "a"/);
  });

  it("reports YAML syntax errors and an unreadable file", () => {
    expect(problemsOf(() => parseVigilConfig("agents: [\n", "x.yaml"))[0]).toMatch(/^x\.yaml: YAML/);
    expect(problemsOf(() => loadVigilConfig("/nonexistent/vigil.yaml"))[0]).toMatch(
      /cannot read the config file \(ENOENT\)/,
    );
  });
});

describe("environment", () => {
  it("lists every invalid variable at once", () => {
    const problems = problemsOf(() =>
      readEnvironment({
        VIGIL_INGEST_PORT: "x",
        VIGIL_API_PORT: "99999",
        VIGIL_LOG_LEVEL: "loud",
        CLICKHOUSE_URL: "tcp://x",
      }),
    );
    expect(problems).toHaveLength(4);
  });

  it("reads the host name and keeps the variables secret references resolve against, as they were at start", () => {
    const variables: NodeJS.ProcessEnv = { HOSTNAME: "ingest-3", SLACK_SECRET: "s1" };
    const env = readEnvironment(variables);
    expect(env.hostName).toBe("ingest-3");
    expect(readEnvironment({}).hostName).not.toBe("");
    variables.SLACK_SECRET = "changed later";
    expect(resolveSecret({ env: "SLACK_SECRET" }, env.variables)).toBe("s1");
    expect(resolveSecret(undefined, env.variables)).toBeUndefined();
    expect(Object.isFrozen(env.variables)).toBe(true);
  });

  it("reads the ingest backpressure bounds, refusing anything but a positive whole number", () => {
    expect(readEnvironment({ VIGIL_MAX_PENDING_ROWS: "5000", VIGIL_MAX_PENDING_MIB: "64" })).toMatchObject({
      maxPendingRows: 5000,
      maxPendingBytes: 64 * 1024 * 1024,
    });
    expect(readEnvironment({})).toMatchObject({ maxPendingRows: 400_000, maxPendingBytes: 512 * 1024 * 1024 });
    expect(problemsOf(() => readEnvironment({ VIGIL_MAX_PENDING_ROWS: "1.5", VIGIL_MAX_PENDING_MIB: "0" }))).toEqual([
      'VIGIL_MAX_PENDING_ROWS: "1.5" is not a positive whole number',
      'VIGIL_MAX_PENDING_MIB: "0" is not a positive whole number',
    ]);
  });

  it("gives each service its own ClickHouse user, read from a file when asked, falling back to the shared one", () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-env-"));
    writeFileSync(join(dir, "api"), "api-secret\n");
    const env = readEnvironment({
      CLICKHOUSE_URL: "http://ch:8123",
      CLICKHOUSE_USER: "shared",
      CLICKHOUSE_PASSWORD: "shared-secret",
      CLICKHOUSE_API_USER: "vigil_api",
      CLICKHOUSE_API_PASSWORD_FILE: join(dir, "api"),
    });
    expect(env.clickhouseCredentials.api).toEqual({ username: "vigil_api", password: "api-secret" });
    expect(env.clickhouseCredentials.ingest).toEqual({ username: "shared", password: "shared-secret" });
    expect(problemsOf(() => readEnvironment({ CLICKHOUSE_PASSWORD: "a", CLICKHOUSE_PASSWORD_FILE: "/x" }))[0]).toMatch(
      /set one, not both/,
    );
  });
});

describe("alert routing config", () => {
  const base = (rest: string) => `receivers:\n  - name: slack\n    slack: {webhook_url: {env: SLACK_URL}}\n${rest}`;

  it("reads receivers, a routing tree and inhibition rules, with Alertmanager's shapes", () => {
    const config = parseVigilConfig(
      base(
        `route:\n  receiver: slack\n  group_by: [agent]\n  group_wait: 30s\n  routes:\n    - {match: {severity: [critical]}, receiver: slack, continue: true}\n` +
          `inhibit_rules:\n  - {source: {severity: [critical]}, target: {kind: [learned]}}\n`,
      ),
    );
    expect(config.route?.routes?.[0]).toMatchObject({ receiver: "slack", continue: true });
    expect(config.inhibit_rules[0]).toMatchObject({ equal: ["agent"], window: "1h" });
  });

  it("refuses inline secrets, unknown receivers, bad durations and two kinds in one receiver, naming each path", () => {
    const problems = problemsOf(() =>
      parseVigilConfig(
        `receivers:\n  - name: slack\n    slack: {webhook_url: "https://hooks.slack.com/services/T/B/x"}\n` +
          `  - name: both\n    slack: {webhook_url: {env: A}}\n    webhook: {url: "https://x.test", secret: {env: B}}\n` +
          `route:\n  receiver: slack\n  group_wait: soon\n`,
      ),
    );
    expect(problems.join("\n")).toMatch(/receivers\.0\.slack\.webhook_url: must be \{env: NAME\} or \{file: \/path\}/);
    expect(problems.join("\n")).toMatch(/receivers\.1: a receiver is exactly one of slack, pagerduty or webhook/);
    expect(problems.join("\n")).toMatch(/route\.group_wait: must be a duration/);
  });

  it("refuses a route to a receiver that is not declared", () => {
    expect(problemsOf(() => parseVigilConfig(base("route:\n  receiver: nobody\n"))).join("\n")).toMatch(
      /route\.receiver: unknown receiver "nobody" \(declared: slack\)/,
    );
  });
});
