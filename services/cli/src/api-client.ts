/** A CLI error: printed as one line, exit code 2 (1 is reserved for "verify found problems"). */
export class CliError extends Error {}

export interface ApiTarget {
  url: string;
  key: string | undefined;
}

/**
 * Calls the Vigil API. In embedded mode only the server process opens the store, so
 * the CLI always goes through the API.
 */
export async function apiRequest<T>(
  target: ApiTarget,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  if (target.key === undefined) throw new CliError("no API key: pass --key or set VIGIL_API_KEY");
  let res: Response;
  try {
    res = await fetch(new URL(path, target.url), {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${target.key}`,
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  } catch (err) {
    throw new CliError(
      `cannot reach the Vigil API at ${target.url} (${(err as Error).message}); is it running? (--api or VIGIL_API_URL)`,
    );
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  if (!res.ok) {
    const message = (body as { message?: string } | undefined)?.message ?? text;
    throw new CliError(`${res.status} ${res.statusText}: ${message}`);
  }
  return body as T;
}

/** Like apiRequest, for endpoints answering text (YAML, SQL, Markdown). */
export async function apiText(
  target: ApiTarget,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<string> {
  const body = await apiRequest<unknown>(target, path, init);
  return typeof body === "string" ? body : JSON.stringify(body, null, 2);
}
