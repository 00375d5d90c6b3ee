import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";

/** `npm start` as a real child process, for tests that kill it. */
export interface VigilProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when it has exited (registered at spawn, so a quick exit is not missed). */
  exited: Promise<number | null>;
}

export function spawnVigil(env: Record<string, string>): VigilProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "services/vigil/src/main.ts"], {
    env: { PATH: process.env.PATH ?? "", VIGIL_INGEST_PORT: "0", VIGIL_API_PORT: "0", VIGIL_HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}
