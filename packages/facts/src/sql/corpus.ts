import type { SqlDialect } from "./model";

/** One statement with what a reviewer expects Vigil to read from it. */
export interface CorpusCase {
  dialect: SqlDialect;
  sql: string;
  kinds: string[];
  /** Every table touched, in any order. */
  tables: string[];
  /** Tables written (defaults to none). */
  written?: string[];
  /** Destructive reason, "" when not destructive (default ""). */
  destructive?: string;
}

const pg = (sql: string, kinds: string[], tables: string[], written: string[] = [], destructive = ""): CorpusCase => ({
  dialect: "postgresql",
  sql,
  kinds,
  tables,
  written,
  destructive,
});
const my = (sql: string, kinds: string[], tables: string[], written: string[] = [], destructive = ""): CorpusCase => ({
  dialect: "mysql",
  sql,
  kinds,
  tables,
  written,
  destructive,
});
const lite = (
  sql: string,
  kinds: string[],
  tables: string[],
  written: string[] = [],
  destructive = "",
): CorpusCase => ({
  dialect: "sqlite",
  sql,
  kinds,
  tables,
  written,
  destructive,
});
const ch = (sql: string, kinds: string[], tables: string[], written: string[] = [], destructive = ""): CorpusCase => ({
  dialect: "clickhouse",
  sql,
  kinds,
  tables,
  written,
  destructive,
});

const S = ["SELECT"];
const I = ["INSERT"];
const U = ["UPDATE"];
const D = ["DELETE"];

/**
 * The SQL corpus: statements agents really send (ORMs, hand-written tools, migrations,
 * analytics), across PostgreSQL, MySQL, SQLite and ClickHouse.
 */
export const SQL_CORPUS: CorpusCase[] = [
  // PostgreSQL
  pg("SELECT * FROM users WHERE id = $1", S, ["users"]),
  pg("SELECT u.id, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = $1", S, ["users", "orders"]),
  pg("SELECT * FROM public.accounts a LEFT JOIN billing.invoices i ON i.account_id = a.id", S, [
    "public.accounts",
    "billing.invoices",
  ]),
  pg('SELECT * FROM "Public"."UserProfiles" WHERE "Id" = 1', S, ["Public.UserProfiles"]),
  pg("SELECT id FROM tickets WHERE customer_id IN (SELECT id FROM customers WHERE tier = 'gold')", S, [
    "tickets",
    "customers",
  ]),
  pg("SELECT * FROM orders WHERE EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = orders.id)", S, [
    "orders",
    "refunds",
  ]),
  pg("WITH recent AS (SELECT * FROM events WHERE ts > now() - interval '1 hour') SELECT count(*) FROM recent", S, [
    "events",
  ]),
  pg("WITH a AS (SELECT id FROM t1), b AS (SELECT id FROM a JOIN t2 USING (id)) SELECT * FROM b", S, ["t1", "t2"]),
  pg(
    "WITH RECURSIVE tree AS (SELECT id, parent_id FROM nodes WHERE id = 1 UNION ALL SELECT n.id, n.parent_id FROM nodes n JOIN tree ON n.parent_id = tree.id) SELECT * FROM tree",
    S,
    ["nodes"],
  ),
  pg("SELECT a FROM t1 UNION SELECT b FROM t2 EXCEPT SELECT c FROM t3", S, ["t1", "t2", "t3"]),
  pg(
    "SELECT * FROM (SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY ts) rn FROM logins) x WHERE rn = 1",
    S,
    ["logins"],
  ),
  pg("SELECT * FROM users u, LATERAL (SELECT * FROM orders o WHERE o.user_id = u.id LIMIT 3) recent", S, [
    "users",
    "orders",
  ]),
  pg("SELECT count(*) FROM ONLY measurements", S, ["measurements"]),
  pg("INSERT INTO audit_log (actor, action) VALUES ($1, $2)", I, ["audit_log"], ["audit_log"]),
  pg(
    "INSERT INTO archive.orders_old SELECT * FROM orders WHERE created_at < '2020-01-01'",
    I,
    ["archive.orders_old", "orders"],
    ["archive.orders_old"],
  ),
  pg(
    "WITH moved AS (DELETE FROM queue WHERE done RETURNING *) INSERT INTO queue_archive SELECT * FROM moved",
    ["DELETE", "INSERT"],
    ["queue", "queue_archive"],
    ["queue", "queue_archive"],
    "DELETE",
  ),
  pg(
    "INSERT INTO users (email) VALUES ('a@b.c') ON CONFLICT (email) DO UPDATE SET seen = now()",
    I,
    ["users"],
    ["users"],
  ),
  pg("UPDATE users SET last_login = now() WHERE id = $1", U, ["users"], ["users"]),
  pg("UPDATE users SET active = false", U, ["users"], ["users"], "UPDATE without WHERE"),
  pg(
    "UPDATE orders o SET status = 'void' FROM customers c WHERE c.id = o.customer_id AND c.banned",
    U,
    ["orders", "customers"],
    ["orders"],
  ),
  pg(
    "UPDATE inventory SET qty = qty - 1 WHERE sku IN (SELECT sku FROM cart_items WHERE cart_id = $1)",
    U,
    ["inventory", "cart_items"],
    ["inventory"],
  ),
  pg("DELETE FROM sessions WHERE expires_at < now()", D, ["sessions"], ["sessions"], "DELETE"),
  pg("DELETE FROM users", D, ["users"], ["users"], "DELETE without WHERE"),
  pg(
    "DELETE FROM users u USING banned_emails b WHERE u.email = b.email",
    D,
    ["users", "banned_emails"],
    ["users"],
    "DELETE",
  ),
  pg(
    "DELETE FROM notifications WHERE user_id IN (SELECT id FROM users WHERE deleted)",
    D,
    ["notifications", "users"],
    ["notifications"],
    "DELETE",
  ),
  pg("DROP TABLE customers", ["DROP"], ["customers"], ["customers"], "DROP TABLE"),
  pg(
    "DROP TABLE IF EXISTS staging.tmp_import, staging.tmp_export CASCADE",
    ["DROP"],
    ["staging.tmp_import", "staging.tmp_export"],
    ["staging.tmp_import", "staging.tmp_export"],
    "DROP TABLE",
  ),
  pg("TRUNCATE TABLE events", ["TRUNCATE"], ["events"], ["events"], "TRUNCATE"),
  pg(
    "TRUNCATE audit_log, audit_log_archive RESTART IDENTITY",
    ["TRUNCATE"],
    ["audit_log", "audit_log_archive"],
    ["audit_log", "audit_log_archive"],
    "TRUNCATE",
  ),
  pg("ALTER TABLE users ADD COLUMN nickname text", ["ALTER"], ["users"], ["users"], "ALTER TABLE"),
  pg("ALTER TABLE users DROP COLUMN ssn", ["ALTER"], ["users"], ["users"], "ALTER TABLE"),
  pg(
    "CREATE TABLE report_2026 AS SELECT * FROM sales WHERE year = 2026",
    ["CREATE"],
    ["report_2026", "sales"],
    ["report_2026"],
  ),
  pg("CREATE TABLE IF NOT EXISTS kv (k text primary key, v jsonb)", ["CREATE"], ["kv"], ["kv"]),
  pg(
    "MERGE INTO stock s USING deliveries d ON s.sku = d.sku WHEN MATCHED THEN UPDATE SET qty = s.qty + d.qty",
    ["MERGE"],
    ["stock", "deliveries"],
    ["stock"],
  ),
  pg(
    "SELECT * FROM users WHERE id = 1; DELETE FROM users WHERE id = 1",
    ["SELECT", "DELETE"],
    ["users"],
    ["users"],
    "DELETE",
  ),
  pg("SELECT 1", S, []),
  pg("SELECT now()", S, []),
  pg("BEGIN", ["STARTTRANSACTION"], []),
  pg("SELECT * FROM generate_series(1, 10) g JOIN items i ON i.id = g", S, ["items"]),
  pg("SELECT * FROM users WHERE name ILIKE '%drop table%'", S, ["users"]),
  pg("SELECT jsonb_agg(t) FROM (SELECT id FROM tickets WHERE status = 'open') t", S, ["tickets"]),
  pg(
    "INSERT INTO events (payload) SELECT jsonb_build_object('id', id) FROM users RETURNING id",
    I,
    ["events", "users"],
    ["events"],
  ),
  pg("UPDATE accounts SET balance = balance - 100 WHERE id = 1 RETURNING balance", U, ["accounts"], ["accounts"]),
  pg("SELECT * FROM pg_catalog.pg_tables", S, ["pg_catalog.pg_tables"]),

  // MySQL
  my("SELECT * FROM `users` WHERE `id` = ?", S, ["users"]),
  my("SELECT * FROM shop.orders o INNER JOIN shop.customers c ON c.id = o.customer_id", S, [
    "shop.orders",
    "shop.customers",
  ]),
  my("SELECT * FROM `Shop`.`Orders` LIMIT 10", S, ["Shop.Orders"]),
  my("SELECT p.name, (SELECT COUNT(*) FROM reviews r WHERE r.product_id = p.id) AS n FROM products p", S, [
    "products",
    "reviews",
  ]),
  my("SELECT * FROM a LEFT JOIN b ON a.id = b.a_id RIGHT JOIN c ON c.id = b.c_id", S, ["a", "b", "c"]),
  my("SELECT * FROM t1 UNION ALL SELECT * FROM t2", S, ["t1", "t2"]),
  my("INSERT INTO users (name, email) VALUES ('a', 'b'), ('c', 'd')", I, ["users"], ["users"]),
  my("INSERT IGNORE INTO tags (name) VALUES ('x')", I, ["tags"], ["tags"]),
  my("INSERT INTO stats (k, v) VALUES ('a', 1) ON DUPLICATE KEY UPDATE v = v + 1", I, ["stats"], ["stats"]),
  my("INSERT INTO backup.users SELECT * FROM users", I, ["backup.users", "users"], ["backup.users"]),
  my("REPLACE INTO cache (k, v) VALUES ('a', 'b')", ["REPLACE"], ["cache"], ["cache"]),
  my("UPDATE products SET price = price * 1.1 WHERE category_id = 3", U, ["products"], ["products"]),
  my("UPDATE products SET price = 0", U, ["products"], ["products"], "UPDATE without WHERE"),
  my(
    "UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.flag = 1 WHERE c.country = 'FR'",
    U,
    ["orders", "customers"],
    ["orders"],
  ),
  my("DELETE FROM logs WHERE created_at < NOW() - INTERVAL 30 DAY", D, ["logs"], ["logs"], "DELETE"),
  my("DELETE FROM logs", D, ["logs"], ["logs"], "DELETE without WHERE"),
  my(
    "DELETE t1, t2 FROM t1 INNER JOIN t2 ON t1.id = t2.id WHERE t1.expired = 1",
    D,
    ["t1", "t2"],
    ["t1", "t2"],
    "DELETE",
  ),
  my(
    "DELETE o FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.deleted = 1",
    D,
    ["orders", "customers"],
    ["orders"],
    "DELETE",
  ),
  my("DROP TABLE IF EXISTS `shop`.`users`", ["DROP"], ["shop.users"], ["shop.users"], "DROP TABLE"),
  my("DROP TABLE a, b", ["DROP"], ["a", "b"], ["a", "b"], "DROP TABLE"),
  my("TRUNCATE TABLE sessions", ["TRUNCATE"], ["sessions"], ["sessions"], "TRUNCATE"),
  my("ALTER TABLE users MODIFY COLUMN email VARCHAR(320)", ["ALTER"], ["users"], ["users"], "ALTER TABLE"),
  my("CREATE TABLE t2 LIKE t1", ["CREATE"], ["t2", "t1"], ["t2"]),
  my("CREATE TEMPORARY TABLE tmp_ids (id INT)", ["CREATE"], ["tmp_ids"], ["tmp_ids"]),
  my("SELECT * FROM users WHERE id = 1 FOR UPDATE", S, ["users"]),
  my("SELECT SQL_CALC_FOUND_ROWS * FROM articles LIMIT 10", S, ["articles"]),
  my("SELECT * FROM orders USE INDEX (idx_created) WHERE created_at > '2026-01-01'", S, ["orders"]),
  my("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'shop'", S, ["information_schema.tables"]),
  my(
    "UPDATE users SET status = 'x' WHERE id = 1; DROP TABLE users",
    ["UPDATE", "DROP"],
    ["users"],
    ["users"],
    "DROP TABLE",
  ),
  my("SELECT 'DELETE FROM users' AS note FROM dual", S, []),

  // SQLite
  lite("SELECT * FROM notes WHERE id = ?1", S, ["notes"]),
  lite("SELECT * FROM main.notes n JOIN tags t ON t.note_id = n.id", S, ["main.notes", "tags"]),
  lite('SELECT * FROM "note tags" WHERE tag = :tag', S, ["note tags"]),
  lite("SELECT * FROM [Order Details] WHERE qty > 5", S, ["Order Details"]),
  lite("INSERT INTO notes (body) VALUES ('hello')", I, ["notes"], ["notes"]),
  lite("INSERT OR REPLACE INTO settings (k, v) VALUES ('theme', 'dark')", I, ["settings"], ["settings"]),
  lite("INSERT INTO notes_fts SELECT id, body FROM notes", I, ["notes_fts", "notes"], ["notes_fts"]),
  lite("UPDATE notes SET body = 'x' WHERE id = 3", U, ["notes"], ["notes"]),
  lite("UPDATE notes SET archived = 1", U, ["notes"], ["notes"], "UPDATE without WHERE"),
  lite("DELETE FROM notes WHERE id = 3", D, ["notes"], ["notes"], "DELETE"),
  lite("DELETE FROM notes", D, ["notes"], ["notes"], "DELETE without WHERE"),
  lite("DROP TABLE notes", ["DROP"], ["notes"], ["notes"], "DROP TABLE"),
  lite("DROP TABLE IF EXISTS temp.scratch", ["DROP"], ["temp.scratch"], ["temp.scratch"], "DROP TABLE"),
  lite("ALTER TABLE notes RENAME TO notes_old", ["ALTER"], ["notes"], ["notes"], "ALTER TABLE"),
  lite("ALTER TABLE notes ADD COLUMN pinned INTEGER DEFAULT 0", ["ALTER"], ["notes"], ["notes"], "ALTER TABLE"),
  lite("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)", ["CREATE"], ["notes"], ["notes"]),
  lite("WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < 10) SELECT x FROM cnt", S, []),
  lite("SELECT * FROM notes WHERE id IN (SELECT note_id FROM pins) ORDER BY created DESC", S, ["notes", "pins"]),
  lite("SELECT n.* FROM notes n LEFT OUTER JOIN notes_fts f ON f.rowid = n.id WHERE f.body MATCH 'x'", S, [
    "notes",
    "notes_fts",
  ]),
  lite("SELECT name FROM sqlite_master WHERE type = 'table'", S, ["sqlite_master"]),
  lite("REPLACE INTO settings (k, v) VALUES ('a', 'b')", ["REPLACE"], ["settings"], ["settings"]),
  lite(
    "UPDATE notes SET body = (SELECT body FROM drafts WHERE drafts.id = notes.id) WHERE id = 2",
    U,
    ["notes", "drafts"],
    ["notes"],
  ),
  lite("DELETE FROM tags WHERE note_id NOT IN (SELECT id FROM notes)", D, ["tags", "notes"], ["tags"], "DELETE"),
  lite("INSERT INTO log VALUES (1, 'a'); INSERT INTO log VALUES (2, 'b')", I, ["log"], ["log"]),

  // ClickHouse
  ch("SELECT count() FROM events WHERE ts > now() - INTERVAL 1 HOUR", S, ["events"]),
  ch("SELECT * FROM analytics.events FINAL WHERE user_id = 42", S, ["analytics.events"]),
  ch("SELECT * FROM events PREWHERE event_date = today() WHERE user_id = 1", S, ["events"]),
  ch("SELECT uniq(user_id) FROM events GROUP BY toStartOfHour(ts) SETTINGS max_threads = 2", S, ["events"]),
  ch("SELECT e.id, u.name FROM events e ANY LEFT JOIN users u ON u.id = e.user_id", S, ["events", "users"]),
  ch("SELECT * FROM events e GLOBAL JOIN dim_users d ON d.id = e.user_id", S, ["events", "dim_users"]),
  ch("SELECT * FROM `db`.`events` LIMIT 5", S, ["db.events"]),
  ch("SELECT * FROM (SELECT user_id, count() c FROM events GROUP BY user_id) WHERE c > 10", S, ["events"]),
  ch(
    "WITH top AS (SELECT user_id FROM events GROUP BY user_id ORDER BY count() DESC LIMIT 10) SELECT * FROM users WHERE id IN (SELECT user_id FROM top)",
    S,
    ["events", "users"],
  ),
  ch("INSERT INTO events (id, ts) VALUES (1, now())", I, ["events"], ["events"]),
  ch(
    "INSERT INTO events_daily SELECT toDate(ts), count() FROM events GROUP BY toDate(ts)",
    I,
    ["events_daily", "events"],
    ["events_daily"],
  ),
  ch("ALTER TABLE events DELETE WHERE user_id = 42", ["ALTER"], ["events"], ["events"], "ALTER TABLE DELETE"),
  ch("ALTER TABLE events UPDATE status = 'x' WHERE 1", ["ALTER"], ["events"], ["events"], "ALTER TABLE UPDATE"),
  ch("ALTER TABLE events DROP PARTITION '2026-01-01'", ["ALTER"], ["events"], ["events"], "ALTER TABLE"),
  ch("TRUNCATE TABLE IF EXISTS events_tmp", ["TRUNCATE"], ["events_tmp"], ["events_tmp"], "TRUNCATE"),
  ch("DROP TABLE IF EXISTS events_tmp", ["DROP"], ["events_tmp"], ["events_tmp"], "DROP TABLE"),
  ch("CREATE TABLE IF NOT EXISTS t (x UInt64) ENGINE = MergeTree ORDER BY x", ["CREATE"], ["t"], ["t"]),
  ch("SELECT * FROM system.parts WHERE active", S, ["system.parts"]),
  ch("SELECT arrayJoin([1, 2, 3]) AS x", S, []),
  ch("SELECT * FROM events ARRAY JOIN tags AS tag WHERE tag = 'x'", S, ["events"]),
  ch("DELETE FROM events WHERE user_id = 7", D, ["events"], ["events"], "DELETE"),
  ch("SELECT a.x FROM a INNER JOIN b USING (x) WHERE b.y = 1 FORMAT JSONEachRow", S, ["a", "b"]),
  // A database dropped names no table: every table in it.
  ch("DROP DATABASE analytics", ["DROP"], ["analytics.*"], ["analytics.*"], "DROP DATABASE"),
  pg("DROP SCHEMA staging CASCADE", ["DROP"], ["staging.*"], ["staging.*"], "DROP SCHEMA"),
  // Table functions that read a table on another server.
  ch("SELECT * FROM remote('db2:9000', shop, orders)", S, ["shop.orders"]),
  ch("SELECT count() FROM cluster('main', 'shop.orders')", S, ["shop.orders"]),
  ch(
    "INSERT INTO local_copy SELECT * FROM mysql('db:3306', 'shop', 'customers', 'u', 'p')",
    ["INSERT"],
    ["local_copy", "shop.customers"],
    ["local_copy"],
  ),
  ch("SELECT * FROM numbers(10)", S, []),
  // Privilege changes: on the tables they name.
  pg("GRANT SELECT ON TABLE invoices TO bob", ["GRANT"], ["invoices"], ["invoices"], "GRANT (privilege change)"),
  my("REVOKE ALL ON orders FROM alice", ["REVOKE"], ["orders"], ["orders"], "REVOKE (privilege change)"),
  pg(
    "GRANT ALL ON ALL TABLES IN SCHEMA billing TO mallory",
    ["GRANT"],
    ["billing.*"],
    ["billing.*"],
    "GRANT (privilege change)",
  ),
];
