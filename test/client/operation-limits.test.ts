// Every operation of the typed client passes the server's validation, query limits included
// (graphql-armor's cost and depth limits reject deep selections before they run; the token limit
// rejects long documents).
import fs from "node:fs";
import path from "node:path";
import { Lexer, Source, TokenKind, buildSchema, parse, specifiedRules, validate, type ValidationRule } from "graphql";
import { describe, expect, it } from "vitest";
import * as generated from "../../client/src/generated/graphql.js";
import { DEFAULT_QUERY_LIMITS, queryLimits } from "../../src/graphql/guards/query-limits.js";

describe("typed client operations", () => {
  const schema = buildSchema(fs.readFileSync(path.join(process.cwd(), "schema.graphql"), "utf8"));
  const armorRules = queryLimits(DEFAULT_QUERY_LIMITS, false).validationRules as ValidationRule[];
  const documents = Object.entries(generated).filter(
    ([name, value]) => name.endsWith("Document") && value instanceof generated.TypedDocumentString,
  );

  it.each(documents.map(([name, document]) => [name, String(document)]))("%s is valid and within the query limits", (_name, source) => {
    const errors = validate(schema, parse(source), [...specifiedRules, ...armorRules]);
    expect(errors.map((error) => error.message)).toEqual([]);
    expect(countTokens(source)).toBeLessThanOrEqual(DEFAULT_QUERY_LIMITS.maxTokens);
  });
});

function countTokens(source: string): number {
  const lexer = new Lexer(new Source(source));
  let count = 0;
  for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) count++;
  return count;
}
