import { InputError } from "@vigil/common";
import type { IncomingMessage } from "node:http";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";

const gunzipAsync = promisify(gunzip);

/**
 * Reads a request body of at most `limit` bytes, before and after gzip decompression.
 * A declared Content-Length over the limit is refused before reading; a body that
 * grows past it is abandoned mid-stream, so an oversize body is never held whole.
 *
 * @throws InputError 413 (too large), 400 (corrupt gzip), 415 (unsupported encoding).
 */
export async function readRequestBody(incoming: IncomingMessage, limit: number): Promise<Buffer> {
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
    chunks.push(chunk);
  }
  const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
  if (encoding === "identity") return raw;
  try {
    // maxOutputLength stops inflating at the limit: a gzip bomb costs us `limit` bytes at most.
    return await gunzipAsync(raw, { maxOutputLength: limit });
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
