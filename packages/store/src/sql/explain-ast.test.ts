import { describe, expect, it } from "vitest";
import { canonicalTokensProblem, checkAst, parseExplainAst } from "./explain-ast";
import type { EngineCatalogue } from "./explain-ast";
import { READ_POLICY } from "./read-only-query";

const catalogue: EngineCatalogue = {
  functions: new Map([
    ["count", { aggregate: true, canonical: "count" }],
    ["file", { aggregate: false, canonical: "file" }],
    ["plus", { aggregate: false, canonical: "plus" }],
    ["in", { aggregate: false, canonical: "in" }],
    ["dictgetstring", { aggregate: false, canonical: "dictgetstring" }],
  ]),
  combinators: ["ornull", "if"],
  database: "default",
};

const tree = (text: string) => parseExplainAst(text.split("\n"));
const check = (text: string) => checkAst(tree(text), catalogue, READ_POLICY);

const selectFrom = (table: string, expr = "    Asterisk") =>
  [
    "SelectWithUnionQuery (children 1)",
    " ExpressionList (children 1)",
    "  SelectQuery (children 2)",
    "   ExpressionList (children 1)",
    expr,
    "   TablesInSelectQuery (children 1)",
    "    TablesInSelectQueryElement (children 1)",
    "     TableExpression (children 1)",
    `      TableIdentifier ${table}`,
  ].join("\n");

describe("parseExplainAst", () => {
  it("refuses a tree whose child counts do not add up (a forged line)", () => {
    expect(() => tree("SelectWithUnionQuery (children 1)\n ExpressionList\n Function file")).toThrow(
      /outside its root/,
    );
    expect(() => tree("SelectWithUnionQuery (children 2)\n ExpressionList")).toThrow(/indentation/);
    expect(() => tree("SelectWithUnionQuery (children 1)\n\tExpressionList")).toThrow(/unreadable/);
  });

  it("keeps literal text whole, whatever it holds", () => {
    const t = tree("SelectWithUnionQuery (children 1)\n Literal 'x (children 3)'");
    expect(t.children[0]).toEqual({ kind: "Literal", name: "'x (children 3)'", children: [] });
  });
});

describe("checkAst", () => {
  it("allows a readable table and a built-in aggregate with a combinator", () => {
    const v = check(selectFrom("spans", "    Function countIfOrNull (alias n) (children 1)\n     ExpressionList"));
    expect(v).toEqual({ ok: true, tables: ["spans"], unknownNames: [] });
  });

  it("refuses a function that reaches outside, a family member, and one the engine does not know", () => {
    const file = check(selectFrom("spans", "    Function FILE (children 1)\n     ExpressionList"));
    expect(file).toMatchObject({ ok: false, reason: expect.stringMatching(/FILE\(\) is not allowed/) as unknown });
    const dict = check(selectFrom("spans", "    Function dictGetString (children 1)\n     ExpressionList"));
    expect(dict).toMatchObject({ ok: false });
    const udf = check(selectFrom("spans", "    Function myUdf (children 1)\n     ExpressionList"));
    expect(udf).toMatchObject({ ok: false, reason: expect.stringMatching(/not a built-in/) as unknown });
  });

  it("refuses other databases' tables and returns unknown names for the table look-up", () => {
    expect(check(selectFrom("system.users"))).toMatchObject({ ok: false });
    expect(check(selectFrom("other.spans"))).toMatchObject({ ok: false });
    expect(check(selectFrom("default.spans"))).toMatchObject({ ok: true, tables: ["spans"] });
    expect(check(selectFrom("agent_tokens"))).toEqual({ ok: true, tables: [], unknownNames: ["agent_tokens"] });
  });

  it("refuses node kinds it does not know, a SETTINGS clause and a table name on the right of IN", () => {
    expect(check("SelectWithUnionQuery (children 1)\n Explain (children 1)\n  Literal 1")).toMatchObject({ ok: false });
    expect(check("SelectWithUnionQuery (children 1)\n Set")).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/SETTINGS/) as unknown,
    });
    const inTable = [
      "    Function in (children 1)",
      "     ExpressionList (children 2)",
      "      Identifier x",
      "      Identifier agent_tokens",
    ].join("\n");
    expect(check(selectFrom("spans", inTable))).toMatchObject({ ok: false });
  });
});

describe("canonicalTokensProblem", () => {
  it.each([
    ["SELECT `a\\n Function file` FROM t", /quoted identifier/],
    ["SELECT 1 INTO OUTFILE 'x'", /INTO/],
    ["SELECT 1 FORMAT TSV", /FORMAT/],
    ["SELECT {p:String}", /parameter/],
    ["SELECT 1; SELECT 2", /more than one/],
    ["SELECT (1", /unbalanced/],
    ["SELECT 'abc", /unterminated/],
  ])("refuses %s", (text, reason) => {
    expect(canonicalTokensProblem(text)).toMatch(reason);
  });

  it("accepts literals holding any of those, a function called format(), and a readable quoted alias", () => {
    expect(
      canonicalTokensProblem("SELECT 'INTO OUTFILE ; { \\' (', format('{}', 1), `agent id` FROM t"),
    ).toBeUndefined();
  });
});
