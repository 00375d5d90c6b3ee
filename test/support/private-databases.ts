/**
 * Private database servers for audit tests: a PostgreSQL with pgAudit and a MariaDB with
 * server_audit, each started by the test in a temporary directory on a free port, never
 * touching the machine's shared servers. Each writes its audit log to a file the test
 * (and Vigil's reader) can follow.
 *
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` user (runuser).
 */
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "./wait";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const PG_BIN = "/usr/lib/postgresql/15/bin";

/** Whether this machine can run the private PostgreSQL with pgAudit (.ci/run installs it). */
export function pgAuditAvailable(): boolean {
  return existsSync(join(PG_BIN, "initdb")) && existsSync("/usr/lib/postgresql/15/lib/pgaudit.so");
}

export class PrivatePostgres {
  readonly dir = mkdtempSync(join(tmpdir(), "vigil-pg-"));
  port = 0;
  /** The jsonlog file pgAudit's entries go to. */
  readonly logFile = join(this.dir, "log", "postgresql.json");
  private readonly asRoot = process.getuid?.() === 0;

  private run(cmd: string, args: string[]): string {
    const [file, argv] = this.asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
    return execFileSync(file, argv, { cwd: this.dir, stdio: ["ignore", "pipe", "pipe"] }).toString();
  }

  async start(): Promise<void> {
    if (this.asRoot) chownSync(this.dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), 0);
    this.port = await freePort();
    this.run(join(PG_BIN, "initdb"), ["-D", join(this.dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync"]);
    appendFileSync(
      join(this.dir, "data", "postgresql.conf"),
      [
        `port = ${this.port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${this.dir}'`,
        "shared_preload_libraries = 'pgaudit'",
        "pgaudit.log = 'read, write, ddl, role'",
        "pgaudit.log_relation = on",
        "logging_collector = on",
        "log_destination = 'jsonlog'",
        `log_directory = '${join(this.dir, "log")}'`,
        "log_filename = 'postgresql.log'",
        "log_rotation_age = 0",
        "log_rotation_size = 0",
        "log_timezone = 'UTC'",
        "fsync = off",
        "",
      ].join("\n"),
    );
    this.run(join(PG_BIN, "pg_ctl"), ["-D", join(this.dir, "data"), "-l", join(this.dir, "server.log"), "-w", "start"]);
  }

  /** Runs SQL as the superuser (setup: users, tables, grants). */
  admin(sql: string): void {
    execFileSync("psql", [
      "-h",
      "127.0.0.1",
      "-p",
      String(this.port),
      "-U",
      "postgres",
      "-v",
      "ON_ERROR_STOP=1",
      "-qc",
      sql,
    ]);
  }

  async stop(): Promise<void> {
    try {
      this.run(join(PG_BIN, "pg_ctl"), ["-D", join(this.dir, "data"), "-m", "immediate", "-w", "stop"]);
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether this machine can run the private MariaDB with server_audit. */
export function serverAuditAvailable(): boolean {
  return existsSync("/usr/sbin/mariadbd") && existsSync("/usr/lib/mysql/plugin/server_audit.so");
}

export class PrivateMariaDb {
  readonly dir = mkdtempSync(join(tmpdir(), "vigil-mariadb-"));
  port = 0;
  readonly logFile = join(this.dir, "audit.log");
  private child: ChildProcess | undefined;

  async start(): Promise<void> {
    this.port = await freePort();
    execFileSync(
      "mariadb-install-db",
      [
        "--no-defaults",
        `--datadir=${join(this.dir, "data")}`,
        "--user=root",
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
      ],
      { stdio: "ignore" },
    );
    writeFileSync(join(this.dir, "err.log"), "");
    this.child = spawn(
      "mariadbd",
      [
        "--no-defaults",
        `--datadir=${join(this.dir, "data")}`,
        "--user=root",
        `--port=${this.port}`,
        "--bind-address=127.0.0.1",
        `--socket=${join(this.dir, "sock")}`,
        `--pid-file=${join(this.dir, "pid")}`,
        "--skip-name-resolve",
        "--plugin-load-add=server_audit",
        "--server_audit_logging=ON",
        `--server_audit_file_path=${this.logFile}`,
        "--server_audit_events=QUERY",
        `--log-error=${join(this.dir, "err.log")}`,
      ],
      { stdio: "ignore", env: { ...process.env, TZ: "UTC" } },
    );
    await until(
      "MariaDB answering",
      () => {
        try {
          execFileSync("mariadb", ["-h127.0.0.1", `-P${this.port}`, "-uroot", "-e", "SELECT 1"], { stdio: "ignore" });
          return true;
        } catch {
          return this.child?.exitCode === null ? false : Promise.reject(new Error("mariadbd exited"));
        }
      },
      60_000,
    );
  }

  admin(sql: string): void {
    execFileSync("mariadb", ["-h127.0.0.1", `-P${this.port}`, "-uroot", "-e", sql], { stdio: "ignore" });
  }

  async stop(): Promise<void> {
    if (this.child !== undefined && this.child.exitCode === null) {
      const exited = new Promise((r) => this.child?.once("exit", r));
      this.child.kill("SIGKILL");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
