import { Command, Option } from "commander";
import { GRANT_DIALECTS } from "@vigil/api-contract";
import { CliError } from "./api-client";
import type { ApiTarget } from "./api-client";
import { adviseGrants, advisePolicy, advisePromotion } from "./commands/advise";
import type { AdviseGrantsOptions } from "./commands/advise";
import { ackCommand, silenceAdd, silenceExpire, silenceList } from "./commands/alerting";
import { decideCommand, decisionsCommand } from "./commands/decisions";
import type { SilenceAddOptions } from "./commands/alerting";
import {
  activityCommand,
  alertsCommand,
  baselinesRebuildCommand,
  sessionCommand,
  sessionsCommand,
  sqlCommand,
} from "./commands/investigate";
import { importCommand } from "./commands/import";
import { proofGetCommand, proofVerifyCommand } from "./commands/proof";
import { tokenCreate, tokenList, tokenRevoke } from "./commands/tokens";
import { verifyCommand } from "./commands/verify";
import { terminalSafe } from "./terminal";

export interface CliIo {
  env: NodeJS.ProcessEnv;
  print: (s: string) => void;
  printError: (s: string) => void;
}

/**
 * Runs the `vigil` CLI with the given arguments (without node and script) and returns
 * the exit code: 0 ok, 1 a check failed (verify, proof), 2 usage or connection errors.
 */
export async function runCli(argv: readonly string[], rawIo: CliIo): Promise<number> {
  // Everything printed passes through one filter: the output quotes what agents sent.
  const io: CliIo = {
    env: rawIo.env,
    print: (s) => rawIo.print(terminalSafe(s)),
    printError: (s) => rawIo.printError(terminalSafe(s)),
  };
  let code = 0;
  const program = new Command()
    .name("vigil")
    .description("Investigate and check Vigil from the command line (talks to the Vigil API).")
    .option("--api <url>", "Vigil API URL", io.env.VIGIL_API_URL ?? "http://localhost:8080")
    .option("--key <key>", "API key (or VIGIL_API_KEY)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.print(s.trimEnd()), writeErr: (s) => io.printError(s.trimEnd()) });

  const target = (): ApiTarget => {
    const opts = program.opts<{ api: string; key?: string }>();
    return { url: opts.api, key: opts.key ?? io.env.VIGIL_API_KEY };
  };

  program
    .command("verify")
    .description("recompute every stored batch against the ledger and signed checkpoints")
    .option("--json", "print the whole report as JSON")
    .option(
      "--witness <file>",
      "also check against the checkpoints in this witness file (VIGIL_CHECKPOINT_WITNESS_FILE)",
    )
    .action(async (opts: { json?: boolean; witness?: string }) => {
      code = await verifyCommand(target(), opts, io.print);
    });

  program
    .command("import <file>")
    .description("import an agent's real history (an OTLP trace request file) as an administrator")
    .requiredOption("--agent <id>", "the declared agent the history belongs to")
    .option("--ingest <url>", "Vigil ingest URL", io.env.VIGIL_INGEST_URL ?? "http://localhost:4318")
    .action(async (file: string, opts: { agent: string; ingest: string }) => {
      code = await importCommand(target(), file, opts, io.print);
    });

  const proof = program.command("proof").description("inclusion proofs of single spans");
  proof
    .command("get <traceId> <spanId>")
    .description("fetch the proof that a span is in the signed log")
    .option("-o, --output <file>", "write the proof to a file")
    .action(async (traceId: string, spanId: string, opts: { output?: string }) => {
      code = await proofGetCommand(target(), traceId, spanId, opts, io.print);
    });
  proof
    .command("verify <file>")
    .description("check a proof offline against the ledger's public (verifier) key")
    .requiredOption("--public-key <vkey>", "verifier key string, or a file holding it")
    .action((file: string, opts: { publicKey: string }) => {
      code = proofVerifyCommand(file, opts, io.print);
    });

  const list = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(",")];
  const silence = program.command("silence").description("silences: alerts matching them are not notified");
  silence
    .command("add")
    .description("silence alerts matching every given label, for a while, with a reason")
    .option("--agent <id>", "agent id (repeat or comma-separate)", list)
    .option("--detector <name>", "detector", list)
    .option("--severity <level>", "info, low, medium, high or critical", list)
    .option("--environment <name>", "deployment environment", list)
    .option("--kind <kind>", "rule or learned", list)
    .requiredOption("--duration <d>", 'how long, e.g. "30m", "2h", "1d"')
    .requiredOption("--reason <text>", "why: kept with the silence")
    .option("--json", "print the silence as JSON")
    .action(async (opts: SilenceAddOptions) => {
      code = await silenceAdd(target(), opts, io.print);
    });
  silence
    .command("list")
    .description("active silences")
    .option("--all", "include expired ones")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean; all?: boolean }) => {
      code = await silenceList(target(), opts, io.print);
    });
  silence
    .command("expire <id>")
    .description("end a silence now (the record is kept)")
    .action(async (id: string) => {
      code = await silenceExpire(target(), id, io.print);
    });
  program
    .command("ack <alertId>")
    .description("acknowledge an alert; its group resolves once all its alerts are acknowledged")
    .option("--note <text>", "what was done")
    .action(async (alertId: string, opts: { note?: string }) => {
      code = await ackCommand(target(), alertId, opts, io.print);
    });

  program
    .command("decisions")
    .description("the confirmation gate's requests (what agents asked to do), newest first")
    .option("--status <status>", "pending, allowed, denied, approved or expired")
    .option("--agent <id>", "one agent's requests")
    .option("--json", "print JSON")
    .action(async (opts: { status?: string; agent?: string; json?: boolean }) => {
      code = await decisionsCommand(target(), opts, io.print);
    });
  for (const verdict of ["approve", "deny"] as const)
    program
      .command(`${verdict} <decisionId>`)
      .description(`${verdict} a pending request (an API key with the approver or admin role)`)
      .requiredOption("--justification <text>", "why: kept with the decision")
      .action(async (id: string, opts: { justification: string }) => {
        code = await decideCommand(target(), verdict, id, opts, io.print);
      });

  program
    .command("activity <agent>")
    .description("what an agent did, each action with the input that caused it and its alerts")
    .option("--since <when>", "a duration (15m, 1h, 7d) or an ISO time", "1h")
    .option("--json", "print JSON")
    .action(async (agent: string, opts: { since: string; json?: boolean }) => {
      code = await activityCommand(target(), agent, opts, io.print);
    });
  program
    .command("sessions")
    .description("sessions, newest first")
    .option("--agent <id>", "one agent's")
    .option("--since <when>", "a duration or an ISO time", "24h")
    .option("--alerts", "only sessions with alerts")
    .option("--text <text>", "text in their inputs or step names")
    .option("--limit <n>", "how many", "50")
    .option("--json", "print JSON")
    .action(
      async (opts: {
        agent?: string;
        since: string;
        alerts?: boolean;
        text?: string;
        limit: string;
        json?: boolean;
      }) => {
        code = await sessionsCommand(target(), opts, io.print);
      },
    );
  program
    .command("session <id>")
    .description("one session as a tree of steps, with inputs, destructive steps, approvals and alerts")
    .option("--json", "print JSON")
    .action(async (id: string, opts: { json?: boolean }) => {
      code = await sessionCommand(target(), id, opts, io.print);
    });
  program
    .command("alerts")
    .description("alerts, newest raised first, first-time activity collapsed (--all: each)")
    .option("--agent <id>", "one agent's")
    .option("--detector <name>", "one detector's")
    .option("--severity <level>", "info, low, medium, high or critical")
    .option("--since <when>", "a duration or an ISO time", "24h")
    .option("--limit <n>", "how many", "100")
    .option("--cursor <cursor>", "the next page (printed at the end of a full page)")
    .option("--all", "list first-time-activity alerts one by one instead of collapsed")
    .option("--json", "print JSON")
    .action(
      async (opts: {
        agent?: string;
        detector?: string;
        severity?: string;
        since: string;
        limit: string;
        cursor?: string;
        all?: boolean;
        json?: boolean;
      }) => {
        code = await alertsCommand(target(), opts, io.print);
      },
    );
  program
    .command("baselines")
    .description("baselines")
    .command("rebuild")
    .description("rebuild every agent's baseline now (admin)")
    .action(async () => {
      code = await baselinesRebuildCommand(target(), io.print);
    });
  program
    .command("sql <query>")
    .description("one read-only SELECT over Vigil's tables, with time, memory and row limits")
    .option("--json", "print the rows as JSON")
    .action(async (query: string, opts: { json?: boolean }) => {
      code = await sqlCommand(target(), query, opts, io.print);
    });

  const token = program.command("token").description("ingest tokens (admin)");
  token
    .command("create")
    .description("create a token for an agent; it is printed once")
    .requiredOption("--agent <id>", "the agent the token speaks for")
    .option("--name <name>", "a label, for rotation")
    .option("--expires <when>", 'an ISO time, or a duration from now such as "90d"')
    .option("--environment <name>", "the only environment it may write")
    .option("--json", "print JSON")
    .action(async (opts: { agent: string; name?: string; expires?: string; environment?: string; json?: boolean }) => {
      code = await tokenCreate(target(), opts, io.print);
    });
  token
    .command("list")
    .description("tokens from the config and created here, without secrets")
    .option("--agent <id>", "one agent's")
    .option("--json", "print JSON")
    .action(async (opts: { agent?: string; json?: boolean }) => {
      code = await tokenList(target(), opts, io.print);
    });
  token
    .command("revoke <id>")
    .description("revoke a token created with token create")
    .action(async (id: string) => {
      code = await tokenRevoke(target(), id, io.print);
    });

  const advise = program.command("advise").description("least privilege: policy, grants, promotion");
  advise
    .command("policy")
    .description("the policy block allowing exactly what the agent used (YAML; rare uses as comments)")
    .requiredOption("--agent <id>", "the agent")
    .option("--environment <name>", "default: the agent's busiest")
    .option("--since <when>", "window: a duration or an ISO time", "30d")
    .option("--json", "observed set, suggestion and diff as JSON")
    .action(async (opts: { agent: string; environment?: string; since: string; json?: boolean }) => {
      code = await advisePolicy(target(), opts, io.print);
    });
  advise
    .command("grants")
    .description("GRANT statements for a credential with only the table operations it was used for (SQL)")
    .requiredOption("--agent <id>", "the agent")
    .requiredOption("--credential <id>", "the credential (vigil.credential.id)")
    .addOption(new Option("--dialect <name>", "the SQL dialect").choices(GRANT_DIALECTS).default("postgresql"))
    .option("--database <name>", "database or schema to qualify tables with")
    .option("--current <file>", "the credential's current GRANT statements, to list what they allow beyond use")
    .option("--environment <name>", "default: the agent's busiest")
    .option("--since <when>", "window: a duration or an ISO time", "30d")
    .option("--json", "print JSON")
    .action(async (opts: AdviseGrantsOptions) => {
      code = await adviseGrants(target(), opts, io.print);
    });
  advise
    .command("promotion")
    .description("is the agent ready for production? (Markdown; exit 1 when not)")
    .requiredOption("--agent <id>", "the agent")
    .option("--environment <name>", "where it was watched", "staging")
    .option("--days <n>", "window in days", "7")
    .option("--json", "print JSON")
    .action(async (opts: { agent: string; environment: string; days: string; json?: boolean }) => {
      code = await advisePromotion(target(), opts, io.print);
    });

  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CliError) {
      io.printError(`vigil: ${err.message}`);
      return 2;
    }
    const exit = err as { code?: string; exitCode?: number };
    if (typeof exit.exitCode === "number")
      return exit.code === "commander.helpDisplayed" || exit.code === "commander.version" ? 0 : 2;
    io.printError(`vigil: ${(err as Error).message}`);
    return 2;
  }
  return code;
}
