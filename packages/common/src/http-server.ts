import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Anything with Hono's `fetch` signature. */
export interface FetchApp {
  fetch: (request: Request, env: never) => Response | Promise<Response>;
}

export interface RunningServer {
  /** The port actually bound (useful when asked for port 0). */
  port: number;
  /** Stops accepting connections and resolves once in-flight requests have finished. */
  close(): Promise<void>;
}

/**
 * Serves a Hono app with @hono/node-server and resolves once it is listening.
 *
 * @example
 * const server = await startHttpServer(app, 4318, "0.0.0.0");
 * await server.close();
 */
export async function startHttpServer(app: FetchApp, port: number, hostname: string): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch as never, port, hostname }, (info: AddressInfo) => {
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            // Idle keep-alive sockets would hold close() open forever; busy ones finish their request first.
            server.close(() => done());
            (server as Server).closeIdleConnections();
          }),
      });
    }) as Server;
    server.once("error", reject);
    // Long OTLP uploads must not be cut by Node's default request timeout; keep-alive is short.
    server.keepAliveTimeout = 5_000;
  });
}
