import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@vigil/common";
import { generateToken, parseVigilConfig, readEnvironment, sha256Hex } from "@vigil/config";
import { startAllInOne } from "@vigil/service-vigil";
import type { AllInOne } from "@vigil/service-vigil";
import type { TestClickHouse } from "./clickhouse-server";
import { encodeProtobufRequest, richRequest } from "./otlp-fixtures";

export interface Harness {
  vigil: AllInOne;
  ingestUrl: string;
  apiUrl: string;
  /** Agent id → its bearer token. */
  tokens: Record<string, string>;
  /** API keys by role. */
  apiKeys: { admin: string; reader: string };
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Starts the real all-in-one Vigil in this test process on loopback ports chosen by
 * the OS, with a fresh embedded store in a temporary directory, one token per agent and
 * an admin and a reader API key. `agentsYaml` replaces the generated `agents:` section
 * (its tokens are then the caller's); `extraYaml` is appended (receivers, routes).
 */
export async function startVigil(
  agents: readonly string[] = ["support-bot", "billing-bot"],
  options: {
    agentsYaml?: string;
    env?: Record<string, string>;
    extraYaml?: string;
    /** Store on this server, each service as its own user, instead of the embedded engine. */
    clickhouse?: TestClickHouse;
  } = {},
): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), "vigil-test-"));
  const tokens: Record<string, string> = {};
  for (const agent of agents) tokens[agent] = generateToken();
  const apiKeys = { admin: generateToken("vak_"), reader: generateToken("vak_") };
  const agentsYaml =
    options.agentsYaml ??
    `agents:\n${agents.map((a) => `  - id: ${a}\n    tokens:\n      - sha256: "${sha256Hex(tokens[a] as string)}"\n`).join("")}`;
  const yaml =
    agentsYaml +
    `api_keys:\n  - name: admin\n    role: admin\n    sha256: "${sha256Hex(apiKeys.admin)}"\n` +
    `  - name: reader\n    role: reader\n    sha256: "${sha256Hex(apiKeys.reader)}"\n` +
    (options.extraYaml ?? "");
  const env = readEnvironment({
    VIGIL_DATA_DIR: dataDir,
    VIGIL_INGEST_PORT: "0",
    VIGIL_API_PORT: "0",
    VIGIL_HOST: "127.0.0.1",
    ...options.clickhouse?.environment(),
    ...options.env,
  });
  const vigil = await startAllInOne(env, parseVigilConfig(yaml), createLogger("warn"));
  return {
    vigil,
    ingestUrl: `http://127.0.0.1:${vigil.ingestPort}/v1/traces`,
    apiUrl: `http://127.0.0.1:${vigil.apiPort}`,
    tokens,
    apiKeys,
    dataDir,
    stop: async () => {
      await vigil.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Imports an agent's history as an administrator (POST /v1/import/traces): what tests
 * send as days of past traffic to learn from. Sent with the agent's own token, the same
 * spans are backfill, which trains nothing.
 */
export async function importHistory(h: Harness, agent: string, body: string | Uint8Array): Promise<number> {
  const res = await fetch(importUrl(h, agent), {
    method: "POST",
    body,
    headers: {
      "content-type": typeof body === "string" ? "application/json" : "application/x-protobuf",
      authorization: `Bearer ${h.apiKeys.admin}`,
    },
  });
  await res.arrayBuffer();
  return res.status;
}

/** Ingest's history import endpoint for one agent. */
export function importUrl(h: Harness, agent: string): string {
  return `${h.ingestUrl.replace(/\/v1\/traces$/, "/v1/import/traces")}?agent=${encodeURIComponent(agent)}`;
}

/** Signs in to the console with an API key through its form; returns the cookie header to send back. */
export async function consoleCookie(h: Pick<Harness, "apiUrl">, key: string): Promise<string> {
  const login = await fetch(`${h.apiUrl}/login`, {
    method: "POST",
    body: new URLSearchParams({ key, next: "/alerts" }),
    headers: { origin: h.apiUrl },
    redirect: "manual",
  });
  return (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
}

/** GET or POST on the harness API with a key; returns status and parsed JSON. */
export async function apiCall(
  h: Harness,
  path: string,
  key: string | undefined,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${h.apiUrl}${path}`, {
    method: init.method ?? "GET",
    headers: {
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

/** Sends the fixture request of one rich span as `agent` over OTLP protobuf; returns the HTTP status. */
export async function sendRichSpan(h: Harness, agent: string): Promise<number> {
  const res = await fetch(h.ingestUrl, {
    method: "POST",
    body: Buffer.from(encodeProtobufRequest(richRequest())),
    headers: { "content-type": "application/x-protobuf", authorization: `Bearer ${h.tokens[agent]}` },
  });
  await res.arrayBuffer();
  return res.status;
}
