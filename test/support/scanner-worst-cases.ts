import { SECRET_RULES } from "@vigil/secrets";

/**
 * Texts that make a backtracking regex work hardest: each rule's keywords (and the
 * prefixes its pattern needs) repeated, or followed by long runs of the characters
 * its quantifiers take, alone and interleaved. Used by the scanner's linear-time test
 * and by `bench/scanner-worst.ts`.
 */
const FILLERS = ["A", "a", "0", "-", " ", "=", "/", ".", ":", "aB3", "\n", "@", "Q~", "T3BlbkFJ", "eyJ", "x.", "a:"];

/** Prefixes a pattern needs beyond its keyword, so the hard part of the pattern is reached. */
const PREFIXES: Record<string, string[]> = {
  "private-key": ["-----BEGIN RSA PRIVATE KEY-----"],
  "aws-secret-access-key": ["aws secret "],
  "database-url-password": ["postgres://u:"],
  "url-basic-auth-password": ["http://u:"],
  "authorization-basic": ["authorization: basic "],
  "generic-credential-assignment": ["password=", "token: "],
  "telegram-bot-token": ["123456789:AA"],
  "datadog-api-key": ["datadog_api_key="],
};

/** Candidate worst cases of one rule, each `size` characters long. */
export function worstCaseCandidates(ruleId: string, size: number): string[] {
  const rule = SECRET_RULES.find((r) => r.id === ruleId);
  if (rule === undefined) throw new Error(`no rule ${ruleId}`);
  const out: string[] = [];
  const fill = (unit: string) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
  for (const k of [...rule.keywords, ...(PREFIXES[ruleId] ?? [])]) {
    out.push(fill(k));
    for (const f of FILLERS) {
      const run = (k + f.repeat(Math.ceil(size / f.length))).slice(0, size - 1);
      out.push(`${run} `, `${run}a`); // a run that ends, or that turns into another kind of character
      for (const n of [1, 8, 40]) out.push(fill(k + f.repeat(n)));
    }
  }
  return out;
}

/** Ordinary text of `size` characters: what a plain scan costs. */
export function proseOf(size: number): string {
  const words = "the agent read the ticket and replied to the customer about their order status today".split(" ");
  let out = "";
  for (let i = 0; out.length < size; i++) out += `${words[(i * 7) % words.length]} `;
  return out.slice(0, size);
}
