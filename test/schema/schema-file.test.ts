import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { buildApiSchema, printApiSchema } from "../../src/resolvers/schema.js";

describe("schema.graphql", () => {
  it("is the schema the code builds (run `npm run schema:emit` after changing the API)", async () => {
    const committed = await readFile("schema.graphql", "utf8");
    expect(printApiSchema(await buildApiSchema())).toBe(committed);
  });
});
