import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SERVICE_USERS, openStoreClient, renderUsersXml } from "@vigil/store";
import type { ClickHouseClient, ServiceRole } from "@vigil/store";
import { freePort } from "./redis-server";

const here = dirname(fileURLToPath(import.meta.url));
const LAUNCHER_SOURCE = join(here, "clickhouse-launcher.c");
const LAUNCHER = join(here, "..", ".build", "clickhouse-launcher");

/** The chDB library that the `chdb` package installed (ClickHouse 26.7). */
function libchdbPath(): string {
  const require = createRequire(import.meta.url);
  const chdb = dirname(require.resolve("chdb/package.json"));
  const lib = join(
    dirname(createRequire(join(chdb, "package.json")).resolve("@chdb/lib-linux-x64-gnu/package.json")),
    "libchdb.so",
  );
  if (!existsSync(lib)) throw new Error(`no libchdb.so at ${lib}`);
  return lib;
}

/** Builds the launcher with the system C compiler when it is missing or older than its source. */
function launcher(): string {
  if (existsSync(LAUNCHER) && statSync(LAUNCHER).mtimeMs >= statSync(LAUNCHER_SOURCE).mtimeMs) return LAUNCHER;
  mkdirSync(dirname(LAUNCHER), { recursive: true });
  try {
    execFileSync("cc", ["-O1", "-o", LAUNCHER, LAUNCHER_SOURCE, "-ldl"], { stdio: "pipe" });
  } catch (err) {
    throw new Error(`building the test ClickHouse launcher needs a C compiler (cc): ${String(err)}`);
  }
  return LAUNCHER;
}

export interface Credentials {
  username: string;
  password: string;
}

/**
 * A real ClickHouse server for one test file: clickhouse-local from the chDB library,
 * listening on free loopback ports, with its data in a temporary directory and its
 * users (Vigil's service users with exactly their grants, and an administrator for
 * the test itself) from a users file rendered from the same source as
 * `deploy/clickhouse/users.sql`.
 *
 * The engine's own session runs as `default`, which the users file lets connect only
 * from 127.0.0.1 and grants nothing but starting its listeners; tests connect as the
 * users below.
 */
export class TestClickHouse {
  readonly dataDir = mkdtempSync(join(tmpdir(), "vigil-clickhouse-"));
  readonly database = "vigil";
  httpPort = 0;
  tcpPort = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stderr = "";
  private readonly passwords: Record<ServiceRole | "admin", string>;

  /** The server's process id (the bench reads its CPU time); undefined before start. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** `extraConfig`: more of the server's config (e.g. `<remote_servers>`), inside `<clickhouse>`. */
  constructor(private readonly extraConfig = "") {
    const password = () => randomBytes(12).toString("hex");
    this.passwords = {
      admin: password(),
      migrate: password(),
      ingest: password(),
      worker: password(),
      api: password(),
      sql: password(),
    };
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** The administrator, for the test's own setup and checks (never a service). */
  get admin(): Credentials {
    return { username: "vigil_test_admin", password: this.passwords.admin };
  }

  /** A service's own user. */
  credentials(role: ServiceRole): Credentials {
    const user = SERVICE_USERS.find((u) => u.role === role);
    if (user === undefined) throw new Error(`no service user for ${role}`);
    return { username: user.name, password: this.passwords[role] };
  }

  /** The environment a Vigil process needs to use this server, each service as its own user. */
  environment(): Record<string, string> {
    const env: Record<string, string> = { CLICKHOUSE_URL: `${this.url}/` };
    for (const { role } of SERVICE_USERS) {
      const c = this.credentials(role);
      env[`CLICKHOUSE_${role.toUpperCase()}_USER`] = c.username;
      env[`CLICKHOUSE_${role.toUpperCase()}_PASSWORD`] = c.password;
    }
    return env;
  }

  /** Starts the server (again, on the same data and ports, after `kill`). */
  async start(): Promise<void> {
    if (this.httpPort === 0) [this.httpPort, this.tcpPort] = [await freePort(), await freePort()];
    const configDir = join(this.dataDir, "config");
    mkdirSync(join(this.dataDir, "db"), { recursive: true });
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, "users.xml"), this.usersXml());
    writeFileSync(
      join(configDir, "config.xml"),
      `<clickhouse><user_directories><users_xml><path>${join(configDir, "users.xml")}</path></users_xml>` +
        `</user_directories>` +
        `<logger><level>warning</level><console>1</console></logger>${this.extraConfig}</clickhouse>`,
    );
    this.stderr = "";
    const child = spawn(
      launcher(),
      [
        libchdbPath(),
        `--config-file=${join(configDir, "config.xml")}`,
        `--path=${join(this.dataDir, "db")}`,
        `--http_port=${this.httpPort}`,
        `--tcp_port=${this.tcpPort}`,
        "--listen_host=127.0.0.1",
        // Start listening, then block until killed (system.numbers never ends).
        "--query=SYSTEM START LISTEN HTTP; SYSTEM START LISTEN TCP; " +
          "SELECT count() FROM system.numbers WHERE NOT ignore(sleepEachRow(1)) " +
          "SETTINGS max_block_size = 1, function_sleep_max_microseconds_per_block = 0",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    child.stderr?.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the test ClickHouse server exited: ${this.stderr}`);
      if ((await this.query("SELECT 1").catch(() => "")).trim() === "1") break;
      if (Date.now() > deadline) throw new Error(`the test ClickHouse server did not answer: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.query(`CREATE DATABASE IF NOT EXISTS ${this.database}`);
  }

  /** Runs a statement as the administrator over HTTP; resolves with the response text. */
  async query(sql: string, as: Credentials = this.admin): Promise<string> {
    const res = await fetch(`${this.url}/`, {
      method: "POST",
      body: sql,
      headers: { "x-clickhouse-user": as.username, "x-clickhouse-key": as.password },
    });
    const text = await res.text();
    if (!res.ok) throw new Error(text);
    return text;
  }

  /** A client as the administrator on Vigil's database, for a test's own reads and checks. */
  adminClient(): ClickHouseClient {
    return openStoreClient({ mode: "server", url: `${this.url}/${this.database}`, ...this.admin });
  }

  /** Kills the server at once, as a crash would (SIGKILL); its data stays for `start`. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    child.kill("SIGKILL");
    await this.exited;
  }

  /** Kills the server and removes its data. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private usersXml(): string {
    const sha = (s: string) => createHash("sha256").update(s).digest("hex");
    const services = renderUsersXml({
      database: this.database,
      passwordSha256: {
        migrate: sha(this.passwords.migrate),
        ingest: sha(this.passwords.ingest),
        worker: sha(this.passwords.worker),
        api: sha(this.passwords.api),
        sql: sha(this.passwords.sql),
      },
      networks: ["127.0.0.1"],
    });
    // The engine's own session (the query above) runs as `default` from 127.0.0.1.
    const extra =
      `<default><no_password/><networks><ip>::ffff:127.0.0.1</ip></networks><profile>default</profile><quota>default</quota>` +
      `<grants><query>GRANT SYSTEM LISTEN ON *.*</query><query>GRANT SELECT ON system.numbers</query></grants></default>` +
      `<${this.admin.username}><password_sha256_hex>${sha(this.passwords.admin)}</password_sha256_hex>` +
      `<networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota>` +
      `<grants><query>GRANT ALL ON *.* </query></grants></${this.admin.username}>`;
    return services.replace("<users>", `<users>${extra}`);
  }
}
