import { connect } from "node:net";
import type { Socket } from "node:net";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { startHttpServer } from "./http-server";
import type { RunningServer } from "./http-server";

/** Opens a socket, sends `text`, and resolves with what the server answered once it closed the socket. */
function rawExchange(port: number, text: string): { socket: Socket; closed: Promise<string> } {
  const socket = connect(port, "127.0.0.1");
  let answer = "";
  socket.on("data", (d: Buffer) => (answer += d.toString("latin1")));
  socket.on("error", () => undefined);
  const closed = new Promise<string>((resolve) => socket.on("close", () => resolve(answer)));
  socket.write(text);
  return { socket, closed };
}

const within = <T>(ms: number, p: Promise<T>, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)),
  ]);

describe("listener limits", () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const app = new Hono().get("/", (c) => c.text("ok")).post("/", async (c) => c.text(await c.req.text()));

  it("closes a client that never finishes its headers (408), while an honest request is answered", async () => {
    server = await startHttpServer(app, 0, "127.0.0.1", {
      headersTimeoutMs: 300,
      requestTimeoutMs: 1000,
      maxConnections: 100,
    });
    const slow = rawExchange(server.port, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    expect(await (await fetch(`http://127.0.0.1:${server.port}/`)).text()).toBe("ok");
    expect(await within(5000, slow.closed, "close of the slow client")).toMatch(/^HTTP\/1\.1 408/);
  });

  it("closes a client that never finishes its body", async () => {
    server = await startHttpServer(app, 0, "127.0.0.1", {
      headersTimeoutMs: 300,
      requestTimeoutMs: 600,
      maxConnections: 100,
    });
    const slow = rawExchange(server.port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc");
    expect(await within(5000, slow.closed, "close of the slow client")).toMatch(/^HTTP\/1\.1 408|^$/);
  });

  it("refuses connections past the cap and takes new ones once they close", async () => {
    server = await startHttpServer(app, 0, "127.0.0.1", {
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 10_000,
      maxConnections: 2,
    });
    const port = server.port;
    // Two keep-alive clients, each answered once, so both are surely accepted.
    const held = [0, 1].map(() => rawExchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await Promise.all(
      held.map((h) => within(3000, new Promise((r) => h.socket.once("data", r)), "answer to a held client")),
    );
    const third = rawExchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(await within(3000, third.closed, "close of the connection past the cap")).toBe("");
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.closed));
    let answered = "";
    for (const deadline = Date.now() + 3000; answered !== "ok" && Date.now() < deadline;) {
      answered = await fetch(`http://127.0.0.1:${port}/`).then(
        (r) => r.text(),
        () => "",
      );
    }
    expect(answered).toBe("ok");
  });
});
