import type { Context } from "hono";
import { RequestError } from "@vigil/common";
import { bodyProblems } from "@vigil/api-contract";
import type { z } from "zod";
import type { ApiEnv } from "./auth";

/** "15m", "1h", "7d" before now, or an ISO time; null when neither. */
export function parseSince(text: string, nowMs: number): number | null {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (m !== null)
    return nowMs - Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "s" | "m" | "h" | "d"];
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}

/** Opaque page cursors: base64url JSON of where the last page ended. */
export function encodeCursor(value: Record<string, string>): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}
export function decodeCursor(
  text: string | undefined,
  keys: readonly string[],
): Record<string, string> | null | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Record<string, unknown>;
    return keys.every((k) => typeof v[k] === "string") ? (v as Record<string, string>) : null;
  } catch {
    return null;
  }
}

export const bad = (_c: Context<ApiEnv>, message: string): never => {
  throw new RequestError(400, "bad_request", message);
};
export const ns = (ms: number): string => String(BigInt(Math.round(ms)) * 1_000_000n);

/** Time range and page size from ?since=&until=&limit=; a string is an error message. */
export function rangeOf(
  q: Record<string, string>,
  defaults: { since: string; limit: number; maxLimit: number },
): { fromMs: number; toMs: number; limit: number } | string {
  const now = Date.now();
  const fromMs = parseSince(q.since ?? defaults.since, now);
  if (fromMs === null) return "since must be an ISO time or a duration like 15m, 1h, 7d";
  const toMs = q.until === undefined ? now + 60_000 : parseSince(q.until, now);
  if (toMs === null) return "until must be an ISO time or a duration like 15m";
  const limit = q.limit === undefined ? defaults.limit : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > defaults.maxLimit) return `limit must be 1-${defaults.maxLimit}`;
  return { fromMs, toMs, limit };
}

const NO_JSON = Symbol("no JSON body");

/**
 * The request's JSON body, parsed with its schema from @vigil/api-contract (the one way a
 * route reads a body): a 400 naming each problem. A route whose fields are all optional
 * gives `empty` for a request without a body.
 */
export async function jsonBody<S extends z.ZodType>(
  c: Context<ApiEnv>,
  schema: S,
  options: { empty?: z.input<S> } = {},
): Promise<z.output<S>> {
  let raw: unknown = await c.req.json().catch(() => NO_JSON);
  if (raw === NO_JSON) {
    if (options.empty === undefined) throw new RequestError(400, "bad_request", "send a JSON body");
    raw = options.empty;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new RequestError(400, "bad_request", bodyProblems(parsed.error));
  return parsed.data;
}
