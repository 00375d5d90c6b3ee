/**
 * Reading the engine's own parse of a statement (`EXPLAIN AST`), so that the SQL
 * endpoint's check sees exactly what the engine will execute. A second parser (ours, in
 * JavaScript) would disagree with the engine's lexer somewhere: escapes inside quoted
 * identifiers, comments, heredocs, unicode. Here the engine parses, we only read its tree.
 *
 * The tree is printed as text, one node a line, indented one space a level, with
 * `(children N)` after a node that has any. Identifiers are printed raw, so an
 * identifier holding a newline could forge lines: `canonicalTokensProblem` refuses such
 * identifiers before the tree is asked for, and `parseExplainAst` checks every child
 * count, so a tree that does not add up is refused rather than read.
 */

export interface AstNode {
  kind: string;
  /** The node's first word after its kind: a function's or identifier's name. */
  name: string;
  children: AstNode[];
}

const LINE = /^( *)([A-Za-z]+)(?: (.*))?$/;
const CHILDREN = / ?\(children (\d+)\)$/;

/** Parses `EXPLAIN AST` output into a tree; throws when the lines do not form one. */
export function parseExplainAst(lines: readonly string[]): AstNode {
  const parsed = lines.map((line) => {
    const m = LINE.exec(line);
    if (m === null) throw new Error(`unreadable syntax tree line: ${JSON.stringify(line.slice(0, 80))}`);
    const count = CHILDREN.exec(m[3] ?? "");
    const rest = count === null ? (m[3] ?? "") : (m[3] ?? "").slice(0, count.index);
    // Literals keep their text; for every other node the name ends where " (alias" begins.
    const name = m[2] === "Literal" ? rest : (rest.split(" (alias ")[0] ?? "");
    return { depth: m[1]!.length, kind: m[2]!, name, declared: count === null ? 0 : Number(count[1]) };
  });
  let at = 0;
  const read = (depth: number): AstNode => {
    const line = parsed[at++];
    if (line?.depth !== depth) throw new Error("the syntax tree's indentation does not add up");
    const node: AstNode = { kind: line.kind, name: line.name, children: [] };
    for (let i = 0; i < line.declared; i++) node.children.push(read(depth + 1));
    return node;
  };
  const root = read(0);
  if (at !== parsed.length) throw new Error("the syntax tree has lines outside its root");
  return root;
}

/**
 * Checks the engine's canonical text of a statement (`formatQuerySingleLine`) token by
 * token: no quoted identifier that could print as more than one line in the tree, no
 * second statement, no output clause, no query parameter. Returns the problem, or
 * undefined. The canonical text has no comments and escapes every string literal.
 */
export function canonicalTokensProblem(text: string): string | undefined {
  let depth = 0;
  for (let i = 0; i < text.length;) {
    const c = text[i]!;
    if (c === "'") {
      i++;
      while (i < text.length && text[i] !== "'") i += text[i] === "\\" ? 2 : 1;
      if (i >= text.length) return "an unterminated string literal";
      i++;
      continue;
    }
    if (c === "`" || c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === "\\" ? 2 : 1;
      const inner = text.slice(i + 1, j);
      // The tree prints identifiers raw: an escape (\n) or a control or line-separator
      // character would print as a line break and could forge nodes.
      if (!/^[^\\\p{Cc}\p{Zl}\p{Zp}`"]+$/u.test(inner))
        return `the quoted identifier ${JSON.stringify(inner.slice(0, 40))} (no escapes or control characters in identifiers)`;
      i = j + 1;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < text.length && /[A-Za-z0-9_$]/.test(text[j]!)) j++;
      const word = text.slice(i, j).toUpperCase();
      const next = /^\s*\(/.test(text.slice(j, j + 8));
      if (!next && (word === "INTO" || word === "FORMAT" || word === "SETTINGS" || word === "OUTFILE"))
        return `a ${word} clause (the endpoint sets output and limits itself)`;
      i = j;
      continue;
    }
    if (c === ";") return "more than one statement";
    if (c === "{" || c === "}") return "a query parameter or brace (values go in the SQL itself)";
    if (c === "(") depth++;
    if (c === ")" && --depth < 0) return "unbalanced parentheses";
    i++;
  }
  return depth === 0 ? undefined : "unbalanced parentheses";
}

/** What the engine offers, read once from its own catalogue. */
export interface EngineCatalogue {
  /** Lower-cased names (and aliases) of built-in functions; true for aggregates. */
  functions: ReadonlyMap<string, { aggregate: boolean; canonical: string }>;
  /** Aggregate combinator suffixes, lower-cased (`if`, `ornull`, `state`, ...). */
  combinators: readonly string[];
  database: string;
}

/** What a reader may touch, and how to ask whether a name is a table somewhere. */
export interface ReadPolicy {
  readableTables: ReadonlySet<string>;
  /** Table functions that read nothing outside the query (`numbers`). */
  allowedTableFunctions: ReadonlySet<string>;
  /** Functions that reach outside the store or disclose the server; lower-case, canonical names. */
  deniedFunctions: ReadonlySet<string>;
  deniedFunctionPrefixes: readonly string[];
}

/** Tree node kinds a SELECT over tables may contain; anything else is refused. */
const ALLOWED_KINDS = new Set([
  "SelectWithUnionQuery",
  "SelectIntersectExceptQuery",
  "ExpressionList",
  "SelectQuery",
  "Identifier",
  "TableIdentifier",
  "Literal",
  "Function",
  "Asterisk",
  "QualifiedAsterisk",
  "ColumnsRegexpMatcher",
  "ColumnsListMatcher",
  "QualifiedColumnsRegexpMatcher",
  "QualifiedColumnsListMatcher",
  "ColumnsTransformerList",
  "ColumnsExceptTransformer",
  "ColumnsReplaceTransformer",
  "ColumnsReplaceTransformerReplacement",
  "ColumnsApplyTransformer",
  "TablesInSelectQuery",
  "TablesInSelectQueryElement",
  "TableExpression",
  "TableJoin",
  "ArrayJoin",
  "Subquery",
  "WithElement",
  "OrderByElement",
  "WindowDefinition",
  "WindowListElement",
  "InterpolateElement",
  "SampleRatio",
]);

/** Functions whose right operand names a table when it is a bare identifier (`x IN agent_tokens`). */
const SET_FUNCTIONS = new Set([
  "in",
  "notin",
  "globalin",
  "globalnotin",
  "nullin",
  "notnullin",
  "globalnullin",
  "globalnotnullin",
  "inignoreset",
  "notinignoreset",
  "globalinignoreset",
  "globalnotinignoreset",
]);

/** The result of reading a tree: unqualified table names to look up, or the first problem. */
export type AstVerdict = { ok: true; tables: string[]; unknownNames: string[] } | { ok: false; reason: string };

/**
 * Walks the engine's tree of a statement and decides what it may do: every node kind
 * known, every function a built-in that stays inside the store, every table readable.
 * An unqualified name that is not a readable table may be a CTE: it is returned in
 * `unknownNames`, and the caller refuses it if a table of that name exists anywhere
 * (so a CTE cannot lend its name to a table it shadows in another scope).
 */
export function checkAst(root: AstNode, catalogue: EngineCatalogue, policy: ReadPolicy): AstVerdict {
  if (root.kind !== "SelectWithUnionQuery") return { ok: false, reason: "only a SELECT may run here" };
  const tables = new Set<string>();
  const unknown = new Set<string>();
  const problems: string[] = [];
  const visit = (node: AstNode, parent: AstNode | undefined): void => {
    if (!ALLOWED_KINDS.has(node.kind)) {
      problems.push(`${node.kind === "Set" ? "a SETTINGS clause" : `a ${node.kind} node`} is not allowed`);
      return;
    }
    if (node.kind === "TableIdentifier") tableName(node.name);
    if (node.kind === "Function") {
      if (parent?.kind === "TableExpression") {
        if (!policy.allowedTableFunctions.has(node.name.toLowerCase()))
          problems.push(`table function ${node.name}() is not allowed`);
      } else {
        const problem = functionProblem(node.name, catalogue, policy);
        if (problem !== undefined) problems.push(problem);
        const args = node.children[0]?.children ?? [];
        if (SET_FUNCTIONS.has(node.name.toLowerCase()) && args[1]?.kind === "Identifier")
          problems.push(`${node.name} over a table name is not allowed; use a subquery`);
      }
    }
    for (const child of node.children) visit(child, node);
  };
  const tableName = (name: string): void => {
    // The engine names system.one itself for a SELECT without FROM.
    if (name === "system.one") return;
    const parts = name.split(".");
    const table = (parts.at(-1) ?? "").toLowerCase();
    if (parts.length === 2 && parts[0] !== catalogue.database)
      problems.push(`table "${name}" is not readable through the API`);
    else if (parts.length > 2) problems.push(`table "${name}" is not readable through the API`);
    else if (policy.readableTables.has(table)) tables.add(table);
    else if (parts.length === 2) problems.push(`table "${name}" is not readable through the API`);
    else unknown.add(table);
  };
  visit(root, undefined);
  if (problems.length > 0) return { ok: false, reason: [...new Set(problems)].join("; ") };
  return { ok: true, tables: [...tables], unknownNames: [...unknown] };
}

function functionProblem(name: string, catalogue: EngineCatalogue, policy: ReadPolicy): string | undefined {
  const lower = name.toLowerCase();
  if (lower === "lambda") return undefined;
  const resolved = resolveFunction(lower, catalogue);
  if (resolved === undefined) return `function ${name}() is not a built-in function`;
  for (const candidate of [lower, resolved]) {
    if (policy.deniedFunctions.has(candidate) || policy.deniedFunctionPrefixes.some((p) => candidate.startsWith(p)))
      return `function ${name}() is not allowed (it reaches outside the store)`;
  }
  return undefined;
}

/** The canonical lower-case name of a function, through aliases and aggregate combinators. */
function resolveFunction(lower: string, catalogue: EngineCatalogue): string | undefined {
  const direct = catalogue.functions.get(lower);
  if (direct !== undefined) return direct.canonical;
  for (const suffix of catalogue.combinators) {
    if (lower.length > suffix.length && lower.endsWith(suffix)) {
      const base = lower.slice(0, -suffix.length);
      const entry = catalogue.functions.get(base);
      if (entry?.aggregate === true) return entry.canonical;
      const deeper = resolveFunction(base, catalogue);
      if (deeper !== undefined && catalogue.functions.get(deeper)?.aggregate === true) return deeper;
    }
  }
  return undefined;
}
