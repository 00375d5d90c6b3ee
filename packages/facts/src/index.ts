export { extractFacts, inheritSessions, MAX_INPUT_LENGTH } from "./extract";
export type { ExtractOptions } from "./extract";
export { emptyFacts } from "./model";
export type { SpanFacts } from "./model";
export { outboundHost } from "./hosts";
export { sqlTables, initSqlParser, MAX_PARSED_SQL_LENGTH } from "./sql/statement-tables";
export { approximateSqlTables } from "./sql/approximate";
export { dialectFor, WRITE_KINDS } from "./sql/model";
export type { SqlTables, SqlDialect } from "./sql/model";
