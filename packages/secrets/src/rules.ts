/**
 * Credential families, in the spirit of gitleaks' rule set: a regex per family, with the
 * secret in capture group 1 when only part of the match is secret (a password inside a
 * connection string, a token after "Bearer"). Ordered from most to least specific: the
 * first rule to claim a span of text wins.
 */
export interface SecretRule {
  id: string;
  /**
   * Must have the `g` flag. Group 1, when present, is the secret; else the whole match.
   * Every rule must run in linear time on any text (a test feeds each its worst case):
   * a match may start only where a run of its characters starts (a lookbehind, not
   * `\b`, which lets every position inside a run start a new attempt), and every
   * quantifier that can meet a long run is bounded.
   */
  pattern: RegExp;
  /**
   * For secrets between two markers (PEM blocks): the secret runs from the pattern's
   * match to the next match of this, searched forward once. A lazy `[\s\S]*?` between
   * the markers would rescan the rest of the text from every header without a footer.
   */
  endsAt?: RegExp;
  /** Lower-case words one of which must appear in the text for the rule to run (a cheap pre-filter). */
  keywords: readonly string[];
  /** Minimum Shannon entropy (bits per character) of the secret, for rules that also catch ordinary words. */
  minEntropy?: number;
}

export const SECRET_RULES: readonly SecretRule[] = [
  {
    id: "private-key",
    pattern: /-----BEGIN[ A-Z0-9_-]{0,30}PRIVATE KEY(?: BLOCK)?-----/g,
    endsAt: /-----END[ A-Z0-9_-]{0,30}PRIVATE KEY(?: BLOCK)?-----/g,
    keywords: ["private key"],
  },
  {
    id: "aws-access-key-id",
    pattern: /\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b/g,
    keywords: ["akia", "asia", "abia", "acca"],
  },
  {
    id: "aws-secret-access-key",
    pattern: /aws.{0,25}?(?:secret|private).{0,25}?["'=:\s]{1,5}([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/gi,
    keywords: ["aws"],
    minEntropy: 3.5,
  },
  { id: "gcp-api-key", pattern: /\b(AIza[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])/g, keywords: ["aiza"] },
  { id: "gcp-oauth-client-secret", pattern: /\b(GOCSPX-[A-Za-z0-9_-]{28})(?![A-Za-z0-9_-])/g, keywords: ["gocspx-"] },
  {
    id: "gcp-service-account-key-id",
    pattern: /"private_key_id"\s*:\s*"([a-f0-9]{40})"/g,
    keywords: ["private_key_id"],
  },
  { id: "azure-storage-key", pattern: /AccountKey=([A-Za-z0-9+/]{86}==)/g, keywords: ["accountkey="] },
  {
    id: "azure-ad-client-secret",
    pattern: /(?:^|[\s"'=:])([a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34})(?![a-zA-Z0-9_~.-])/g,
    keywords: ["q~"],
  },
  { id: "github-pat", pattern: /\b(ghp_[0-9a-zA-Z]{36})\b/g, keywords: ["ghp_"] },
  { id: "github-fine-grained-pat", pattern: /\b(github_pat_[0-9a-zA-Z_]{82})\b/g, keywords: ["github_pat_"] },
  {
    id: "github-app-token",
    pattern: /\b((?:gho|ghu|ghs|ghr)_[0-9a-zA-Z]{36})\b/g,
    keywords: ["gho_", "ghu_", "ghs_", "ghr_"],
  },
  { id: "gitlab-pat", pattern: /\b(glpat-[0-9a-zA-Z_-]{20,})(?![0-9a-zA-Z_-])/g, keywords: ["glpat-"] },
  {
    id: "slack-token",
    pattern: /\b(xox[baprs]-[0-9A-Za-z]{1,}-[0-9A-Za-z-]{8,})\b/g,
    keywords: ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"],
  },
  {
    id: "slack-webhook-url",
    pattern: /(https:\/\/hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9+/]{40,})/g,
    keywords: ["hooks.slack.com"],
  },
  {
    id: "stripe-secret-key",
    pattern: /\b((?:sk|rk)_(?:live|test|prod)_[0-9a-zA-Z]{24,99})\b/g,
    keywords: ["sk_", "rk_"],
  },
  {
    id: "anthropic-api-key",
    pattern: /(?<![A-Za-z0-9_-])(sk-ant-[a-z0-9]{2,10}-[A-Za-z0-9_-]{40,200})(?![A-Za-z0-9_-])/g,
    keywords: ["sk-ant-"],
  },
  {
    id: "openai-api-key",
    pattern:
      /(?<![A-Za-z0-9_-])(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250}|sk-[A-Za-z0-9]{48})(?![A-Za-z0-9_-])/g,
    keywords: ["sk-"],
  },
  { id: "huggingface-token", pattern: /\b(hf_[A-Za-z]{34})\b/g, keywords: ["hf_"] },
  { id: "npm-token", pattern: /\b(npm_[A-Za-z0-9]{36})\b/g, keywords: ["npm_"] },
  { id: "pypi-token", pattern: /\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})/g, keywords: ["pypi-ageichlwas5vcmc"] },
  {
    id: "sendgrid-api-key",
    pattern: /\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/g,
    keywords: ["sg."],
  },
  { id: "twilio-api-key", pattern: /\b(SK[0-9a-f]{32})\b/g, keywords: ["sk"] },
  { id: "mailgun-api-key", pattern: /\b(key-[0-9a-f]{32})\b/g, keywords: ["key-"] },
  {
    id: "shopify-token",
    pattern: /\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b/g,
    keywords: ["shpat_", "shpca_", "shppa_", "shpss_"],
  },
  { id: "digitalocean-token", pattern: /\b(do[opr]_v1_[a-f0-9]{64})\b/g, keywords: ["_v1_"] },
  { id: "atlassian-api-token", pattern: /\b(ATATT3[A-Za-z0-9_=-]{150,})/g, keywords: ["atatt3"] },
  {
    id: "telegram-bot-token",
    pattern: /(?<![0-9])(\d{8,10}:AA[0-9A-Za-z_-]{33})(?![0-9A-Za-z_-])/g,
    keywords: [":aa"],
  },
  {
    id: "discord-bot-token",
    pattern: /\b([MN][A-Za-z\d]{23,25}\.[\w-]{6}\.[\w-]{27,38})\b/g,
    keywords: ["."],
    minEntropy: 4,
  },
  {
    id: "datadog-api-key",
    pattern: /(?:datadog|\bdd)[_\s-]?(?:api|app)[_\s-]?key.{0,20}?["'=:\s]{1,5}([a-f0-9]{32,40})\b/gi,
    keywords: ["datadog", "dd_api", "dd_app", "dd-api", "dd-app"],
  },
  {
    id: "jwt",
    pattern:
      /(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{16,1024})(?![A-Za-z0-9_-])/g,
    keywords: ["eyj"],
  },
  {
    id: "database-url-password",
    pattern:
      /\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|clickhouse|jdbc:[a-z]+):\/\/[^\s:/@"']+:([^\s@/"']{3,})@/gi,
    keywords: ["://"],
  },
  { id: "url-basic-auth-password", pattern: /\bhttps?:\/\/[^\s:/@"']+:([^\s@/"']{6,})@/gi, keywords: ["://"] },
  {
    id: "authorization-bearer",
    pattern: /\bbearer\s+([A-Za-z0-9._~+/-]{16,}=*)/gi,
    keywords: ["bearer"],
    minEntropy: 3,
  },
  {
    id: "authorization-basic",
    pattern: /\bauthorization\s*["']?\s*[:=]\s*["']?basic\s+([A-Za-z0-9+/]{12,}={0,2})/gi,
    keywords: ["basic"],
  },
  {
    id: "generic-credential-assignment",
    pattern:
      /\b(?:password|passwd|pwd|secret|secret[_-]?key|api[_-]?key|apikey|access[_-]?token|auth[_-]?token|client[_-]?secret|private[_-]?key|token)\b["']?\s*(?:[:=]|=>|:=)\s*["']?([^\s"',;}{)(]{8,})/gi,
    keywords: ["pass", "pwd", "secret", "key", "token"],
    minEntropy: 3,
  },
];

/** The rule for unanchored high-entropy strings (no keyword around them). */
export const HIGH_ENTROPY_RULE_ID = "high-entropy-string";
