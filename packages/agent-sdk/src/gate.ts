import { VigilSdkError } from "./options";

/** An action as the confirmation gate judges it: what the approved step will run, exactly. */
export type GatedAction =
  | { db: { system: string; statement: string; credentialId?: string } }
  | { tool: { name: string; arguments: unknown } }
  | { http: { method: string; url: string; credentialId?: string } };

export interface GateAnswer {
  decision_id: string;
  decision: "allow" | "deny" | "pending";
  status: "allowed" | "denied" | "approved" | "expired" | "pending";
  reasons: string[];
  rendering: string;
  expires_at: string;
  decided_by?: string;
  justification?: string;
  approval_token?: string;
}

/** Thrown when a human (or Vigil) denied the action, or no one decided in time. */
export class VigilApprovalDenied extends VigilSdkError {
  constructor(
    message: string,
    readonly answer: GateAnswer,
  ) {
    super(message);
    this.name = "VigilApprovalDenied";
  }
}

/** The agent's side of `POST /v1/decisions` and `GET /v1/decisions/{id}` on Vigil's ingest. */
export class GateClient {
  private readonly base: string;

  constructor(
    endpoint: string,
    private readonly token: string,
  ) {
    this.base = endpoint.replace(/\/+$/, "").replace(/\/v1\/traces$/, "");
  }

  /** Asks before acting; answers at once. */
  async ask(request: {
    description: string;
    sessionId: string;
    traceId?: string;
    action: GatedAction;
  }): Promise<GateAnswer> {
    const wire = (a: GatedAction) =>
      "db" in a
        ? {
            db: {
              system: a.db.system,
              statement: a.db.statement,
              ...(a.db.credentialId === undefined ? {} : { credential_id: a.db.credentialId }),
            },
          }
        : "http" in a
          ? {
              http: {
                method: a.http.method,
                url: a.http.url,
                ...(a.http.credentialId === undefined ? {} : { credential_id: a.http.credentialId }),
              },
            }
          : a;
    return this.call("POST", "/v1/decisions", {
      description: request.description,
      session_id: request.sessionId,
      ...(request.traceId === undefined ? {} : { trace_id: request.traceId }),
      action: wire(request.action),
    });
  }

  /**
   * Waits for a person's answer until it comes, the request expires, or `maxWaitMs`
   * passes (long polls of up to 25 s); returns the last answer (still pending if the wait ran out).
   */
  async wait(decisionId: string, maxWaitMs = Number.POSITIVE_INFINITY): Promise<GateAnswer> {
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      const waitS = Math.max(0, Math.min(25, Math.ceil((deadline - Date.now()) / 1000)));
      const answer = await this.call("GET", `/v1/decisions/${encodeURIComponent(decisionId)}?wait=${waitS}`);
      if (answer.status !== "pending" || Date.now() >= deadline) return answer;
    }
  }

  private async call(method: string, path: string, body?: unknown): Promise<GateAnswer> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(40_000),
    });
    const json = (await res.json().catch(() => ({}))) as GateAnswer & { message?: string };
    if (!res.ok) throw new VigilSdkError(`Vigil's gate answered ${res.status}: ${json.message ?? "no reason given"}`);
    return json;
  }
}
