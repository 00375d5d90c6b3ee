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
    // A sentence's full stop after the secret is not part of it.
    pattern: /(?:^|[\s"'=:])([a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34})(?![a-zA-Z0-9_~-]|\.[a-zA-Z0-9_~.-])/g,
    keywords: ["q~"],
  },
  { id: "github-pat", pattern: /\b(ghp_[0-9a-zA-Z]{36})\b/g, keywords: ["ghp_"] },
  { id: "github-fine-grained-pat", pattern: /\b(github_pat_[0-9a-zA-Z_]{82})\b/g, keywords: ["github_pat_"] },
  {
    id: "github-app-token",
    pattern: /\b((?:gho|ghu|ghs|ghr)_[0-9a-zA-Z]{36})\b/g,
    keywords: ["gho_", "ghu_", "ghs_", "ghr_"],
  },
  {
    // Every GitLab token prefix (docs.gitlab.com/security/tokens/#token-prefixes), legacy
    // 20-character bodies and the routable format with its ".01.<crc>" suffix.
    id: "gitlab-token",
    pattern:
      /(?<![A-Za-z0-9_-])((?:glpat|gldt|glrt|glft|glimt|glagent|glsoat|glffct|glptt|glcbt|gloas|glwt)-[0-9a-zA-Z_-]{20,100}(?:\.[0-9a-z]{2}\.[0-9a-z]{7,9})?|GR1348941[0-9a-zA-Z_-]{20,40})(?![0-9a-zA-Z_-])/g,
    keywords: [
      "glpat-",
      "gldt-",
      "glrt-",
      "glft-",
      "glimt-",
      "glagent-",
      "glsoat-",
      "glffct-",
      "glptt-",
      "glcbt-",
      "gloas-",
      "glwt-",
      "gr1348941",
    ],
  },
  {
    // Bot, user, app-level, rotating (xoxe.) and refresh tokens (api.slack.com/authentication/token-types).
    id: "slack-token",
    pattern: /(?<![A-Za-z0-9.-])((?:xox[abceoprs]|xoxe\.xox[bp]|xapp)-\d{1,20}-[0-9A-Za-z-]{8,400})(?![0-9A-Za-z-])/g,
    keywords: ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-", "xoxc-", "xoxe-", "xoxo-", "xoxe.", "xapp-"],
  },
  {
    id: "slack-webhook-url",
    pattern: /(https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9+/]{40,300})/g,
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
    // Datadog keys have no prefix: only a name next to them tells (DD_API_KEY, DD-APPLICATION-KEY, ...).
    pattern:
      /(?:datadog|\bdd)[_\s-]?(?:api|app|application)[_\s-]?key["']?.{0,20}?["'=:\s]{1,5}([a-f0-9]{32}|[a-f0-9]{40})(?![a-f0-9])/gi,
    keywords: ["datadog", "dd_api", "dd_app", "dd-api", "dd-app", "dd api", "dd app"],
  },
  // Prefixed tokens, one rule per issuer: the prefix is what the issuer documents (see
  // test/corpora/credential-formats.ts for the sources), the body its alphabet and length.
  ...prefixed("vault-token", ["hvs.", "hvb.", "hvr."], "A-Za-z0-9_-", 24, 300),
  {
    id: "doppler-token",
    pattern:
      /(?<![A-Za-z0-9_.-])(dp\.(?:st|ct|pt|sa|scim|audit)\.(?:[a-z0-9_-]{1,30}\.)?[A-Za-z0-9]{40,44})(?![A-Za-z0-9])/g,
    keywords: ["dp.st.", "dp.ct.", "dp.pt.", "dp.sa.", "dp.scim.", "dp.audit."],
  },
  ...prefixed("1password-service-account-token", ["ops_eyJ"], "A-Za-z0-9+/_=-", 100, 5000),
  {
    id: "bitwarden-access-token",
    pattern:
      /(?<![A-Za-z0-9.])(0\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[A-Za-z0-9]{30}:[A-Za-z0-9+/]{22}={0,2})/g,
    keywords: ["0."],
  },
  {
    id: "terraform-cloud-token",
    pattern: /(?<![A-Za-z0-9])([a-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})(?![A-Za-z0-9_=-])/g,
    keywords: [".atlasv1."],
  },
  ...prefixed("pulumi-token", ["pul-"], "a-f0-9", 40, 40),
  ...prefixed("octopus-api-key", ["API-"], "A-Z0-9", 25, 32, true),
  {
    id: "harness-token",
    pattern: /(?<![A-Za-z0-9_.-])(pat\.[A-Za-z0-9_-]{22}\.[a-f0-9]{24}\.[A-Za-z0-9]{20})(?![A-Za-z0-9])/g,
    keywords: ["pat."],
  },
  ...prefixed("age-secret-key", ["AGE-SECRET-KEY-1"], "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58, 58),
  {
    id: "circleci-token",
    pattern: /(?<![A-Za-z0-9_-])(CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40})(?![A-Za-z0-9])/g,
    keywords: ["ccipat_"],
  },
  ...prefixed("buildkite-token", ["bkua_"], "a-f0-9", 40, 40),
  ...prefixed("sentry-token", ["sntrys_eyJ"], "A-Za-z0-9+/_=-", 60, 1000),
  ...prefixed("sentry-user-token", ["sntryu_"], "a-f0-9", 64, 64),
  {
    id: "postman-api-key",
    pattern: /(?<![A-Za-z0-9_-])(PMAK-[a-f0-9]{24}-[a-f0-9]{34})(?![A-Za-z0-9])/g,
    keywords: ["pmak-"],
  },
  ...prefixed("heroku-api-key", ["HRKU-"], "A-Za-z0-9_-", 50, 80),
  ...prefixed("netlify-token", ["nfp_", "nfc_", "nfo_"], "A-Za-z0-9", 36, 40),
  ...prefixed("linear-api-key", ["lin_api_", "lin_oauth_"], "A-Za-z0-9", 40, 64),
  {
    id: "grafana-token",
    pattern:
      /(?<![A-Za-z0-9_-])(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_eyJ[A-Za-z0-9+/_-]{30,1000}={0,2})(?![A-Za-z0-9+/_=-])/g,
    keywords: ["glsa_", "glc_eyj"],
  },
  ...prefixed("sonarqube-token", ["sqp_", "squ_", "sqa_"], "a-f0-9", 40, 40),
  ...prefixed("docker-hub-token", ["dckr_pat_", "dckr_oat_"], "A-Za-z0-9_-", 27, 40),
  ...prefixed("jfrog-token", ["cmVmdGtuOjAxOj"], "A-Za-z0-9", 40, 80),
  ...prefixed("jfrog-api-key", ["AKCp"], "A-Za-z0-9", 60, 80, true),
  ...prefixed("figma-token", ["figd_", "figu_"], "A-Za-z0-9_-", 38, 50),
  ...prefixed("new-relic-key", ["NRAK-", "NRJS-", "NRII-"], "A-Z0-9", 27, 32, true),
  ...prefixed("supabase-token", ["sbp_", "sbp_v0_"], "a-f0-9", 40, 40),
  ...prefixed("planetscale-token", ["pscale_tkn_", "pscale_pw_", "pscale_oauth_"], "A-Za-z0-9_.=-", 32, 64),
  ...prefixed("fly-token", ["fo1_", "fm1r_", "fm2_"], "A-Za-z0-9_-", 40, 600),
  ...prefixed("databricks-token", ["dapi"], "a-f0-9", 32, 32, false, "(?:-\\d)?"),
  ...prefixed("rubygems-token", ["rubygems_"], "a-f0-9", 48, 48),
  ...prefixed("nuget-api-key", ["oy2"], "a-z0-9", 43, 43),
  ...prefixed("prefect-api-key", ["pnu_"], "A-Za-z0-9", 36, 36),
  ...prefixed("readme-api-key", ["rdme_"], "a-z0-9", 70, 70),
  ...prefixed("replicate-token", ["r8_"], "A-Za-z0-9", 37, 37),
  ...prefixed("groq-api-key", ["gsk_"], "A-Za-z0-9", 52, 52),
  ...prefixed("perplexity-api-key", ["pplx-"], "A-Za-z0-9", 48, 48),
  ...prefixed("xai-api-key", ["xai-"], "A-Za-z0-9", 80, 80),
  {
    id: "notion-token",
    pattern: /(?<![A-Za-z0-9_-])(ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})(?![A-Za-z0-9])/g,
    keywords: ["ntn_", "secret_"],
  },
  {
    id: "airtable-token",
    pattern: /(?<![A-Za-z0-9_-])(pat[A-Za-z0-9]{14}\.[a-f0-9]{64})(?![A-Za-z0-9])/g,
    keywords: ["pat"],
  },
  ...prefixed("square-token", ["EAAA", "sq0atp-", "sq0csp-"], "A-Za-z0-9_-", 22, 100, true),
  {
    id: "braintree-token",
    pattern: /(access_token\$(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32})/g,
    keywords: ["access_token$"],
  },
  {
    id: "mailchimp-api-key",
    pattern: /(?<![A-Za-z0-9])([a-f0-9]{32}-us[0-9]{1,2})(?![A-Za-z0-9])/g,
    keywords: ["-us"],
  },
  ...prefixed("alibaba-access-key-id", ["LTAI"], "A-Za-z0-9", 20, 24, true),
  ...prefixed("tencent-secret-id", ["AKID"], "A-Za-z0-9", 32, 32, true),
  {
    id: "cloudflare-origin-ca-key",
    pattern: /(?<![A-Za-z0-9.-])(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})(?![A-Za-z0-9])/g,
    keywords: ["v1.0-"],
  },
  {
    id: "azure-shared-access-key",
    pattern: /SharedAccessKey=([A-Za-z0-9+/]{42,44}={0,2})/g,
    keywords: ["sharedaccesskey="],
  },
  {
    id: "azure-sas-signature",
    pattern: /[?&]sig=([A-Za-z0-9%+/]{30,120}(?:=|%3D){0,2})/gi,
    keywords: ["sig="],
  },
  {
    // The 84-character format carries "AZDO" at a fixed place; the 52-character one has no marker.
    id: "azure-devops-pat",
    pattern: /(?<![A-Za-z0-9])([A-Za-z0-9]{52}AAASAZDO[A-Za-z0-9]{24})(?![A-Za-z0-9])/g,
    keywords: ["azdo"],
  },
  {
    id: "azure-devops-pat-legacy",
    pattern:
      /(?:azure|ado|devops)[\w.-]{0,20}?(?:pat|token)[\w-]{0,10}["'\]]{0,2}[ \t]{0,4}(?:[:=]|=>)?[ \t]{0,4}["']?([a-z2-7]{52})(?![a-z0-9])/gi,
    keywords: ["azure", "ado", "devops"],
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

/**
 * A rule for a token that starts with one of `prefixes` and continues with `min` to
 * `max` characters of `body` (a character class without brackets). It starts only where
 * a run of token characters starts, and the character after it must not continue the
 * body, so a longer run is not half-redacted. `caseSensitivePrefix` is for prefixes
 * that are also words (API-, EAAA): only the exact case matches.
 */
function prefixed(
  id: string,
  prefixes: readonly string[],
  body: string,
  min: number,
  max: number,
  caseSensitivePrefix = true,
  suffix = "",
): SecretRule[] {
  void caseSensitivePrefix; // every rule here is case-sensitive; the flag documents intent
  const escape = (p: string) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const alternatives = prefixes.map(escape).join("|");
  return [
    {
      id,
      pattern: new RegExp(`(?<![A-Za-z0-9_-])((?:${alternatives})[${body}]{${min},${max}}${suffix})(?![${body}])`, "g"),
      keywords: prefixes.map((p) => p.toLowerCase()),
    },
  ];
}
