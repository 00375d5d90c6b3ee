import { Command } from "commander";
import { CliError } from "./api-client";
import type { ApiTarget } from "./api-client";
import { proofGetCommand, proofVerifyCommand } from "./commands/proof";
import { verifyCommand } from "./commands/verify";

export interface CliIo {
  env: NodeJS.ProcessEnv;
  print: (s: string) => void;
  printError: (s: string) => void;
}

/**
 * Runs the `vigil` CLI with the given arguments (without node and script) and returns
 * the exit code: 0 ok, 1 a check failed (verify, proof), 2 usage or connection errors.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
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
    .action(async (opts: { json?: boolean }) => {
      code = await verifyCommand(target(), opts, io.print);
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
