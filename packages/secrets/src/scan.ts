import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import { shannonEntropy } from "./entropy";
import { HIGH_ENTROPY_RULE_ID, SECRET_RULES } from "./rules";
import type { SecretRule } from "./rules";

/** One credential found in a text: where it is and which family it belongs to. */
export interface SecretFinding {
  rule: string;
  start: number;
  end: number;
  /** First 12 hex of the secret's SHA-256: lets a responder match the credential to rotate. */
  fingerprint: string;
}

interface CompiledRule {
  rule: SecretRule;
  // The `d` flag gives group offsets, so only the secret part of a match is redacted.
  re: RegExp;
  endsAt: RegExp | undefined;
}

const withIndices = (re: RegExp) => new RegExp(re.source, re.flags.includes("d") ? re.flags : `${re.flags}d`);

const COMPILED: readonly CompiledRule[] = SECRET_RULES.map((rule) => ({
  rule,
  re: withIndices(rule.pattern),
  endsAt: rule.endsAt === undefined ? undefined : new RegExp(rule.endsAt.source, rule.endsAt.flags),
}));

// Every rule keyword in one alternation: one pass over a text tells which rules can
// match at all, instead of one search per rule (most texts match none). Keywords overlap
// ("0." inside "j0.atlasv1."): the search resumes one character after each match, and a
// match also counts for the keywords it starts with ("sk" in "sk_").
const KEYWORD_LIST = [...new Set(SECRET_RULES.flatMap((r) => r.keywords))].sort((a, b) => b.length - a.length);
const KEYWORDS = new RegExp(KEYWORD_LIST.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
const KEYWORD_PREFIXES = new Map(KEYWORD_LIST.map((k) => [k, KEYWORD_LIST.filter((p) => k.startsWith(p))]));

/** The fewest characters between a PEM header and footer for the block to be a key. */
const MIN_BLOCK_BODY = 16;

/** Shorter texts cannot hold a credential any rule recognises (the shortest is a 12-char assignment value). */
const MIN_SCANNED_LENGTH = 12;

/** Values that are obviously not real credentials: templates, masks, documentation. */
const PLACEHOLDER =
  /^(?:\$\{.*\}|\$[A-Z_]+|<[^>]*>|\{\{.*\}\}|%[a-z_]+%|\*+|x+|\.+|-+|null|none|undefined|true|false)$|redacted|example|placeholder|changeme|your[_-]?(?:api|secret|token|key|pass)/i;

// Long runs of token characters: candidates for the unanchored high-entropy rule. The
// lookbehind makes a run fail once at its start instead of at every character in it.
const TOKEN_RUN = /(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_=-]{32,}/g;
const HEX_ONLY = /^[0-9a-fA-F]+$/;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/**
 * Finds credentials in a text: the known families first (cloud keys, tokens, private
 * keys, connection strings with passwords, ...), then long high-entropy strings that no
 * family claims. Filters keep look-alikes out: hashes and ids (hex only), UUIDs, data
 * URIs and base64 blobs, placeholders.
 */
export function scanSecrets(text: string): SecretFinding[] {
  if (text.length < MIN_SCANNED_LENGTH || CLEAN.has(text)) return [];
  const findings = scanUncached(text);
  // Only texts without secrets are remembered, so the cache never holds a credential.
  if (findings.length === 0 && text.length <= MAX_CACHED_LENGTH) CLEAN.set(text, true);
  return findings;
}

/**
 * Attribute values repeat across spans (model and tool names, SQL text, hosts): texts
 * already found clean are not scanned again. Long texts (prompts) are rarely repeated.
 */
const CLEAN = new LRUCache<string, true>({ max: 50_000 });
const MAX_CACHED_LENGTH = 2048;

function scanUncached(text: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  let present: Set<string> | undefined;
  // Keywords are lower case; matching them against a lower-cased copy is faster than a case-insensitive regex.
  const lower = text.toLowerCase();
  KEYWORDS.lastIndex = 0;
  for (let k = KEYWORDS.exec(lower); k !== null; k = KEYWORDS.exec(lower)) {
    present ??= new Set();
    for (const p of KEYWORD_PREFIXES.get(k[0]) ?? [k[0]]) present.add(p);
    KEYWORDS.lastIndex = k.index + 1;
  }
  for (const { rule, re, endsAt } of COMPILED) {
    if (present === undefined || !rule.keywords.some((k) => present.has(k))) continue;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m[0].length === 0) re.lastIndex++;
      let range = m.indices?.[1] ?? m.indices?.[0];
      if (range === undefined) continue;
      if (endsAt !== undefined) {
        endsAt.lastIndex = re.lastIndex + MIN_BLOCK_BODY;
        const footer = endsAt.exec(text);
        if (footer === null) break; // no footer after this header, so none after a later one
        range = [m.index, endsAt.lastIndex];
        re.lastIndex = endsAt.lastIndex;
      }
      const [start, end] = range;
      const secret = text.slice(start, end);
      if (rule.minEntropy !== undefined && shannonEntropy(secret) < rule.minEntropy) continue;
      if (PLACEHOLDER.test(secret) || isFiller(secret)) continue;
      addFinding(findings, rule.id, start, end, secret);
    }
  }
  scanHighEntropy(text, findings);
  return findings;
}

function scanHighEntropy(text: string, findings: SecretFinding[]): void {
  TOKEN_RUN.lastIndex = 0;
  for (let m = TOKEN_RUN.exec(text); m !== null; m = TOKEN_RUN.exec(text)) {
    const [from, to] = trimPunctuation(m[0]);
    const token = m[0].slice(from, to);
    const start = m.index + from;
    if (isPath(token)) {
      // A file path through a random directory name (mktemp, a cache's content hash) is
      // not a key: each segment is judged alone, so only a long random one is redacted.
      let at = start;
      for (const segment of token.split("/")) {
        if (isRandomLooking(segment, text, at))
          addFinding(findings, HIGH_ENTROPY_RULE_ID, at, at + segment.length, segment);
        at += segment.length + 1;
      }
      continue;
    }
    if (!isRandomLooking(token, text, start)) continue;
    addFinding(findings, HIGH_ENTROPY_RULE_ID, start, start + token.length, token);
  }
}

/**
 * Slash-separated with at least two segments that are lower-case words ("node_modules",
 * "chrome-linux"): a path. Base64 keys contain slashes too, but two all-lower-case word
 * segments in random base64 are vanishingly rare.
 */
const PATH_WORD = /^[a-z]{2,}(?:[_-][a-z0-9]+)*$/;
function isPath(token: string): boolean {
  if (!token.includes("/")) return false;
  let words = 0;
  for (const segment of token.split("/")) if (PATH_WORD.test(segment) && ++words >= 2) return true;
  return false;
}

/**
 * The run without its leading and trailing `= / + _ -`. A loop, not a regex: an
 * unanchored `[=/+_-]+$` backtracks from every position of a long run of them followed
 * by a letter (quadratic: 0.7 s for 20 KB).
 */
function trimPunctuation(run: string): [number, number] {
  const punct = (c: number) => c === 0x3d || c === 0x2f || c === 0x2b || c === 0x5f || c === 0x2d;
  let from = 0;
  let to = run.length;
  while (from < to && punct(run.charCodeAt(from))) from++;
  while (to > from && punct(run.charCodeAt(to - 1))) to--;
  return [from, to];
}

function isRandomLooking(token: string, text: string, start: number, minLength = 32): boolean {
  if (token.length < minLength || token.length > 256) return false; // longer runs are blobs (images, payloads)
  if (HEX_ONLY.test(token) || UUID.test(token)) return false; // hashes, trace ids, commit SHAs
  if (/^sha(?:256|384|512)-/.test(token)) return false; // subresource integrity (package locks)
  // OpenSSH public keys ("ssh-ed25519 AAAA..."): public by design.
  if (
    /(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-[a-z0-9]+|sk-ssh-ed25519@openssh\.com) $/.test(
      text.slice(Math.max(0, start - 40), start),
    )
  )
    return false;
  if (/base64,\s*$/.test(text.slice(Math.max(0, start - 16), start))) return false; // data URIs
  if (!/[a-z]/.test(token) || !/[A-Z]/.test(token) || !/[0-9]/.test(token)) return false;
  if (/^[A-Za-z]+(?:[-_][A-Za-z]+)+$/.test(token)) return false; // identifiers-like-this
  if (shannonEntropy(token) < 4.3) return false;
  return !isBase64OfText(token);
}

/**
 * A token's shape filled with one repeated character ("ghp_xxxx…", "sk-0000…"): what
 * documentation and templates show. Real random secrets of 16 characters or more
 * practically never have fewer than 8 distinct characters.
 */
function isFiller(secret: string): boolean {
  return secret.length >= 16 && new Set(secret).size < 8;
}

/** Base64 that decodes to readable text is encoded content, not a key (keys decode to noise). */
function isBase64OfText(token: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return false;
  const bytes = Buffer.from(token, "base64");
  let printable = 0;
  for (const b of bytes) if ((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x09) printable++;
  return printable / bytes.length > 0.95;
}

/**
 * Adds a finding unless a more specific rule already claimed part of its text. Findings
 * are kept sorted by start and never overlap, so the check is a binary search (a text
 * can hold tens of thousands of matches; a linear check per match was quadratic).
 */
function addFinding(findings: SecretFinding[], rule: string, start: number, end: number, secret: string): void {
  let lo = 0;
  let hi = findings.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((findings[mid] as SecretFinding).start < start) lo = mid + 1;
    else hi = mid;
  }
  const before = findings[lo - 1];
  const after = findings[lo];
  if ((before !== undefined && before.end > start) || (after !== undefined && after.start < end)) return;
  const finding = { rule, start, end, fingerprint: fingerprintOf(secret) };
  if (lo === findings.length) findings.push(finding);
  else findings.splice(lo, 0, finding);
}

/** The fingerprint shown in place of a secret: first 12 hex of its SHA-256. */
export function fingerprintOf(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex").slice(0, 12);
}

/** The marker that replaces a secret in stored text. */
export function redactionMarker(rule: string, fingerprint: string): string {
  return `[REDACTED:${rule}:${fingerprint}]`;
}

/**
 * The most characters of one string that are scanned, and so the most that are kept:
 * every rule is linear, but at its worst about 0.25 µs per character, so one string
 * of the 64 MiB a request may carry would hold the event loop for seconds. Longer
 * strings (far beyond any prompt) keep their first MAX_SCANNED_CHARS and a marker.
 */
export const MAX_SCANNED_CHARS = 1 << 20;

function withinScanBudget(text: string): string {
  if (text.length <= MAX_SCANNED_CHARS) return text;
  // Never cut between the two halves of a surrogate pair: a lone half cannot be stored.
  const high = text.charCodeAt(MAX_SCANNED_CHARS - 1);
  const cut = high >= 0xd800 && high <= 0xdbff ? MAX_SCANNED_CHARS - 1 : MAX_SCANNED_CHARS;
  return `${text.slice(0, cut)}[TRUNCATED: ${text.length - cut} more characters, past what ingest scans for secrets]`;
}

// `\u00XX` escapes of the characters credentials are made of, and `\/`.
// (An escape only counts after an even run of backslashes: `\\u002e` is a backslash.)
const ESCAPED_TOKEN_CHARACTER = /(?<!\\)((?:\\\\)*)(?:\\u00(2[bdef]|3[0-9d]|[46][1-9a-f]|[57][0-9a]|5f|7e)|\\\/)/gi;

/**
 * JSON text inside a string (a list of messages, tool arguments) may spell a credential
 * with escapes (`eyJ…\u002eeyJ…`) that no rule reads. Escapes of letters, digits and
 * `+ - . / = _ ~` are decoded before scanning: inside a JSON string the decoded form is
 * the same value, so the text stays valid JSON. Other escapes (quotes, controls) stay.
 */
function unescapeTokenCharacters(text: string): string {
  if (!text.includes("\\")) return text;
  return text.replace(
    ESCAPED_TOKEN_CHARACTER,
    (_escape: string, backslashes: string, hex: string | undefined) =>
      backslashes + (hex === undefined ? "/" : String.fromCharCode(Number.parseInt(hex, 16))),
  );
}

/**
 * Replaces every credential in a text with `[REDACTED:<rule>:<fingerprint>]`.
 *
 * @example
 * redactSecrets("key AKIAIOSFODNN7EXAMPLE").text // "key [REDACTED:aws-access-key-id:…]"
 */
export function redactSecrets(whole: string): { text: string; findings: SecretFinding[] } {
  const kept = withinScanBudget(whole);
  const text = unescapeTokenCharacters(kept);
  const findings = scanSecrets(text);
  // Without a credential the text is stored as it came, escapes and all.
  if (findings.length === 0) return { text: kept, findings };
  let out = "";
  let at = 0;
  for (const f of findings) {
    out += text.slice(at, f.start) + redactionMarker(f.rule, f.fingerprint);
    at = f.end;
  }
  return { text: out + text.slice(at), findings };
}

/**
 * True when a value looks like a credential itself rather than an id for one: the
 * agent SDK refuses such values where it expects a credential id.
 */
export function looksLikeSecret(value: string): boolean {
  return scanSecrets(value).length > 0 || isRandomLooking(value, value, 0, 24);
}
