import { ConfigError } from "@vigil/common";
import { resolveSecret } from "@vigil/config";
import type { EnvironmentVariables, ReceiverConfig, SecretRef } from "@vigil/config";

/** A receiver with its secrets read, ready to send to. */
export interface Receiver {
  name: string;
  type: "slack" | "pagerduty" | "webhook";
  url: string;
  /** PagerDuty routing key or webhook signing secret. */
  secret: string;
  ratePerSecond: number;
}

const DEFAULT_RATE = { slack: 1, pagerduty: 2, webhook: 10 };

/** Reads every receiver's secrets; a missing one stops start-up with its path named. */
export function resolveReceivers(configs: readonly ReceiverConfig[], env: EnvironmentVariables): Map<string, Receiver> {
  const problems: string[] = [];
  const out = new Map<string, Receiver>();
  const secret = (i: number, field: string, ref: SecretRef): string => {
    const value = resolveSecret(ref, env);
    if (value === undefined)
      problems.push(
        `receivers.${i}.${field}: ${"env" in ref ? `environment variable ${ref.env} is not set` : `file ${ref.file} is missing or empty`}`,
      );
    return value ?? "";
  };
  configs.forEach((r, i) => {
    let receiver: Omit<Receiver, "ratePerSecond">;
    if (r.slack !== undefined)
      receiver = { name: r.name, type: "slack", url: secret(i, "slack.webhook_url", r.slack.webhook_url), secret: "" };
    else if (r.pagerduty !== undefined)
      receiver = {
        name: r.name,
        type: "pagerduty",
        url: r.pagerduty.url,
        secret: secret(i, "pagerduty.routing_key", r.pagerduty.routing_key),
      };
    else {
      const hook = r.webhook as NonNullable<ReceiverConfig["webhook"]>;
      receiver = { name: r.name, type: "webhook", url: hook.url, secret: secret(i, "webhook.secret", hook.secret) };
    }
    if (receiver.type === "slack" && receiver.url !== "" && !/^https?:\/\//.test(receiver.url))
      problems.push(`receivers.${i}.slack.webhook_url: the secret is not an http(s) URL`);
    if (receiver.type === "webhook" && receiver.secret !== "") {
      const problem = webhookSecretProblem(receiver.secret);
      if (problem !== undefined) problems.push(`receivers.${i}.webhook.secret: ${problem}`);
    }
    out.set(r.name, { ...receiver, ratePerSecond: r.rate_per_second ?? DEFAULT_RATE[receiver.type] });
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

/**
 * Standard Webhooks secrets are `whsec_` and base64 of the key. A secret that is not,
 * or whose key is short, used to give an empty or weak HMAC key that anyone could
 * forge signatures with; it now stops start-up instead.
 */
export function webhookSecretProblem(secret: string): string | undefined {
  const body = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : undefined;
  if (body === undefined) return 'must start with "whsec_" (Standard Webhooks), then base64 of the key';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) return "the part after whsec_ is not base64";
  const bytes = Buffer.from(body, "base64").length;
  if (bytes < 24) return `the key is ${bytes} bytes; use at least 24 (openssl rand -base64 32)`;
  return undefined;
}
