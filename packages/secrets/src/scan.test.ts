import { describe, expect, it } from "vitest";
import { buildCorpus } from "./corpus";
import { looksLikeSecret, redactSecrets, scanSecrets } from "./scan";
import { SECRET_RULES } from "./rules";

const corpus = buildCorpus();
const secrets = corpus.filter((l) => l.rule !== undefined);
const lookAlikes = corpus.filter((l) => l.rule === undefined);

describe("redaction corpus", () => {
  it("has at least 200 lines and covers at least 30 credential families", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    expect(new Set(secrets.map((l) => l.rule)).size).toBeGreaterThanOrEqual(30);
    expect(SECRET_RULES.length).toBeGreaterThanOrEqual(30);
  });

  it("detects the secrets of every family, and reports the rates", () => {
    const missed = secrets.filter((l) => !scanSecrets(l.text).some((f) => f.rule === l.rule));
    const anyRule = secrets.filter((l) => scanSecrets(l.text).length > 0);
    const falsePositives = lookAlikes.filter((l) => scanSecrets(l.text).length > 0);
    console.log(
      `redaction corpus: ${secrets.length} secrets, detected ${anyRule.length} (${((100 * anyRule.length) / secrets.length).toFixed(1)}%), ` +
        `by the expected family ${secrets.length - missed.length}; ${lookAlikes.length} look-alikes, ` +
        `false positives ${falsePositives.length} (${((100 * falsePositives.length) / lookAlikes.length).toFixed(1)}%)`,
    );
    expect(missed.map((l) => `${l.rule}: ${l.text}`)).toEqual([]);
    expect(falsePositives.map((l) => `${scanSecrets(l.text)[0]?.rule}: ${l.text}`)).toEqual([]);
  });

  it("leaves nothing of the secret in the redacted text", () => {
    for (const line of secrets) {
      const { text, findings } = redactSecrets(line.text);
      for (const f of findings) expect(text).not.toContain(line.text.slice(f.start, f.end));
      expect(text).toMatch(/\[REDACTED:[a-z0-9-]+:[0-9a-f]{12}\]/);
    }
  });
});

describe("redaction", () => {
  it("redacts only the password of a connection string, with a stable fingerprint", () => {
    const a = redactSecrets("postgres://app:s3cr3tPassw0rd@db:5432/prod");
    const b = redactSecrets("again: postgres://app:s3cr3tPassw0rd@db:5432/prod");
    expect(a.text).toMatch(/^postgres:\/\/app:\[REDACTED:database-url-password:[0-9a-f]{12}\]@db:5432\/prod$/);
    expect(a.findings[0]?.fingerprint).toBe(b.findings[0]?.fingerprint);
  });

  it("tells a credential id from a credential", () => {
    expect(looksLikeSecret("cred-stripe-live")).toBe(false);
    expect(looksLikeSecret("vault:secret/data/billing#stripe")).toBe(false);
    expect(looksLikeSecret(`sk_live_${"a1B2c3D4".repeat(4)}`)).toBe(true);
    expect(looksLikeSecret("Zq8vN3kP0wT5yR2mL9xC7bV4")).toBe(true);
  });
});

describe("redaction of encoded and unusual places", () => {
  const jwt =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

  it("finds a credential spelled with JSON escapes inside a string (a message list), and keeps the JSON valid", () => {
    const messages = JSON.stringify([{ role: "user", content: `use ${jwt} now` }]).replaceAll(".", "\\u002e");
    expect(messages).not.toContain(jwt);
    const out = redactSecrets(messages);
    expect(out.findings.map((f) => f.rule)).toEqual(["jwt"]);
    expect(JSON.parse(out.text)).toEqual([
      { role: "user", content: expect.stringMatching(/^use \[REDACTED:jwt:\w{12}\] now$/) },
    ]);
  });

  it("leaves escapes alone in text without a credential, and an escaped backslash is not an escape", () => {
    const plain = String.raw`{"path":"a\/b","dot":"\u002e","quote":"\u0022"}`;
    expect(redactSecrets(plain).text).toBe(plain);
    const withKey = String.raw`\\u002e AKIAIOSFODNN7ABCDEFG`;
    expect(redactSecrets(withKey).text).toMatch(/^\\\\u002e \[REDACTED:aws-access-key-id:\w{12}\]$/);
  });
});
