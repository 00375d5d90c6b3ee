/**
 * Writes deploy/clickhouse/users.sql from the service users defined in
 * packages/store/src/access/service-users.ts: `npm run render:users`.
 * test/deploy/clickhouse-users.test.ts fails while the file is out of date.
 */
import { writeFileSync } from "node:fs";
import { renderUsersSql } from "@vigil/store";

const target = new URL("../deploy/clickhouse/users.sql", import.meta.url);
writeFileSync(target, renderUsersSql());
console.log(`wrote ${target.pathname}`);
