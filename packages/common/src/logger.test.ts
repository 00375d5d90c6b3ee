import { describe, expect, it } from "vitest";
import { InputError } from "./errors";
import { createLogger } from "./logger";

describe("the logger", () => {
  it("logs an error with its stack, its status and the chain of causes", () => {
    const lines: string[] = [];
    const logger = createLogger("info", { process: "test" }, (line) => lines.push(line));
    const engine = Object.assign(new Error("Code: 241. Memory limit exceeded"), { code: "241" });
    logger.error("storing spans failed", { error: new InputError("the insert failed", 400, engine) });
    const record = JSON.parse(lines[0] as string) as { error: Record<string, unknown> };
    expect(record.error).toMatchObject({
      name: "InputError",
      message: "the insert failed",
      status: 400,
      stack: expect.stringContaining("logger.test.ts") as unknown,
      cause: { name: "Error", message: "Code: 241. Memory limit exceeded", code: "241" },
    });
  });

  it("ends a cycle of causes", () => {
    const lines: string[] = [];
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    createLogger("info", {}, (line) => lines.push(line)).warn("x", { error: a });
    expect(lines[0]).toContain('"message":"a"');
  });
});
