import {
  ATTR_VIGIL_APPROVAL_APPROVER,
  ATTR_VIGIL_APPROVAL_ID,
  ATTR_VIGIL_APPROVAL_REASON,
  ATTR_VIGIL_APPROVAL_STATUS,
  ATTR_VIGIL_APPROVAL_TOKEN,
  ATTR_VIGIL_CALLER_AGENT,
  ATTR_VIGIL_CREDENTIAL_ID,
  ATTR_VIGIL_PEER_AGENT,
} from "@vigil/common/attributes";
import { SpanKind, SpanStatusCode, context, propagation } from "@opentelemetry/api";
import type { Attributes, Context, Span, Tracer } from "@opentelemetry/api";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { looksLikeSecret } from "@vigil/secrets";
import { APPROVAL_TOKEN_KEY, CREDENTIAL_KEY, SESSION_KEY } from "./context-keys";
import { VigilApprovalDenied } from "./gate";
import type { GateAnswer, GateClient, GatedAction } from "./gate";
import { VigilSdkError } from "./options";

/** Trace context and the caller's identity travel together to the agent being called. */
const propagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

/** The baggage entry that carries the calling agent's id to the agent it calls. */
export const CALLER_BAGGAGE_KEY = ATTR_VIGIL_CALLER_AGENT;

export interface DbQuery {
  /** OTel db.system.name: postgresql, mysql, sqlite, clickhouse, ... */
  system: string;
  /** The statement text as sent (parametrized: values are not needed, and may be secret). */
  statement: string;
  /** The main table, when known without parsing. */
  collection?: string;
  /** The operation (SELECT, DELETE, ...), when known without parsing. */
  operation?: string;
  /** The credential the query runs with: an id or fingerprint, never the secret. */
  credentialId?: string;
  /** Database host, for the outbound-host facts. */
  serverAddress?: string;
}

export interface HttpCall {
  method: string;
  url: string;
  credentialId?: string;
}

export interface Approval {
  id: string;
  status: "approved" | "denied" | "pending";
  approver?: string;
  reason?: string;
}

/**
 * Helpers that make correct spans for the steps Vigil watches. Each runs `fn` inside an
 * active span (so spans from other instrumentations nest under it), records errors,
 * and ends the span when `fn` settles.
 *
 * @example
 * await agent.session("sess-42", async () => {
 *   const plan = await agent.modelCall({ model: "claude-sonnet-4-5", input: ticket.body }, () => llm(ticket));
 *   await agent.dbQuery({ system: "postgresql", statement: plan.sql, credentialId: "cred-pg-support" }, () => db.query(plan.sql));
 * });
 */
export class VigilAgent {
  constructor(
    readonly agentId: string,
    private readonly tracer: Tracer,
    private readonly onShutdown: () => Promise<void>,
    private readonly onFlush: () => Promise<void>,
    /** The confirmation gate on Vigil's ingest (set by startVigilAgent). */
    private readonly gate?: GateClient,
  ) {}

  /**
   * Asks Vigil before an action and runs `run` only when it may: at once when Vigil
   * allows it, after a person approved it when it needs one (waiting until they answer
   * or the request expires). The action's span inside `run` (a `dbQuery`, `toolCall` or
   * `httpCall` for exactly `action`) carries the signed approval. Throws
   * `VigilApprovalDenied` on a denial or expiry, and `run` never starts.
   *
   * @example
   * await agent.confirm(
   *   { description: "drop the staging copy of invoices, replaced yesterday", action: { db: { system: "postgresql", statement: sql } } },
   *   () => agent.dbQuery({ system: "postgresql", statement: sql }, () => db.query(sql)),
   * );
   */
  async confirm<T>(
    request: {
      description: string;
      action: GatedAction;
      /** Told when a person must decide (to say where: `vigil approve <decision_id>`). */
      onPending?: (answer: GateAnswer) => void;
      /** Give up waiting after this long (the request stays pending; `run` does not start). */
      maxWaitMs?: number;
    },
    run: () => Promise<T>,
  ): Promise<T> {
    if (this.gate === undefined)
      throw new VigilSdkError("confirm() needs the agent started with startVigilAgent (it calls Vigil's gate)");
    const sessionId = (context.active().getValue(SESSION_KEY) as string | undefined) ?? "";
    let answer = await this.gate.ask({ description: request.description, sessionId, action: request.action });
    if (answer.status === "pending") {
      request.onPending?.(answer);
      answer = await this.gate.wait(answer.decision_id, request.maxWaitMs);
    }
    if (answer.status === "allowed") return run();
    if (answer.status === "approved" && answer.approval_token !== undefined)
      return context.with(context.active().setValue(APPROVAL_TOKEN_KEY, answer.approval_token), run);
    throw new VigilApprovalDenied(
      `${answer.status === "pending" ? "no answer yet (stopped waiting)" : answer.status === "expired" ? "no one decided before the request expired" : `denied by ${answer.decided_by ?? "Vigil"}`}: ` +
        `${answer.justification ?? answer.reasons.join("; ")} (${answer.rendering})`,
      answer,
    );
  }

  /** Runs `fn` as one agent session: every span inside carries `session.id`. */
  session<T>(sessionId: string, fn: () => Promise<T>): Promise<T> {
    const ctx = context.active().setValue(SESSION_KEY, sessionId);
    return context.with(ctx, () =>
      this.run(
        `invoke_agent ${this.agentId}`,
        SpanKind.SERVER,
        { "gen_ai.operation.name": "invoke_agent", "session.id": sessionId },
        fn,
      ),
    );
  }

  /** A model call; `input` is what the model was given (the input that causes the next steps). */
  modelCall<T>(call: { model: string; input: string | unknown[]; system?: string }, fn: () => Promise<T>): Promise<T> {
    const input =
      typeof call.input === "string"
        ? JSON.stringify([{ role: "user", parts: [{ type: "text", content: call.input }] }])
        : JSON.stringify(call.input);
    return this.run(
      `chat ${call.model}`,
      SpanKind.CLIENT,
      {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": call.model,
        "gen_ai.input.messages": input,
        ...(call.system === undefined ? {} : { "gen_ai.provider.name": call.system }),
      },
      fn,
    );
  }

  /** A tool the agent calls, with the arguments the model chose. */
  toolCall<T>(name: string, args: unknown, fn: () => Promise<T>): Promise<T> {
    return this.run(
      `execute_tool ${name}`,
      SpanKind.INTERNAL,
      {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.call.arguments": JSON.stringify(args ?? {}),
      },
      fn,
      true,
    );
  }

  /** A database statement. Vigil reads every table it touches from the text. */
  async dbQuery<T>(query: DbQuery, fn: () => Promise<T>): Promise<T> {
    if (query.credentialId !== undefined) assertCredentialId(query.credentialId);
    const operation = query.operation ?? query.statement.trim().split(/\s+/)[0]?.toUpperCase() ?? "";
    const attributes: Attributes = {
      "db.system.name": query.system,
      "db.query.text": query.statement,
      "db.operation.name": operation,
    };
    if (query.collection !== undefined) attributes["db.collection.name"] = query.collection;
    if (query.credentialId !== undefined) attributes[ATTR_VIGIL_CREDENTIAL_ID] = query.credentialId;
    if (query.serverAddress !== undefined) attributes["server.address"] = query.serverAddress;
    return this.run(`${operation} ${query.collection ?? query.system}`.trim(), SpanKind.CLIENT, attributes, fn, true);
  }

  /**
   * Runs `fn` with a credential in use: spans inside carry its id. Refuses a value that
   * looks like a secret itself (an API key, a password): Vigil wants an id to rotate.
   */
  async withCredential<T>(credentialId: string, fn: () => Promise<T>): Promise<T> {
    assertCredentialId(credentialId);
    return context.with(context.active().setValue(CREDENTIAL_KEY, credentialId), fn);
  }

  /** An outbound HTTP call; `fn` gets the headers to send (trace context). */
  async httpCall<T>(call: HttpCall, fn: (headers: Record<string, string>) => Promise<T>): Promise<T> {
    if (call.credentialId !== undefined) assertCredentialId(call.credentialId);
    const url = new URL(call.url);
    const attributes: Attributes = {
      "http.request.method": call.method.toUpperCase(),
      "url.full": redactUrl(url),
      "server.address": url.hostname,
      "server.port": Number(url.port || (url.protocol === "https:" ? 443 : 80)),
    };
    if (call.credentialId !== undefined) attributes[ATTR_VIGIL_CREDENTIAL_ID] = call.credentialId;
    return this.run(
      call.method.toUpperCase(),
      SpanKind.CLIENT,
      attributes,
      async (span) => {
        const result = await fn(this.outgoingHeaders());
        const status = (result as { status?: unknown } | undefined)?.status;
        if (typeof status === "number") span.setAttribute("http.response.status_code", status);
        return result;
      },
      true,
    );
  }

  /**
   * A call to another agent: propagates the trace and this agent's identity (W3C
   * traceparent and baggage `vigil.caller.agent`) in the headers given to `fn`.
   */
  callAgent<T>(
    call: { agentId: string; url?: string },
    fn: (headers: Record<string, string>) => Promise<T>,
  ): Promise<T> {
    const attributes: Attributes = {
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.id": call.agentId,
      [ATTR_VIGIL_PEER_AGENT]: call.agentId,
    };
    if (call.url !== undefined) {
      const url = new URL(call.url);
      attributes["server.address"] = url.hostname;
      attributes["url.full"] = redactUrl(url);
    }
    return this.run(`invoke_agent ${call.agentId}`, SpanKind.CLIENT, attributes, () => fn(this.outgoingHeaders()));
  }

  /**
   * Handles a call from another agent: continues the caller's trace and records who
   * called (from the propagated baggage) on a SERVER span.
   */
  acceptCall<T>(
    headers: Record<string, string | string[] | undefined>,
    sessionId: string,
    fn: () => Promise<T>,
  ): Promise<T> {
    const carrier: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers))
      if (v !== undefined) carrier[k.toLowerCase()] = Array.isArray(v) ? v.join(",") : v;
    const parent = propagator.extract(context.active(), carrier, {
      get: (c, k) => c[k],
      keys: (c) => Object.keys(c),
    });
    const caller = propagation.getBaggage(parent)?.getEntry(CALLER_BAGGAGE_KEY)?.value;
    const ctx = parent.setValue(SESSION_KEY, sessionId);
    const attributes: Attributes = { "gen_ai.operation.name": "invoke_agent", "session.id": sessionId };
    if (caller !== undefined) attributes[ATTR_VIGIL_CALLER_AGENT] = caller;
    return context.with(ctx, () => this.run(`invoke_agent ${this.agentId}`, SpanKind.SERVER, attributes, fn));
  }

  /** Records a human approval (or denial) in the current session. */
  approval(approval: Approval): void {
    const attributes: Attributes = {
      [ATTR_VIGIL_APPROVAL_ID]: approval.id,
      [ATTR_VIGIL_APPROVAL_STATUS]: approval.status,
    };
    if (approval.approver !== undefined) attributes[ATTR_VIGIL_APPROVAL_APPROVER] = approval.approver;
    if (approval.reason !== undefined) attributes[ATTR_VIGIL_APPROVAL_REASON] = approval.reason;
    this.tracer.startSpan(`approval ${approval.id}`, { kind: SpanKind.INTERNAL, attributes }).end();
  }

  /** Sends every finished span now. */
  forceFlush(): Promise<void> {
    return this.onFlush();
  }

  /** Flushes and stops the SDK. */
  shutdown(): Promise<void> {
    return this.onShutdown();
  }

  private outgoingHeaders(): Record<string, string> {
    const headers: Record<string, string> = {};
    const bag = (propagation.getBaggage(context.active()) ?? propagation.createBaggage()).setEntry(CALLER_BAGGAGE_KEY, {
      value: this.agentId,
    });
    propagator.inject(propagation.setBaggage(context.active(), bag), headers, {
      set: (c, k, v) => {
        c[k] = v;
      },
    });
    return headers;
  }

  private run<T>(
    name: string,
    kind: SpanKind,
    attributes: Attributes,
    fn: (span: Span) => Promise<T>,
    action = false,
  ): Promise<T> {
    // An approved action's own span carries the approval Vigil signed for it.
    const token = action ? (context.active().getValue(APPROVAL_TOKEN_KEY) as string | undefined) : undefined;
    if (token !== undefined) attributes[ATTR_VIGIL_APPROVAL_TOKEN] = token;
    return this.tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    });
  }
}

function assertCredentialId(credentialId: string): void {
  if (looksLikeSecret(credentialId)) {
    throw new VigilSdkError(
      'this credential id looks like a secret itself; pass an id or fingerprint of the credential (e.g. "cred-stripe-live"), never the secret',
    );
  }
}

/** A URL without its userinfo: a password in a URL must not reach a span. */
function redactUrl(url: URL): string {
  if (url.username === "" && url.password === "") return url.toString();
  const copy = new URL(url.toString());
  copy.username = "";
  copy.password = "";
  return copy.toString();
}

export type { Context };
