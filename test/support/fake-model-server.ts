import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One assistant turn the fake model answers with: text, or calls of tools with arguments. */
export type ScriptedTurn = { text: string } | { toolCalls: Array<{ name: string; arguments: unknown }> };

/**
 * An OpenAI-compatible chat completions endpoint on 127.0.0.1 (`POST /v1/chat/completions`,
 * non-streaming), answering each request with the next scripted turn: what agent
 * frameworks' OpenAI-compatible providers talk to, so that tests drive the real
 * libraries without a model. Records the request bodies it received.
 */
export class FakeModelServer {
  readonly requests: unknown[] = [];
  private server: Server | undefined;
  private turns: ScriptedTurn[] = [];

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/v1`;
  }

  /** The turns to answer with, in order (the last one repeats). */
  script(turns: ScriptedTurn[]): void {
    this.turns = [...turns];
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        this.requests.push(JSON.parse(body || "{}"));
        const turn = (this.turns.length > 1 ? this.turns.shift() : this.turns[0]) ?? { text: "" };
        const calls = "toolCalls" in turn ? turn.toolCalls : [];
        const message =
          "toolCalls" in turn
            ? {
                role: "assistant",
                content: null,
                tool_calls: calls.map((c, i) => ({
                  id: `call_${this.requests.length}_${i}`,
                  type: "function",
                  function: { name: c.name, arguments: JSON.stringify(c.arguments) },
                })),
              }
            : { role: "assistant", content: turn.text };
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            id: `chatcmpl-${this.requests.length}`,
            object: "chat.completion",
            created: Math.floor(Date.now() / 1000),
            model: "fake-model",
            choices: [{ index: 0, message, finish_reason: calls.length > 0 ? "tool_calls" : "stop" }],
            usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }
}
