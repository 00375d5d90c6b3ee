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
/**
 * Bounds on one listener's clients. Node's defaults let a slow client hold a socket for
 * a minute before its headers arrive and five minutes for its body, with no cap on
 * sockets, so a few hundred slow clients could hold the process.
 */
export interface ListenerLimits {
  /** Time for a client to send the request headers (default 10 s). */
  headersTimeoutMs: number;
  /** Time for a client to send the whole request (default 120 s: a 64 MiB OTLP upload on a slow link). */
  requestTimeoutMs: number;
  /** Open sockets at most; more are closed at once (default 1024). */
  maxConnections: number;
}

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 120_000,
  maxConnections: 1024,
};

export async function startHttpServer(
  app: FetchApp,
  port: number,
  hostname: string,
  limits: ListenerLimits = DEFAULT_LISTENER_LIMITS,
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const serverOptions = {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often Node checks those timeouts (default 30 s, which would let them run late).
      connectionsCheckingInterval: 1_000,
    };
    const server = serve({ fetch: app.fetch as never, port, hostname, serverOptions }, (info: AddressInfo) => {
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
    server.maxConnections = limits.maxConnections;
    server.keepAliveTimeout = 5_000;
  });
}
