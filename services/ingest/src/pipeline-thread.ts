import { initSqlParser } from "@vigil/facts";
import { admit } from "./pipeline";
import type { Admission, AdmitInput } from "./pipeline";

// Each thread loads its own copy of the SQL parser (WebAssembly) before its first task.
await initSqlParser();

/**
 * One pipeline thread's task (see pipeline-runner.ts): admits a request without an
 * approval verifier, so a request carrying approval tokens comes back as
 * "needs-approvals" and is admitted on the main thread.
 */
export default function admitInThread(input: AdmitInput): Promise<Admission> {
  return admit(input);
}
