import { runCli } from "./program";

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  print: (s) => process.stdout.write(`${s}\n`),
  printError: (s) => process.stderr.write(`${s}\n`),
});
process.exitCode = code;
