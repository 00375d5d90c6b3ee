/**
 * An external credential corpus for measuring redaction: one entry per credential
 * format, taken from the issuer's own public description of its tokens (the `source`
 * of each), not from Vigil's rules. Each format's secrets are generated in that format
 * from a seeded generator (no real credential is committed) and set in the places
 * agents put them: env files, JSON and YAML config, HTTP headers, URLs, shell, code,
 * log lines, prose. Look-alikes are what must survive: the same prefixes and keywords
 * around values that are not secrets (placeholders, templating, hashes, ids).
 */

export interface CredentialFormat {
  /** The family a person would name (several formats per family). */
  family: string;
  format: string;
  /** Where the format is described. */
  source: string;
  /** A new secret in this format. */
  make: (g: Gen) => string;
  /** Context words an operator would set it under (env var or header names). */
  names: readonly string[];
  /** The part of the secret that is not secret (a public prefix), never required to go. */
  publicPrefix?: number;
}

export interface Gen {
  pick(chars: string, n: number): string;
  int(min: number, max: number): number;
  /** Alphabet of every class at least once (real random tokens practically always are). */
  mixed(chars: string, n: number): string;
}

export const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
export const LOWER = "abcdefghijklmnopqrstuvwxyz";
export const DIGITS = "0123456789";
export const ALNUM = UPPER + LOWER + DIGITS;
export const B64 = `${ALNUM}+/`;
export const B64URL = `${ALNUM}_-`;
export const HEX = "0123456789abcdef";
const LOWER_ALNUM = LOWER + DIGITS;
const UPPER_ALNUM = UPPER + DIGITS;
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
const BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

export function generator(seed: number): Gen {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (chars: string, n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) s += chars[Math.floor(next() * chars.length)];
    return s;
  };
  const mixed = (chars: string, n: number) => {
    const classes = [UPPER, LOWER, DIGITS].filter((c) => [...c].some((ch) => chars.includes(ch)));
    const head = classes.map((c) => pick([...c].filter((ch) => chars.includes(ch)).join(""), 1)).join("");
    const body = head + pick(chars, n - head.length);
    return [...body].sort(() => next() - 0.5).join("");
  };
  return { pick, mixed, int: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}

const uuid = (g: Gen) =>
  `${g.pick(HEX, 8)}-${g.pick(HEX, 4)}-4${g.pick(HEX, 3)}-${g.pick("89ab", 1)}${g.pick(HEX, 3)}-${g.pick(HEX, 12)}`;
const b64json = (g: Gen, n: number) => `eyJ${g.mixed(B64URL, n)}`;

export const FORMATS: readonly CredentialFormat[] = [
  // GitLab: docs.gitlab.com/security/tokens/#token-prefixes
  ...(
    [
      ["personal access token", "glpat-", 20],
      ["deploy token", "gldt-", 20],
      ["runner authentication token", "glrt-", 20],
      ["feed token", "glft-", 20],
      ["incoming mail token", "glimt-", 25],
      ["agent for Kubernetes token", "glagent-", 50],
      ["SCIM token", "glsoat-", 20],
      ["feature flags client token", "glffct-", 20],
    ] as const
  ).map(([format, prefix, n]): CredentialFormat => ({
    family: "GitLab",
    format,
    source: "https://docs.gitlab.com/security/tokens/#token-prefixes",
    make: (g) => `${prefix}${g.mixed(B64URL, n)}`,
    names: ["GITLAB_TOKEN", "CI_JOB_TOKEN", "PRIVATE-TOKEN"],
    publicPrefix: prefix.length,
  })),
  {
    family: "GitLab",
    format: "personal access token (routable, 2025)",
    source: "https://docs.gitlab.com/security/tokens/#token-prefixes",
    make: (g) => `glpat-${g.mixed(B64URL, 27)}.01.${g.pick(LOWER_ALNUM, 9)}`,
    names: ["GITLAB_TOKEN", "PRIVATE-TOKEN"],
    publicPrefix: 6,
  },
  {
    family: "GitLab",
    format: "pipeline trigger token",
    source: "https://docs.gitlab.com/security/tokens/#token-prefixes",
    make: (g) => `glptt-${g.pick(HEX, 40)}`,
    names: ["TRIGGER_TOKEN"],
    publicPrefix: 6,
  },
  {
    family: "GitLab",
    format: "CI/CD job token",
    source: "https://docs.gitlab.com/security/tokens/#token-prefixes",
    make: (g) => `glcbt-${g.pick(HEX, 2)}_${g.mixed(B64URL, 20)}`,
    names: ["CI_JOB_TOKEN"],
    publicPrefix: 6,
  },
  {
    family: "GitLab",
    format: "OAuth application secret",
    source: "https://docs.gitlab.com/security/tokens/#token-prefixes",
    make: (g) => `gloas-${g.pick(HEX, 64)}`,
    names: ["GITLAB_OAUTH_SECRET"],
    publicPrefix: 6,
  },
  {
    family: "GitLab",
    format: "runner registration token (legacy)",
    source: "https://docs.gitlab.com/security/tokens/#token-prefixes",
    make: (g) => `GR1348941${g.mixed(B64URL, 20)}`,
    names: ["REGISTRATION_TOKEN"],
    publicPrefix: 9,
  },

  // Slack: api.slack.com/authentication/token-types, api.slack.com/messaging/webhooks
  {
    family: "Slack",
    format: "bot token",
    source: "https://api.slack.com/authentication/token-types",
    make: (g) => `xoxb-${g.pick(DIGITS, 12)}-${g.pick(DIGITS, 13)}-${g.mixed(ALNUM, 24)}`,
    names: ["SLACK_BOT_TOKEN"],
    publicPrefix: 5,
  },
  {
    family: "Slack",
    format: "user token",
    source: "https://api.slack.com/authentication/token-types",
    make: (g) => `xoxp-${g.pick(DIGITS, 12)}-${g.pick(DIGITS, 12)}-${g.pick(DIGITS, 13)}-${g.pick(HEX, 32)}`,
    names: ["SLACK_USER_TOKEN"],
    publicPrefix: 5,
  },
  {
    family: "Slack",
    format: "app-level token",
    source: "https://api.slack.com/authentication/token-types#app-level",
    make: (g) => `xapp-1-A${g.pick(UPPER_ALNUM, 10)}-${g.pick(DIGITS, 13)}-${g.pick(HEX, 64)}`,
    names: ["SLACK_APP_TOKEN"],
    publicPrefix: 7,
  },
  {
    family: "Slack",
    format: "rotating user token",
    source: "https://api.slack.com/authentication/rotation",
    make: (g) => `xoxe.xoxp-1-${g.mixed(`${ALNUM}-`, 150)}`,
    names: ["SLACK_TOKEN"],
    publicPrefix: 12,
  },
  {
    family: "Slack",
    format: "refresh token (rotation)",
    source: "https://api.slack.com/authentication/rotation",
    make: (g) => `xoxe-1-${g.mixed(`${ALNUM}-`, 140)}`,
    names: ["SLACK_REFRESH_TOKEN"],
    publicPrefix: 7,
  },
  {
    family: "Slack",
    format: "incoming webhook URL",
    source: "https://api.slack.com/messaging/webhooks",
    make: (g) =>
      `https://hooks.slack.com/services/T${g.pick(UPPER_ALNUM, 10)}/B${g.pick(UPPER_ALNUM, 10)}/${g.mixed(ALNUM, 24)}`,
    names: ["SLACK_WEBHOOK_URL"],
    publicPrefix: 32,
  },
  {
    family: "Slack",
    format: "workflow webhook URL",
    source: "https://slack.com/help/articles/360041352714",
    make: (g) =>
      `https://hooks.slack.com/triggers/T${g.pick(UPPER_ALNUM, 10)}/${g.pick(DIGITS, 13)}/${g.pick(HEX, 32)}`,
    names: ["SLACK_WORKFLOW_URL"],
    publicPrefix: 32,
  },

  // Secrets managers
  {
    family: "secrets managers",
    format: "HashiCorp Vault service token",
    source: "https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes",
    make: (g) => `hvs.${g.mixed(B64URL, 91)}`,
    names: ["VAULT_TOKEN"],
    publicPrefix: 4,
  },
  {
    family: "secrets managers",
    format: "HashiCorp Vault batch token",
    source: "https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes",
    make: (g) => `hvb.${g.mixed(B64URL, 138)}`,
    names: ["VAULT_TOKEN"],
    publicPrefix: 4,
  },
  ...(["st", "ct", "pt", "sa", "scim", "audit"] as const).map((kind): CredentialFormat => ({
    family: "secrets managers",
    format: `Doppler ${kind} token`,
    source: "https://docs.doppler.com/docs/token-formats",
    make: (g) => `dp.${kind}.${kind === "st" ? `prd.${g.mixed(ALNUM, 40)}` : g.mixed(ALNUM, 43)}`,
    names: ["DOPPLER_TOKEN"],
    publicPrefix: 4 + kind.length,
  })),
  {
    family: "secrets managers",
    format: "1Password service account token",
    source: "https://developer.1password.com/docs/service-accounts/",
    make: (g) => `ops_${b64json(g, 600)}`,
    names: ["OP_SERVICE_ACCOUNT_TOKEN"],
    publicPrefix: 7,
  },
  {
    family: "secrets managers",
    format: "Bitwarden Secrets Manager access token",
    source: "https://bitwarden.com/help/access-tokens/",
    make: (g) => `0.${uuid(g)}.${g.mixed(ALNUM, 30)}:${g.mixed(B64, 22)}==`,
    names: ["BWS_ACCESS_TOKEN"],
    publicPrefix: 39,
  },

  // Datadog: docs.datadoghq.com/account_management/api-app-keys/ (keys carry no prefix)
  {
    family: "Datadog",
    format: "API key",
    source: "https://docs.datadoghq.com/account_management/api-app-keys/",
    make: (g) => g.pick(HEX, 32),
    names: ["DD_API_KEY", "DATADOG_API_KEY", "DD-API-KEY"],
  },
  {
    family: "Datadog",
    format: "application key",
    source: "https://docs.datadoghq.com/account_management/api-app-keys/",
    make: (g) => g.pick(HEX, 40),
    names: ["DD_APP_KEY", "DATADOG_APP_KEY", "DD-APPLICATION-KEY"],
  },

  // Infrastructure as code
  {
    family: "infrastructure as code",
    format: "Terraform Cloud / Enterprise API token",
    source: "https://developer.hashicorp.com/terraform/cloud-docs/users-teams-organizations/api-tokens",
    make: (g) => `${g.mixed(LOWER_ALNUM, 14)}.atlasv1.${g.mixed(B64URL, 67)}`,
    names: ["TFE_TOKEN", "TF_TOKEN_app_terraform_io"],
  },
  {
    family: "infrastructure as code",
    format: "Pulumi access token",
    source: "https://www.pulumi.com/docs/pulumi-cloud/access-management/access-tokens/",
    make: (g) => `pul-${g.pick(HEX, 40)}`,
    names: ["PULUMI_ACCESS_TOKEN"],
    publicPrefix: 4,
  },
  {
    family: "infrastructure as code",
    format: "Octopus Deploy API key",
    source: "https://octopus.com/docs/octopus-rest-api/how-to-create-an-api-key",
    make: (g) => `API-${g.mixed(UPPER_ALNUM, 26)}`,
    names: ["OCTOPUS_API_KEY"],
    publicPrefix: 4,
  },
  {
    family: "infrastructure as code",
    format: "Harness personal access token",
    source: "https://developer.harness.io/docs/platform/automation/api/add-and-manage-api-keys",
    make: (g) => `pat.${g.mixed(B64URL, 22)}.${g.pick(HEX, 24)}.${g.mixed(ALNUM, 20)}`,
    names: ["HARNESS_API_KEY"],
    publicPrefix: 4,
  },
  {
    family: "infrastructure as code",
    format: "age secret key",
    source: "https://age-encryption.org/v1",
    make: (g) => `AGE-SECRET-KEY-1${g.pick(BECH32, 58)}`,
    names: ["SOPS_AGE_KEY"],
    publicPrefix: 16,
  },

  // CI and developer tools
  {
    family: "CI and developer tools",
    format: "CircleCI personal API token",
    source: "https://circleci.com/docs/managing-api-tokens/",
    make: (g) => `CCIPAT_${g.mixed(ALNUM, 22)}_${g.pick(HEX, 40)}`,
    names: ["CIRCLECI_TOKEN"],
    publicPrefix: 7,
  },
  {
    family: "CI and developer tools",
    format: "Buildkite API access token",
    source: "https://buildkite.com/docs/apis/managing-api-tokens",
    make: (g) => `bkua_${g.pick(HEX, 40)}`,
    names: ["BUILDKITE_API_TOKEN"],
    publicPrefix: 5,
  },
  {
    family: "CI and developer tools",
    format: "Sentry organization auth token",
    source: "https://docs.sentry.io/account/auth-tokens/",
    make: (g) => `sntrys_${b64json(g, 120)}_${g.mixed(B64URL, 43)}`,
    names: ["SENTRY_AUTH_TOKEN"],
    publicPrefix: 7,
  },
  {
    family: "CI and developer tools",
    format: "Sentry user auth token",
    source: "https://docs.sentry.io/account/auth-tokens/",
    make: (g) => `sntryu_${g.pick(HEX, 64)}`,
    names: ["SENTRY_AUTH_TOKEN"],
    publicPrefix: 7,
  },
  {
    family: "CI and developer tools",
    format: "Postman API key",
    source: "https://learning.postman.com/docs/developer/postman-api/authentication/",
    make: (g) => `PMAK-${g.pick(HEX, 24)}-${g.pick(HEX, 34)}`,
    names: ["POSTMAN_API_KEY", "X-Api-Key"],
    publicPrefix: 5,
  },
  {
    family: "CI and developer tools",
    format: "Heroku API key",
    source: "https://devcenter.heroku.com/articles/authentication",
    make: (g) => `HRKU-AA${g.mixed(B64URL, 58)}`,
    names: ["HEROKU_API_KEY"],
    publicPrefix: 7,
  },
  {
    family: "CI and developer tools",
    format: "Netlify personal access token",
    source: "https://docs.netlify.com/api/get-started/#authentication",
    make: (g) => `nfp_${g.mixed(ALNUM, 36)}`,
    names: ["NETLIFY_AUTH_TOKEN"],
    publicPrefix: 4,
  },
  {
    family: "CI and developer tools",
    format: "Linear API key",
    source: "https://linear.app/developers/graphql#personal-api-keys",
    make: (g) => `lin_api_${g.mixed(ALNUM, 40)}`,
    names: ["LINEAR_API_KEY"],
    publicPrefix: 8,
  },
  {
    family: "CI and developer tools",
    format: "Grafana service account token",
    source: "https://grafana.com/docs/grafana/latest/administration/service-accounts/",
    make: (g) => `glsa_${g.mixed(ALNUM, 32)}_${g.pick(HEX, 8)}`,
    names: ["GRAFANA_TOKEN"],
    publicPrefix: 5,
  },
  {
    family: "CI and developer tools",
    format: "Grafana Cloud access policy token",
    source: "https://grafana.com/docs/grafana-cloud/account-management/authentication-and-permissions/access-policies/",
    make: (g) => `glc_${b64json(g, 110)}=`,
    names: ["GRAFANA_CLOUD_TOKEN"],
    publicPrefix: 7,
  },
  ...(["sqp_", "squ_", "sqa_"] as const).map((prefix): CredentialFormat => ({
    family: "CI and developer tools",
    format: `SonarQube ${prefix} token`,
    source: "https://docs.sonarsource.com/sonarqube-server/latest/user-guide/managing-tokens/",
    make: (g) => `${prefix}${g.pick(HEX, 40)}`,
    names: ["SONAR_TOKEN"],
    publicPrefix: 4,
  })),
  {
    family: "CI and developer tools",
    format: "Docker Hub personal access token",
    source: "https://docs.docker.com/security/for-developers/access-tokens/",
    make: (g) => `dckr_pat_${g.mixed(B64URL, 27)}`,
    names: ["DOCKERHUB_TOKEN"],
    publicPrefix: 9,
  },
  {
    family: "CI and developer tools",
    format: "JFrog access token (reference)",
    source: "https://jfrog.com/help/r/jfrog-platform-administration-documentation/access-tokens",
    make: (g) => `cmVmdGtuOjAxOj${g.mixed(ALNUM, 50)}`,
    names: ["JFROG_ACCESS_TOKEN"],
    publicPrefix: 14,
  },
  {
    family: "CI and developer tools",
    format: "Figma personal access token",
    source: "https://www.figma.com/developers/api#access-tokens",
    make: (g) => `figd_${g.mixed(B64URL, 40)}`,
    names: ["FIGMA_TOKEN"],
    publicPrefix: 5,
  },
  {
    family: "CI and developer tools",
    format: "New Relic user API key",
    source: "https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/",
    make: (g) => `NRAK-${g.mixed(UPPER_ALNUM, 27)}`,
    names: ["NEW_RELIC_API_KEY"],
    publicPrefix: 5,
  },
  {
    family: "CI and developer tools",
    format: "Supabase access token",
    source: "https://supabase.com/docs/reference/cli/supabase-login",
    make: (g) => `sbp_${g.pick(HEX, 40)}`,
    names: ["SUPABASE_ACCESS_TOKEN"],
    publicPrefix: 4,
  },
  {
    family: "CI and developer tools",
    format: "PlanetScale service token",
    source: "https://planetscale.com/docs/concepts/service-tokens",
    make: (g) => `pscale_tkn_${g.mixed(B64URL, 43)}`,
    names: ["PLANETSCALE_SERVICE_TOKEN"],
    publicPrefix: 11,
  },
  {
    family: "CI and developer tools",
    format: "PlanetScale password",
    source: "https://planetscale.com/docs/concepts/connection-strings",
    make: (g) => `pscale_pw_${g.mixed(B64URL, 43)}`,
    names: ["DATABASE_PASSWORD"],
    publicPrefix: 10,
  },
  {
    family: "CI and developer tools",
    format: "Fly.io access token",
    source: "https://fly.io/docs/security/tokens/",
    make: (g) => `fo1_${g.mixed(B64URL, 43)}`,
    names: ["FLY_API_TOKEN"],
    publicPrefix: 4,
  },
  {
    family: "CI and developer tools",
    format: "Databricks personal access token",
    source: "https://docs.databricks.com/en/dev-tools/auth/pat.html",
    make: (g) => `dapi${g.pick(HEX, 32)}`,
    names: ["DATABRICKS_TOKEN"],
    publicPrefix: 4,
  },
  {
    family: "CI and developer tools",
    format: "RubyGems API key",
    source: "https://guides.rubygems.org/api-key-scopes/",
    make: (g) => `rubygems_${g.pick(HEX, 48)}`,
    names: ["GEM_HOST_API_KEY"],
    publicPrefix: 9,
  },
  {
    family: "CI and developer tools",
    format: "NuGet API key",
    source: "https://learn.microsoft.com/en-us/nuget/nuget-org/scoped-api-keys",
    make: (g) => `oy2${g.mixed(LOWER_ALNUM, 43)}`,
    names: ["NUGET_API_KEY"],
    publicPrefix: 3,
  },
  {
    family: "CI and developer tools",
    format: "Prefect API key",
    source: "https://docs.prefect.io/v3/manage/cloud/manage-users/api-keys",
    make: (g) => `pnu_${g.mixed(ALNUM, 36)}`,
    names: ["PREFECT_API_KEY"],
    publicPrefix: 4,
  },
  {
    family: "CI and developer tools",
    format: "ReadMe API key",
    source: "https://docs.readme.com/main/reference/intro/authentication",
    make: (g) => `rdme_${g.mixed(LOWER_ALNUM, 70)}`,
    names: ["README_API_KEY"],
    publicPrefix: 5,
  },

  // AI and data platforms
  {
    family: "AI and data platforms",
    format: "Replicate API token",
    source: "https://replicate.com/docs/topics/security/api-tokens",
    make: (g) => `r8_${g.mixed(ALNUM, 37)}`,
    names: ["REPLICATE_API_TOKEN"],
    publicPrefix: 3,
  },
  {
    family: "AI and data platforms",
    format: "Groq API key",
    source: "https://console.groq.com/docs/quickstart",
    make: (g) => `gsk_${g.mixed(ALNUM, 52)}`,
    names: ["GROQ_API_KEY"],
    publicPrefix: 4,
  },
  {
    family: "AI and data platforms",
    format: "Perplexity API key",
    source: "https://docs.perplexity.ai/guides/getting-started",
    make: (g) => `pplx-${g.mixed(ALNUM, 48)}`,
    names: ["PERPLEXITY_API_KEY"],
    publicPrefix: 5,
  },
  {
    family: "AI and data platforms",
    format: "xAI API key",
    source: "https://docs.x.ai/docs/overview",
    make: (g) => `xai-${g.mixed(ALNUM, 80)}`,
    names: ["XAI_API_KEY"],
    publicPrefix: 4,
  },
  {
    family: "AI and data platforms",
    format: "Notion integration token",
    source: "https://developers.notion.com/docs/authorization",
    make: (g) => `ntn_${g.pick(DIGITS, 11)}${g.mixed(ALNUM, 35)}`,
    names: ["NOTION_TOKEN"],
    publicPrefix: 4,
  },
  {
    family: "AI and data platforms",
    format: "Airtable personal access token",
    source: "https://airtable.com/developers/web/guides/personal-access-tokens",
    make: (g) => `pat${g.mixed(ALNUM, 14)}.${g.pick(HEX, 64)}`,
    names: ["AIRTABLE_TOKEN"],
    publicPrefix: 3,
  },

  // The widely known formats, for comparison with the rest
  {
    family: "widely known",
    format: "AWS access key id",
    source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/security-creds-programmatic-access.html",
    make: (g) => `AKIA${g.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)}`,
    names: ["AWS_ACCESS_KEY_ID"],
    publicPrefix: 4,
  },
  {
    family: "widely known",
    format: "AWS secret access key",
    source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/security-creds-programmatic-access.html",
    make: (g) => g.mixed(`${ALNUM}+/`, 40).replace(/[+/]$/, "Q"),
    names: ["AWS_SECRET_ACCESS_KEY", "aws_secret_access_key"],
  },
  {
    family: "widely known",
    format: "GitHub personal access token (classic)",
    source: "https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/",
    make: (g) => `ghp_${g.mixed(ALNUM, 36)}`,
    names: ["GITHUB_TOKEN", "GH_TOKEN"],
    publicPrefix: 4,
  },
  {
    family: "widely known",
    format: "GitHub fine-grained token",
    source:
      "https://github.blog/security/application-security/introducing-fine-grained-personal-access-tokens-for-github/",
    make: (g) => `github_pat_${g.mixed(ALNUM, 22)}_${g.mixed(ALNUM, 59)}`,
    names: ["GITHUB_TOKEN"],
    publicPrefix: 11,
  },
  {
    family: "widely known",
    format: "OpenAI project key",
    source: "https://platform.openai.com/docs/api-reference/authentication",
    make: (g) => `sk-proj-${g.mixed(B64URL, 74)}T3BlbkFJ${g.mixed(B64URL, 74)}`,
    names: ["OPENAI_API_KEY"],
    publicPrefix: 8,
  },
  {
    family: "widely known",
    format: "Anthropic API key",
    source: "https://docs.anthropic.com/en/api/getting-started",
    make: (g) => `sk-ant-api03-${g.mixed(B64URL, 93)}AA`,
    names: ["ANTHROPIC_API_KEY", "x-api-key"],
    publicPrefix: 13,
  },
  {
    family: "widely known",
    format: "Stripe secret key",
    source: "https://docs.stripe.com/keys",
    make: (g) => `sk_live_${g.mixed(ALNUM, 99)}`,
    names: ["STRIPE_SECRET_KEY"],
    publicPrefix: 8,
  },
  {
    family: "widely known",
    format: "npm access token",
    source: "https://docs.npmjs.com/about-access-tokens",
    make: (g) => `npm_${g.mixed(ALNUM, 36)}`,
    names: ["NPM_TOKEN"],
    publicPrefix: 4,
  },
  {
    family: "widely known",
    format: "Google API key",
    source: "https://cloud.google.com/docs/authentication/api-keys",
    make: (g) => `AIza${g.mixed(B64URL, 35)}`,
    names: ["GOOGLE_API_KEY"],
    publicPrefix: 4,
  },

  // Payments and commerce
  {
    family: "payments and commerce",
    format: "Square access token",
    source: "https://developer.squareup.com/docs/build-basics/access-tokens",
    make: (g) => `EAAA${g.mixed(B64URL, 60)}`,
    names: ["SQUARE_ACCESS_TOKEN"],
    publicPrefix: 4,
  },
  {
    family: "payments and commerce",
    format: "Braintree access token",
    source: "https://developer.paypal.com/braintree/docs/guides/authorization/overview",
    make: (g) => `access_token$production$${g.pick(LOWER_ALNUM, 16)}$${g.pick(HEX, 32)}`,
    names: ["BRAINTREE_ACCESS_TOKEN"],
    publicPrefix: 24,
  },
  {
    family: "payments and commerce",
    format: "Mailchimp API key",
    source: "https://mailchimp.com/developer/marketing/guides/quick-start/#generate-your-api-key",
    make: (g) => `${g.pick(HEX, 32)}-us${g.int(1, 21)}`,
    names: ["MAILCHIMP_API_KEY"],
  },
  {
    family: "payments and commerce",
    format: "SendGrid API key",
    source: "https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys",
    make: (g) => `SG.${g.mixed(B64URL, 22)}.${g.mixed(B64URL, 43)}`,
    names: ["SENDGRID_API_KEY"],
    publicPrefix: 3,
  },

  // Cloud providers
  {
    family: "cloud providers",
    format: "Alibaba Cloud AccessKey ID",
    source: "https://www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair",
    make: (g) => `LTAI${g.mixed(ALNUM, 20)}`,
    names: ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
    publicPrefix: 4,
  },
  {
    family: "cloud providers",
    format: "Tencent Cloud SecretId",
    source: "https://www.tencentcloud.com/document/product/598/34228",
    make: (g) => `AKID${g.mixed(ALNUM, 32)}`,
    names: ["TENCENTCLOUD_SECRET_ID"],
    publicPrefix: 4,
  },
  {
    family: "cloud providers",
    format: "Cloudflare Origin CA key",
    source: "https://developers.cloudflare.com/fundamentals/api/get-started/ca-keys/",
    make: (g) => `v1.0-${g.pick(HEX, 24)}-${g.pick(HEX, 146)}`,
    names: ["CF_ORIGIN_CA_KEY"],
    publicPrefix: 5,
  },
  {
    family: "Azure",
    format: "storage account key (connection string)",
    source: "https://learn.microsoft.com/en-us/azure/storage/common/storage-configure-connection-string",
    make: (g) => `${g.mixed(B64, 86)}==`,
    names: ["AccountKey"],
  },
  {
    family: "Azure",
    format: "Entra ID client secret",
    source: "https://learn.microsoft.com/en-us/entra/identity-platform/how-to-add-credentials",
    make: (g) => `${g.mixed(ALNUM, 3)}${g.int(0, 9)}Q~${g.mixed(`${ALNUM}_~.-`, 34)}`,
    names: ["AZURE_CLIENT_SECRET"],
  },
  {
    family: "Azure",
    format: "Service Bus / Event Hubs shared access key",
    source: "https://learn.microsoft.com/en-us/azure/service-bus-messaging/service-bus-sas",
    make: (g) => `${g.mixed(B64, 43)}=`,
    names: ["SharedAccessKey"],
  },
  {
    family: "Azure",
    format: "DevOps personal access token",
    source:
      "https://learn.microsoft.com/en-us/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate",
    make: (g) => g.pick(BASE32, 52),
    names: ["AZURE_DEVOPS_PAT", "AZURE_DEVOPS_EXT_PAT"],
  },
  {
    family: "Azure",
    format: "DevOps personal access token (84 characters)",
    source: "https://devblogs.microsoft.com/devops/new-pat-format/",
    make: (g) => `${g.mixed(ALNUM, 52)}AAASAZDO${g.mixed(ALNUM, 24)}`,
    names: ["AZURE_DEVOPS_PAT"],
  },
  {
    family: "Azure",
    format: "shared access signature",
    source: "https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas",
    make: (g) => `${g.mixed(B64, 43)}%3D`,
    names: ["sig"],
  },
];

/** Where agents put credentials. `name` is a context word from the format's list. */
export const CONTEXTS: ReadonlyArray<(secret: string, name: string) => string> = [
  (s, n) => `${n}=${s}`,
  (s, n) => `export ${n}="${s}"`,
  (s, n) => `{"env": {"${n}": "${s}"}}`,
  (s, n) => `  ${n.toLowerCase()}: ${s}`,
  (s, n) => `${n}: ${s}`,
  (s, n) => `curl -H '${n}: ${s}' https://api.internal/v1/status`,
  (s, n) => `os.environ["${n}"] = '${s}'`,
  (s, n) => `tool call failed: 401 with ${n.toLowerCase()} ${s} (expired?)`,
  (s) => `here is the token you asked for: ${s}. Use it before Friday`,
  (s) => `[2026-12-02T10:00:00Z] INFO auth ok token=${s} user=svc-deploy`,
];

/** Placing a format's secret in a context (some formats only make sense in their own syntax). */
export function place(f: CredentialFormat, secret: string, context: number, name: string): string {
  if (f.names[0] === "AccountKey")
    return `DefaultEndpointsProtocol=https;AccountName=prod${context};AccountKey=${secret};EndpointSuffix=core.windows.net`;
  if (f.names[0] === "SharedAccessKey")
    return `Endpoint=sb://orders-${context}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${secret}`;
  if (f.names[0] === "sig")
    return `https://acct${context}.blob.core.windows.net/backups/db.bak?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-12-31T00:00:00Z&sig=${secret}`;
  return (CONTEXTS[context % CONTEXTS.length] as (s: string, n: string) => string)(secret, name);
}

/**
 * Strings that must survive redaction: the same keywords and prefixes around values
 * that are not credentials, and the ids and hashes agents' traces are full of.
 */
export function lookAlikes(g: Gen): string[] {
  const out: string[] = [];
  for (const f of FORMATS) {
    const name = f.names[0] as string;
    out.push(
      `${name}=\${${name}}`,
      `${name}: "{{ .Values.${name.toLowerCase()} }}"`,
      `${name}=<your-${name.toLowerCase().replace(/_/g, "-")}>`,
      `echo "set ${name} in the vault, never in the repo"`,
      `${name}: \${{ secrets.${name} }}`,
    );
  }
  const sha = () => g.pick(HEX, 40);
  for (let i = 0; i < 20; i++) {
    out.push(
      `commit ${sha()} merged into main`,
      `image: registry.internal/agent@sha256:${g.pick(HEX, 64)}`,
      `"integrity": "sha512-${g.mixed(B64, 86)}=="`,
      `trace_id=${g.pick(HEX, 32)} span_id=${g.pick(HEX, 16)}`,
      `request ${uuid(g)} took ${g.int(1, 900)} ms`,
      `etag: "${g.pick(HEX, 32)}"`,
      `md5sum ${g.pick(HEX, 32)}  backup-${i}.tar.gz`,
      `pod/agent-worker-${g.pick(LOWER_ALNUM, 10)}-${g.pick(LOWER_ALNUM, 5)} restarted`,
      `https://github.com/acme/infra/blob/${sha()}/modules/vpc/main.tf#L${g.int(1, 300)}`,
      `customer cus_${g.mixed(ALNUM, 14)} upgraded to the pro plan`,
      `order ord_${g.mixed(ALNUM, 24)} shipped`,
      `the file data:image/png;base64,iVBORw0KGgo${g.mixed(B64, 60)} is attached`,
      `user ${g.pick(LOWER, 6)}.${g.pick(LOWER, 7)}@example.com asked about invoice INV-${g.pick(DIGITS, 6)}`,
      // Keywords beside values that are not secrets: the hard ones.
      `"cache_key": "${g.pick(HEX, 32)}"`,
      `idempotency_key=${uuid(g)}`,
      `api_key_id: key_01J${g.pick("0123456789ABCDEFGHJKMNPQRSTVWXYZ", 23)}`,
      `secret_name: prod/orders/db-password-${g.int(1, 9)}`,
      `token_count=${g.int(100, 99999)} prompt_tokens=${g.int(100, 9999)}`,
      `password: ${"*".repeat(g.int(8, 16))}`,
      `token=ghp_${"x".repeat(36)}`,
      `public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${g.mixed(B64, 43)} deploy@ci`,
      `signature_hash sha256=${g.pick(HEX, 64)}`,
      `x-amz-content-sha256: ${g.pick(HEX, 64)}`,
      `key: "agents/${g.pick(LOWER, 8)}/${uuid(g)}.json"`,
      `secretKeyRef: {name: ${g.pick(LOWER, 6)}-credentials, key: password}`,
      `nonce=${g.pick(HEX, 24)}&state=${g.pick(HEX, 16)}`,
      `ETag W/"${g.pick(HEX, 8)}-${g.pick(HEX, 27)}"`,
    );
  }
  out.push(
    "sk-learn and xgboost are both installed",
    "pul-request template updated",
    "read the docs at https://docs.gitlab.com/security/tokens/ before rotating glpat tokens",
    "dp.st.louis office is closed on Friday",
    "The API-KEY header is missing from the request",
    "SG.Singapore region selected for the bucket",
    "NRAK tokens rotate every 90 days",
    "See AKIDO documentation for the retry policy",
    "the LTAI prefix marks an Alibaba AccessKey ID",
    "ops_review meeting moved to 3pm",
    "pat.ricia@example.com joined the channel",
    "v1.0-beta release notes",
    "Bearer tokens are described in RFC 6750",
    "password reset link sent to the customer",
    "token budget exceeded: 128000 tokens",
  );
  return out;
}
