/**
 * Asks the confirmation gate from its own process, one request at a time, for a while
 * (a harmless SELECT: each answer must be allow), and prints the sorted latencies as a
 * JSON array: the client's own work stays out of the measured process's event loop.
 *
 * Usage: tsx bench/gate-client.ts <decisions url> <token> <milliseconds>
 */
import { argv } from "node:process";

const [url, token, msArg] = argv.slice(2);
if (url === undefined || token === undefined) throw new Error("usage: gate-client <url> <token> <milliseconds>");
const durationMs = Number(msArg ?? 5000);
const latencies: number[] = [];
const started = Date.now();
for (let i = 0; Date.now() - started < durationMs; i++) {
  const t0 = performance.now();
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({
      description: "look up the order the customer asked about",
      session_id: `bench-gate-${i}`,
      action: { db: { system: "postgresql", statement: `SELECT * FROM orders WHERE id = ${i}` } },
    }),
  });
  const answer = (await res.json()) as { decision?: string };
  if (res.status !== 200 || answer.decision !== "allow") throw new Error(`the gate answered ${res.status}`);
  latencies.push(performance.now() - t0);
}
process.stdout.write(JSON.stringify(latencies.sort((a, b) => a - b)) + "\n");
