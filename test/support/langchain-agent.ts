import { SpanKind, trace } from "@opentelemetry/api";
import { ChatOpenAI } from "@langchain/openai";
import { tool } from "@langchain/core/tools";
import { HumanMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import { z } from "zod";
import type { Conformance } from "./conformance";

/** The tools of the LangChain agent in the conformance tests: what each does when called. */
export type LangChainTools = Record<string, (args: Record<string, unknown>) => Promise<unknown>>;

/**
 * A LangChain agent as applications write one without a framework on top: `ChatOpenAI`
 * (`@langchain/openai`, against the fake model) with the tools bound, and the tool loop
 * by hand (model, tools it asked for, model again), the session in each run's metadata
 * (`session_id`, LangChain's convention) and on the application's span around it.
 */
export async function langchainRun(
  c: Conformance,
  sessionId: string,
  question: string,
  tools: LangChainTools,
): Promise<void> {
  const lcTools = Object.entries(tools).map(([name, fn]) =>
    tool(async (args: Record<string, unknown>) => JSON.stringify(await fn(args)), {
      name,
      description: `the ${name} tool`,
      schema: z.object({}).passthrough(),
    }),
  );
  const model = new ChatOpenAI({
    model: "fake-model",
    apiKey: "test-key",
    configuration: { baseURL: c.model.baseUrl },
  }).bindTools(lcTools);
  const config = { metadata: { session_id: sessionId } };
  await trace.getTracer("support-bot").startActiveSpan("handle ticket", async (span) => {
    span.setAttribute("session.id", sessionId);
    const messages: BaseMessage[] = [new HumanMessage(question)];
    for (let turn = 0; turn < 3; turn++) {
      const reply = await model.invoke(messages, config);
      messages.push(reply);
      const calls = reply.tool_calls ?? [];
      if (calls.length === 0) break;
      for (const call of calls) {
        const t = lcTools.find((x) => x.name === call.name);
        if (t !== undefined) messages.push(await t.invoke(call, config));
      }
    }
    span.end();
  });
  await c.provider.forceFlush();
}

/** What an HTTP instrumentation records for a call out, inside the tool that makes it. */
export function outboundPost(url: string): void {
  trace.getTracer("support-bot-http").startActiveSpan("POST", { kind: SpanKind.CLIENT }, (span) => {
    span.setAttributes({ "http.request.method": "POST", "url.full": url });
    span.end();
  });
}
