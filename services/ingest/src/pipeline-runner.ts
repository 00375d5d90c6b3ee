import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { admit } from "./pipeline";
import type { Admission, AdmitInput, ApprovalCheck } from "./pipeline";

/**
 * Where ingest's pipeline (pipeline.ts) runs: on the main thread, or on a pool of
 * worker threads so decoding, redaction, facts and row encoding use more than one core
 * and the main thread stays free for HTTP, the group commit, the ledger and the
 * confirmation gate's answers. A request carrying approval tokens is admitted on the
 * main thread, where the record of used tokens is.
 */
export interface PipelineRunner {
  admit(input: AdmitInput): Promise<Admission>;
  readonly threads: number;
  close(): Promise<void>;
}

/** The default number of pipeline threads: one per core beyond the main thread's. */
export function defaultPipelineThreads(): number {
  return Math.max(0, availableParallelism() - 1);
}

/** Runs the pipeline on the main thread (0 threads). */
export function inlinePipeline(approvals?: ApprovalCheck): PipelineRunner {
  return { threads: 0, admit: (input) => admit(input, approvals), close: async () => {} };
}

/**
 * The thread's entry: the TypeScript source when Vigil runs from source (npm start,
 * the tests; a small module registers tsx in the thread first), the bundle's module
 * beside this one when built (`npm run build` writes dist/ingest-pipeline-thread.mjs).
 */
function threadEntry(): string {
  return import.meta.url.endsWith(".ts")
    ? new URL("./pipeline-thread-tsx.mjs", import.meta.url).href
    : new URL("./ingest-pipeline-thread.mjs", import.meta.url).href;
}

/** Runs the pipeline on `threads` worker threads (at least 1). */
export function threadedPipeline(threads: number, approvals?: ApprovalCheck): PipelineRunner {
  const pool = new Piscina<AdmitInput, Admission>({
    filename: threadEntry(),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    // Loader flags of the parent (tsx's) do not carry into threads; the entry registers what it needs.
    execArgv: [],
  });
  return {
    threads,
    async admit(input) {
      const result = await pool.run(input);
      // Lines come back as a Uint8Array (structured clone): a Buffer view over the same bytes.
      if (result.kind === "admitted" && result.lines !== undefined && !Buffer.isBuffer(result.lines)) {
        const l = result.lines as Uint8Array;
        result.lines = Buffer.from(l.buffer, l.byteOffset, l.byteLength);
      }
      return result.kind === "needs-approvals" ? admit(input, approvals) : result;
    },
    close: () => pool.destroy(),
  };
}

/** The runner for a configured thread count (0: the main thread). */
export function pipelineRunner(threads: number, approvals?: ApprovalCheck): PipelineRunner {
  return threads <= 0 ? inlinePipeline(approvals) : threadedPipeline(threads, approvals);
}
