import { describe, expect, it } from "vitest";
import { parseVigilConfig } from "@vigil/config";
import type { ClickHouseClient } from "@vigil/store";
import { REQUEST_BODIES } from "@vigil/api-contract";
import { createApiApp } from "./app";
import { openApiDocument } from "./openapi";

describe("OpenAPI document", () => {
  it("describes exactly the routes the API serves", () => {
    // Only the route table is read here: no request reaches the store.
    const app = createApiApp({
      client: undefined as unknown as ClickHouseClient,
      config: parseVigilConfig("{}"),
      hostName: "test",
    });
    const served = new Set(
      app.routes
        .filter((r) => r.method !== "ALL" && r.path.startsWith("/api/"))
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
    );
    const doc = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
    const described = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)),
    );
    expect([...served].sort()).toEqual([...described].sort());
  });

  it("describes each request body with the schema its route parses it with", () => {
    const doc = openApiDocument() as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
    };
    const withBody = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.requestBody !== undefined)
        .map(([method]) => `${method} ${path}`),
    );
    expect(withBody.sort()).toEqual(Object.keys(REQUEST_BODIES).sort());
    const silence = doc.paths["/api/silences"]?.post?.requestBody?.content["application/json"]?.schema as {
      properties: Record<string, unknown>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(Object.keys(silence.properties).sort()).toEqual(["duration", "ends_at", "matchers", "reason", "starts_at"]);
    expect(silence.required.sort()).toEqual(["matchers", "reason"]);
    expect(silence.additionalProperties).toBe(false);
  });
});
