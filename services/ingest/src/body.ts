import { InputError, UnavailableError } from "@vigil/common";
import type { IncomingMessage } from "node:http";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";

const gunzipAsync = promisify(gunzip);

/**
 * Bytes of request bodies held at once by all requests, raw and decompressed, until
 * each request's spans are decoded. A decoded request takes about twenty times its
 * body in memory, so this bounds the process however many clients send at once (one
 * per-request limit alone let a few gzip bodies of under 1 MiB grow it by 1.4 GB).
 */
export class BodyBudget {
  private held = 0;

  constructor(readonly limitBytes: number) {}

  /** Takes `bytes` for a request; over the budget, the request is refused with 429. */
  take(bytes: number): void {
    if (this.held + bytes > this.limitBytes) {
      throw new UnavailableError(
        `ingest is decoding ${Math.round(this.held / 1048576)} MiB of requests already; retry later`,
        1,
        undefined,
        429,
      );
    }
    this.held += bytes;
  }

  give(bytes: number): void {
    this.held -= bytes;
  }

  get heldBytes(): number {
    return this.held;
  }
}

/** What one request holds of a BodyBudget; released once, whatever happened. */
export class BodyReservation {
  private bytes = 0;

  constructor(private readonly budget: BodyBudget) {}

  take(bytes: number): void {
    this.budget.take(bytes);
    this.bytes += bytes;
  }

  release(): void {
    this.budget.give(this.bytes);
    this.bytes = 0;
  }
}

/**
 * Reads a request body of at most `limit` bytes, before and after gzip decompression.
 * A declared Content-Length over the limit is refused before reading; a body that
 * grows past it is abandoned mid-stream, so an oversize body is never held whole.
 *
 * @throws InputError 413 (too large), 400 (corrupt gzip), 415 (unsupported encoding).
 */
export async function readRequestBody(
  incoming: IncomingMessage,
  limit: number,
  reservation?: BodyReservation,
): Promise<Buffer> {
  const encoding = (incoming.headers["content-encoding"] ?? "identity").trim().toLowerCase();
  if (encoding !== "gzip" && encoding !== "identity") {
    throw new InputError(`unsupported Content-Encoding "${encoding}": send gzip or no encoding`, 415);
  }
  const declared = Number(incoming.headers["content-length"] ?? NaN);
  if (declared > limit) throw tooLarge(limit);

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    reservation?.take(chunk.length);
    chunks.push(chunk);
  }
  const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
  if (encoding === "identity") return raw;
  try {
    // maxOutputLength stops inflating at the limit: a gzip bomb costs us `limit` bytes at most.
    const inflated = await gunzipAsync(raw, { maxOutputLength: limit });
    reservation?.take(inflated.length);
    return inflated;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge(limit);
    throw new InputError(`corrupt gzip body: ${(err as Error).message}`, 400, err);
  }
}

function tooLarge(limit: number): InputError {
  return new InputError(
    `request body exceeds ${limit} bytes (before or after decompression); send smaller batches`,
    413,
  );
}
