/**
 * The security facts of one span, stored as typed columns beside the raw span so that
 * detectors and queries never parse JSON at read time. Empty string / empty array /
 * false means "not present".
 */
export interface SpanFacts {
  /** The agent the span claims to be (gen_ai.agent.id, else service.name; a gen_ai.agent.name is a display name, not a claim); the token decides the stored agent. */
  claimedAgent: string;
  sessionId: string;
  environment: string;
  /** gen_ai.operation.name: chat, execute_tool, invoke_agent, ... */
  operation: string;
  tool: string;
  dbSystem: string;
  /** db.operation.name, else the first statement kind parsed from db.query.text. */
  dbOperation: string;
  /** Every table touched: db.collection.name and the tables of db.query.text. */
  dbTables: string[];
  dbTablesWritten: string[];
  dbStatementKinds: string[];
  /** True when the query text was read by the tokenizer, not the parser. */
  dbTablesApproximate: boolean;
  outboundHost: string;
  credentialId: string;
  peerAgent: string;
  /** The input that caused this step (prompt, tool arguments, message event), truncated. */
  input: string;
  /** Where `input` came from: the attribute or event name. */
  inputSource: string;
  approvalId: string;
  approvalStatus: string;
  destructive: boolean;
  destructiveReason: string;
  /** The MCP server a step called or belongs to: its name (from the protocol's initialize), else its network address. */
  mcpServer: string;
  /** The MCP request (mcp.method.name): tools/call, resources/read, initialize, ... */
  mcpMethod: string;
  /**
   * The instrumentation conventions that filled facts the OpenTelemetry conventions left
   * empty ("ai-sdk", "openinference", "traceloop"; empty when the span follows them alone).
   */
  dialect: string;
}

/** Facts of a span that says nothing a security team can use. */
export function emptyFacts(): SpanFacts {
  return {
    claimedAgent: "",
    sessionId: "",
    environment: "",
    operation: "",
    tool: "",
    dbSystem: "",
    dbOperation: "",
    dbTables: [],
    dbTablesWritten: [],
    dbStatementKinds: [],
    dbTablesApproximate: false,
    outboundHost: "",
    credentialId: "",
    peerAgent: "",
    input: "",
    inputSource: "",
    approvalId: "",
    approvalStatus: "",
    destructive: false,
    destructiveReason: "",
    mcpServer: "",
    mcpMethod: "",
    dialect: "",
  };
}
