export { runCli } from "./program";
export type { CliIo } from "./program";
