import { ConfigError } from "./errors";

/**
 * Runs a service's main: starts it, stops it cleanly on SIGTERM or SIGINT, and exits
 * with status 1 and a one-line reason (every problem of an invalid configuration) when
 * it cannot start.
 */
export async function runMain(processName: string, start: () => Promise<{ stop(): Promise<void> }>): Promise<void> {
  let service: { stop(): Promise<void> };
  try {
    service = await start();
  } catch (err) {
    process.stderr.write(
      `${processName}: ${err instanceof ConfigError ? err.message : String((err as Error).stack ?? err)}\n`,
    );
    process.exit(1);
  }
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      service.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`${processName}: shutdown failed: ${String(err)}\n`);
          process.exit(1);
        },
      );
    });
  }
}
