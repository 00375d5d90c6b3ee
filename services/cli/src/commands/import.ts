import { readFileSync } from "node:fs";
import { CliError } from "../api-client";
import type { ApiTarget } from "../api-client";

/**
 * `vigil import <file> --agent <id>`: an agent's real history, as an OTLP trace request
 * (JSON, or protobuf for a `.pb` / `.binpb` file), imported as an administrator into
 * ingest (POST /v1/import/traces). Imported steps count as history for learning and
 * baselines; the same steps sent with the agent's token are backfill and train nothing.
 */
export async function importCommand(
  target: ApiTarget,
  file: string,
  options: { agent: string; ingest: string },
  print: (s: string) => void,
): Promise<number> {
  if (target.key === undefined) throw new CliError("no API key: pass --key or set VIGIL_API_KEY (an admin key)");
  let body: Buffer;
  try {
    body = readFileSync(file);
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const protobuf = /\.(pb|binpb)$/i.test(file);
  const url = new URL("/v1/import/traces", options.ingest);
  url.searchParams.set("agent", options.agent);
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      body,
      headers: {
        authorization: `Bearer ${target.key}`,
        "content-type": protobuf ? "application/x-protobuf" : "application/json",
      },
    });
  } catch (err) {
    throw new CliError(
      `cannot reach Vigil's ingest at ${options.ingest} (${(err as Error).message}); is it running? (--ingest or VIGIL_INGEST_URL)`,
    );
  }
  const text = await res.text();
  if (protobuf && res.ok) {
    print(`imported ${file} as ${options.agent}'s history`);
    return 0;
  }
  let answer: { message?: string; partialSuccess?: { rejectedSpans?: string; errorMessage?: string } } = {};
  try {
    answer = text === "" ? {} : (JSON.parse(text) as typeof answer);
  } catch {
    // not JSON: reported below by status
  }
  if (!res.ok) throw new CliError(`import refused (${res.status}): ${answer.message ?? text.slice(0, 200)}`);
  const rejected = Number(answer.partialSuccess?.rejectedSpans ?? 0);
  print(
    `imported ${file} as ${options.agent}'s history` +
      (rejected > 0 ? `; ${rejected} span(s) refused: ${answer.partialSuccess?.errorMessage ?? ""}` : ""),
  );
  return rejected > 0 ? 1 : 0;
}
