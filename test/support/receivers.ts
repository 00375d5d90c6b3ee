import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { Webhook } from "standardwebhooks";

/**
 * Local stand-ins for Slack, PagerDuty and a customer's webhook endpoint. Each records
 * every request, checks it against the receiver's documented format (a request that
 * breaks it is recorded with its problems and answered 400, as the real service would),
 * and answers from a script (status, Retry-After, a delay, or never).
 */
export interface Received {
  atMs: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  problems: string[];
}

export type Reply = { status: number; retryAfter?: string; delayMs?: number } | "hang";

export class LocalReceiver {
  readonly received: Received[] = [];
  /** Replies for the next requests, in order; afterwards `fallback`. */
  script: Reply[] = [];
  fallback: Reply;
  private server: Server | undefined;
  private readonly hanging = new Set<() => void>();
  url = "";

  constructor(
    readonly kind: "slack" | "pagerduty" | "webhook",
    private readonly secret = "",
  ) {
    this.fallback = { status: kind === "pagerduty" ? 202 : 200 };
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        let body: Record<string, unknown> = {};
        const problems: string[] = [];
        try {
          body = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          problems.push("body is not JSON");
        }
        if (problems.length === 0) problems.push(...this.check(headers, raw, body));
        this.received.push({ atMs: Date.now(), headers, body, problems });
        const reply = problems.length > 0 ? { status: 400 } : (this.script.shift() ?? this.fallback);
        if (reply === "hang") {
          this.hanging.add(() => res.destroy());
          return;
        }
        setTimeout(() => {
          if (reply.retryAfter !== undefined) res.setHeader("retry-after", reply.retryAfter);
          res.setHeader("content-type", "application/json");
          res.statusCode = reply.status;
          res.end(
            this.kind === "pagerduty" && reply.status === 202
              ? JSON.stringify({ status: "success", message: "Event processed", dedup_key: body.dedup_key })
              : JSON.stringify({ ok: reply.status < 300, problems }),
          );
        }, reply.delayMs ?? 0);
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/${this.kind}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const release of this.hanging) release();
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  /** Requests that passed the format check. */
  valid(): Received[] {
    return this.received.filter((r) => r.problems.length === 0);
  }

  private check(headers: Record<string, string>, raw: string, body: Record<string, unknown>): string[] {
    if (headers["content-type"] !== "application/json") return ["content-type must be application/json"];
    if (this.kind === "slack") return checkSlack(body);
    if (this.kind === "pagerduty") return checkPagerDuty(body);
    return checkWebhook(headers, raw, this.secret);
  }
}

/** Slack incoming webhooks with Block Kit (api.slack.com/reference/block-kit/blocks). */
export function checkSlack(body: Record<string, unknown>): string[] {
  const p: string[] = [];
  if (typeof body.text !== "string" || body.text === "") p.push("text (the notification fallback) is required");
  const blocks = body.blocks as Array<Record<string, unknown>> | undefined;
  if (!Array.isArray(blocks)) return [...p, "blocks must be an array"];
  if (blocks.length > 50) p.push("at most 50 blocks");
  const textObject = (t: unknown, max: number, where: string, plainOnly = false): void => {
    const o = t as { type?: string; text?: string } | undefined;
    if (o === undefined || (o.type !== "plain_text" && o.type !== "mrkdwn")) p.push(`${where}: text object needs type`);
    else if (plainOnly && o.type !== "plain_text") p.push(`${where}: must be plain_text`);
    if (typeof o?.text !== "string" || o.text.length === 0 || o.text.length > max)
      p.push(`${where}: text 1-${max} chars`);
  };
  blocks.forEach((b, i) => {
    switch (b.type) {
      case "header":
        textObject(b.text, 150, `blocks[${i}].text`, true);
        break;
      case "section": {
        const fields = b.fields as unknown[] | undefined;
        if (b.text === undefined && fields === undefined) p.push(`blocks[${i}]: section needs text or fields`);
        if (b.text !== undefined) textObject(b.text, 3000, `blocks[${i}].text`);
        if (fields !== undefined) {
          if (fields.length > 10) p.push(`blocks[${i}]: at most 10 fields`);
          fields.forEach((f, j) => textObject(f, 2000, `blocks[${i}].fields[${j}]`));
        }
        break;
      }
      case "context": {
        const elements = b.elements as unknown[];
        if (!Array.isArray(elements) || elements.length === 0 || elements.length > 10)
          p.push(`blocks[${i}]: context has 1-10 elements`);
        else elements.forEach((e, j) => textObject(e, 3000, `blocks[${i}].elements[${j}]`));
        break;
      }
      case "divider":
        break;
      case "actions": {
        // Buttons: plain_text up to 75, action_id up to 255, value up to 2000, style primary or danger.
        const elements = b.elements as Array<Record<string, unknown>> | undefined;
        if (!Array.isArray(elements) || elements.length === 0 || elements.length > 25)
          p.push(`blocks[${i}]: actions has 1-25 elements`);
        else
          elements.forEach((e, j) => {
            if (e.type !== "button") p.push(`blocks[${i}].elements[${j}]: only buttons are expected`);
            textObject(e.text, 75, `blocks[${i}].elements[${j}].text`, true);
            if (typeof e.action_id !== "string" || e.action_id.length > 255)
              p.push(`blocks[${i}].elements[${j}]: action_id 1-255 chars`);
            if (typeof e.value !== "string" || e.value.length > 2000)
              p.push(`blocks[${i}].elements[${j}]: value up to 2000 chars`);
            if (e.style !== undefined && e.style !== "primary" && e.style !== "danger")
              p.push(`blocks[${i}].elements[${j}]: style is primary or danger`);
          });
        break;
      }
      default:
        p.push(`blocks[${i}]: unknown block type ${String(b.type)}`);
    }
  });
  return p;
}

/** PagerDuty Events API v2 (developer.pagerduty.com/docs/events-api-v2-overview). */
export function checkPagerDuty(body: Record<string, unknown>): string[] {
  const p: string[] = [];
  if (typeof body.routing_key !== "string" || body.routing_key.length !== 32) p.push("routing_key: 32 characters");
  const action = body.event_action;
  if (action !== "trigger" && action !== "acknowledge" && action !== "resolve")
    p.push("event_action: trigger, acknowledge or resolve");
  if (body.dedup_key !== undefined && (typeof body.dedup_key !== "string" || body.dedup_key.length > 255))
    p.push("dedup_key: string of at most 255 characters");
  if (action !== "trigger") {
    if (typeof body.dedup_key !== "string") p.push("dedup_key is required to acknowledge or resolve");
    return p;
  }
  const payload = body.payload as Record<string, unknown> | undefined;
  if (payload === undefined) return [...p, "payload is required for a trigger"];
  if (typeof payload.summary !== "string" || payload.summary === "" || payload.summary.length > 1024)
    p.push("payload.summary: 1-1024 characters");
  if (typeof payload.source !== "string" || payload.source === "") p.push("payload.source is required");
  if (!["critical", "error", "warning", "info"].includes(payload.severity as string))
    p.push("payload.severity: critical, error, warning or info");
  if (payload.timestamp !== undefined && Number.isNaN(Date.parse(payload.timestamp as string)))
    p.push("payload.timestamp: ISO 8601");
  if (payload.custom_details !== undefined && typeof payload.custom_details !== "object")
    p.push("payload.custom_details: an object");
  const links = body.links as Array<{ href?: unknown; text?: unknown }> | undefined;
  if (links !== undefined && (!Array.isArray(links) || links.some((l) => typeof l.href !== "string")))
    p.push("links: [{href, text}]");
  return p;
}

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats.default(ajv);
const schema = (name: string) =>
  ajv.compile(JSON.parse(readFileSync(new URL(`../../docs/${name}`, import.meta.url), "utf8")) as object);
const validateWebhook = schema("webhook-payload.schema.json");
const validateCheckpointWebhook = schema("checkpoint-webhook.schema.json");

/** The documented JSON Schema, and the signature checked by the standardwebhooks package. */
export function checkWebhook(headers: Record<string, string>, raw: string, secret: string): string[] {
  const p: string[] = [];
  try {
    new Webhook(secret).verify(raw, {
      "webhook-id": headers["webhook-id"] ?? "",
      "webhook-timestamp": headers["webhook-timestamp"] ?? "",
      "webhook-signature": headers["webhook-signature"] ?? "",
    });
  } catch (err) {
    p.push(`signature: ${(err as Error).message}`);
  }
  const body = JSON.parse(raw) as { type?: unknown };
  const validate = body.type === "ledger.checkpoint" ? validateCheckpointWebhook : validateWebhook;
  if (!validate(body)) p.push(...(validate.errors ?? []).map((e) => `schema: ${e.instancePath} ${e.message ?? ""}`));
  return p;
}
