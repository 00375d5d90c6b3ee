import { ConfigError } from "@vigil/common";
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { VigilConfigSchema } from "./schema";
import type { VigilConfig } from "./schema";

/**
 * Parses and validates the YAML config text. Every problem is reported at once, each
 * with its path in the file (`agents.1.tokens.0.sha256: ...`).
 *
 * @throws ConfigError listing every problem.
 */
export function parseVigilConfig(text: string, source = "config"): VigilConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${source}: YAML ${e.message.split("\n")[0] ?? ""}`));
  }
  const result = VigilConfigSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues, source));
  return result.data;
}

/** Reads and validates the config file at `path`. */
export function loadVigilConfig(path: string): VigilConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError([`${path}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? "error"})`]);
  }
  return parseVigilConfig(text, path);
}

function formatIssues(issues: readonly z.core.$ZodIssue[], source: string): string[] {
  return issues.map((issue) => {
    const path = issue.path.length === 0 ? "(top level)" : issue.path.join(".");
    return `${source}: ${path}: ${issue.message}`;
  });
}
