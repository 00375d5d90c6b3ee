import { ConfigError, createLogger } from "@vigil/common";
import { readEnvironment } from "@vigil/config";
import { startAllInOne } from "./all-in-one";
import { demoBanner, ensurePrivateDataDir, loadOrCreateConfig, logConfigSource } from "./bootstrap";

// `npm start`: ingest and API in one process on the embedded store.
try {
  const env = readEnvironment(process.env);
  const logger = createLogger(env.logLevel, { process: "vigil" });
  ensurePrivateDataDir(env.dataDir, logger);
  const loaded = loadOrCreateConfig(env);
  logConfigSource(logger, loaded);
  const vigil = await startAllInOne(env, loaded.config, logger);
  if (loaded.credentialsFile !== undefined)
    process.stdout.write(demoBanner(loaded.credentialsFile, vigil.ingestPort, vigil.apiPort));
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      logger.info("shutting down", { signal });
      vigil.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error("shutdown failed", { error: err instanceof Error ? err : String(err) });
          process.exit(1);
        },
      );
    });
  }
} catch (err) {
  process.stderr.write(`vigil: ${err instanceof ConfigError ? err.message : String((err as Error).stack ?? err)}\n`);
  process.exit(1);
}
