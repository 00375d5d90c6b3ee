/**
 * The cluster variant of the schema, derived from the same migrations: each table
 * becomes a replicated local table on every node (`<name>_local`, ON CLUSTER) and a
 * `Distributed` table under the original name, so readers and writers use the same
 * names in both placements. Materialized views are attached to the local tables, so
 * the aggregates and lookup tables of a shard hold exactly its spans.
 *
 * Sharding keeps an agent's rows on one shard (spans and everything per agent are
 * sharded by agent_id), so a session and its aggregates are local; a ledger chain stays
 * on one shard, in order.
 */

/** Sharding key of each table written through its Distributed table. */
const SHARDING_KEYS: Record<string, string> = {
  spans: "cityHash64(agent_id)",
  span_trace_index: "cityHash64(agent_id)",
  span_session_index: "cityHash64(agent_id)",
  trace_sessions: "cityHash64(agent_id)",
  agent_activity: "cityHash64(agent_id)",
  agent_calls_5m: "cityHash64(agent_id)",
  agent_baselines: "cityHash64(agent_id)",
  alerts: "cityHash64(agent_id)",
  agent_tokens: "cityHash64(agent_id)",
  ledger: "cityHash64(chain_id)",
  decision_ledger: "cityHash64(chain_id)",
  ledger_checkpoints: "cityHash64(chain_id)",
  detection_cursor: "cityHash64(chain_id)",
  audit_judge_cursor: "0",
  notifications: "cityHash64(group_key)",
  delivery_attempts: "cityHash64(notification_id)",
  silences: "cityHash64(silence_id)",
  alert_acks: "cityHash64(alert_id)",
  receiver_state: "cityHash64(receiver)",
  dispatch_cursor: "0",
  schema_migrations: "0",
};

const CREATE_TABLE = /^\s*CREATE TABLE IF NOT EXISTS (\w+)\s*\(/i;
const CREATE_VIEW = /^\s*CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS/i;
const ALTER_TABLE = /^\s*ALTER TABLE (\w+)\b/i;

const local = (table: string): string => `${table}_local`;

/** The statements that do what `statement` does, on every node of `cluster`. */
export function clusterStatements(statement: string, cluster: string): string[] {
  if (!/^[A-Za-z_][\w-]*$/.test(cluster)) throw new Error(`invalid cluster name "${cluster}"`);
  const on = `ON CLUSTER '${cluster}'`;
  const table = CREATE_TABLE.exec(statement);
  if (table !== null) {
    const name = table[1] as string;
    const replicated = statement
      .replace(CREATE_TABLE, `CREATE TABLE IF NOT EXISTS ${local(name)} ${on} (`)
      .replace(
        /ENGINE\s*=\s*(\w*)MergeTree(\(\))?/i,
        (_, kind: string) =>
          `ENGINE = Replicated${kind}MergeTree('/clickhouse/tables/{shard}/{database}/${local(name)}', '{replica}')`,
      );
    const distributed = `CREATE TABLE IF NOT EXISTS ${name} ${on} AS ${local(name)}
ENGINE = Distributed('${cluster}', currentDatabase(), ${local(name)}, ${SHARDING_KEYS[name] ?? "rand()"})`;
    return [replicated, distributed];
  }
  const view = CREATE_VIEW.exec(statement);
  if (view !== null) {
    const [, mv, target] = view as unknown as [string, string, string];
    return [
      statement
        .replace(CREATE_VIEW, `CREATE MATERIALIZED VIEW IF NOT EXISTS ${mv} ${on} TO ${local(target)} AS`)
        .replace(/\bFROM spans\b/g, `FROM ${local("spans")}`),
    ];
  }
  const alter = ALTER_TABLE.exec(statement);
  if (alter !== null) {
    const name = alter[1] as string;
    // Views keep their names on every node (they read the local tables).
    if (/^\s*ALTER TABLE \w+ MODIFY SQL SECURITY\b/i.test(statement))
      return [statement.replace(ALTER_TABLE, `ALTER TABLE ${name} ${on}`)];
    if (/^\s*ALTER TABLE \w+ MODIFY QUERY\b/i.test(statement))
      return [
        statement
          .replace(ALTER_TABLE, `ALTER TABLE ${name} ${on}`)
          .replace(/\bFROM spans\b/g, `FROM ${local("spans")}`),
      ];
    const onLocal = statement.replace(ALTER_TABLE, `ALTER TABLE ${local(name)} ${on}`);
    // Skip indexes live only in the local tables; new columns also go to the Distributed table.
    // Skip indexes and storage settings live only in the local tables.
    if (/^\s*ALTER TABLE \w+\s+(ADD INDEX|MODIFY SETTING)/i.test(statement)) return [onLocal];
    // A sorting key is the local table's; the Distributed table only gains the column.
    const sortingKey = /,\s*MODIFY ORDER BY [\s\S]*$/i;
    if (sortingKey.test(statement))
      return [onLocal, statement.replace(sortingKey, "").replace(ALTER_TABLE, `ALTER TABLE ${name} ${on}`)];
    return [onLocal, statement.replace(ALTER_TABLE, `ALTER TABLE ${name} ${on}`)];
  }
  throw new Error(`no cluster form for: ${statement.slice(0, 80)}`);
}

/** Every table the schema creates (views excluded), in migration order. */
export function schemaTables(statements: readonly string[]): string[] {
  return statements.flatMap((s) => {
    const m = CREATE_TABLE.exec(s);
    return m === null ? [] : [m[1] as string];
  });
}

/**
 * The read side of a sharded store without Keeper: this server holds no data, and each
 * of its tables is a `Distributed` table (same name, same sharding key as the cluster
 * form above) over the same table on every shard of `cluster`, where each shard is an
 * ordinary single-server Vigil store (a database of the same name) with its own ingest
 * and ledger chain. The columns
 * come from the shards when the statement runs, so run it after the shards' migrations
 * (and again, after dropping these tables, when a migration adds columns).
 */
export function federationStatements(tables: readonly string[], cluster: string): string[] {
  if (!/^[A-Za-z_][\w-]*$/.test(cluster)) throw new Error(`invalid cluster name "${cluster}"`);
  return tables.map(
    (table) =>
      `CREATE TABLE IF NOT EXISTS ${table} ENGINE = Distributed('${cluster}', currentDatabase(), ${table}, ` +
      `${SHARDING_KEYS[table] ?? "rand()"})`,
  );
}
