import { DigestRegistry, RequestError, bearerToken } from "@vigil/common";
import type { VigilConfig } from "@vigil/config";
import type { MiddlewareHandler } from "hono";

export type Role = "reader" | "approver" | "admin";

export interface ApiCaller {
  name: string;
  role: Role;
}

export type ApiEnv = { Variables: { caller: ApiCaller; requestId: string } };

/** API keys from the config, known only by SHA-256 and compared in constant time. */
export function apiKeyRegistry(config: VigilConfig): DigestRegistry<ApiCaller> {
  return new DigestRegistry(
    config.api_keys.map((k) => ({ sha256Hex: k.sha256, value: { name: k.name, role: k.role } })),
  );
}

/** Requires a valid API key (401 otherwise) and records who is calling. */
export function requireApiKey(keys: DigestRegistry<ApiCaller>): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const key = bearerToken(c.req.header("authorization"));
    const caller = key === undefined ? undefined : keys.lookup(key);
    if (caller === undefined) {
      throw new RequestError(
        401,
        "unauthorized",
        "send an API key: Authorization: Bearer <key> (api_keys in the config)",
      );
    }
    c.set("caller", caller);
    await next();
  };
}

/** Refuses readers (403) on endpoints that change state. */
export const requireAdmin: MiddlewareHandler<ApiEnv> = async (c, next) => {
  if (c.get("caller").role !== "admin") {
    throw new RequestError(
      403,
      "forbidden",
      `API key "${c.get("caller").name}" has the ${c.get("caller").role} role; this action needs admin`,
    );
  }
  await next();
};

/** Approval decisions: admins and approvers (403 for readers). */
export const requireApprover: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const role = c.get("caller").role;
  if (role !== "admin" && role !== "approver") {
    throw new RequestError(
      403,
      "forbidden",
      `API key "${c.get("caller").name}" has the ${role} role; deciding approvals needs approver or admin`,
    );
  }
  await next();
};
