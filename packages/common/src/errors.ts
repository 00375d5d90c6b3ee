/**
 * The one error hierarchy Vigil uses. Every error carries the HTTP status it maps to
 * and whether it is an expected outcome of bad input (logged quietly) or a fault.
 */
export class VigilError extends Error {
  readonly status: number;
  readonly expected: boolean;

  constructor(message: string, options: { status?: number; expected?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status ?? 500;
    this.expected = options.expected ?? false;
  }
}

/** Bad input from a client: never retried, answered with a 4xx. */
export class InputError extends VigilError {
  constructor(message: string, status = 400, cause?: unknown) {
    super(message, { status, expected: true, cause });
  }
}

/**
 * A request refused on purpose: its HTTP status, a code a program can branch on
 * (`bad_request`, `not_found`, `conflict`, `unavailable`) and a message for a person.
 * Thrown where the refusal is decided; each service turns it into its response in one
 * place (the API's `onError`: `{"error": code, "message": message}`).
 */
export class RequestError extends VigilError {
  constructor(
    status: 400 | 401 | 403 | 404 | 409 | 413 | 429 | 503,
    readonly code: string,
    message: string,
  ) {
    super(message, { status, expected: true });
  }
}

/**
 * Work cannot be taken right now; the caller should retry later: 503 when a dependency
 * (store, queue) is down, 429 when Vigil itself is at capacity.
 */
export class UnavailableError extends VigilError {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number, cause?: unknown, status: 429 | 503 = 503) {
    super(message, { status, expected: false, cause });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The config file or environment is invalid; lists every problem. */
export class ConfigError extends VigilError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`, { status: 500, expected: true });
    this.problems = problems;
  }
}
