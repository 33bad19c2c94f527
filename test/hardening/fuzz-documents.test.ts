// Random GraphQL documents built from the live schema (introspected over HTTP, so every field a
// later change adds is fuzzed too): a random root field, arguments of the right and of the wrong
// types (literals and variables), random selections to a random depth, unknown fields and
// arguments, fragments, directives and aliases, sent by an admin, a plain member or nobody.
// The answer is never a 500, and never lacks both data and coded errors.
import fc from "fast-check";
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { useMoto, useServer } from "../support/fixtures.js";
import type { GraphQLClient } from "../support/graphql-client.js";
import { createBucket, createIamUser, policy } from "../support/moto-iam.js";
import { anyJson, anyString, expectWellFormed, runs } from "./fuzz-support.js";

type Gen = fc.GeneratorValue;

const MAX_DEPTH = 7;

/** Known ids, so some arguments reach real objects instead of NOT_FOUND. */
interface Known {
  ids: string[];
}

class DocumentBuilder {
  private variables: Record<string, unknown> = {};
  private definitions: string[] = [];
  private aliases = 0;
  private fragments: string[] = [];

  /** Half the documents are hostile (wrong types, unknown names, missing selections); the rest are valid, with hostile values. */
  private readonly hostile: boolean;

  constructor(
    private readonly g: Gen,
    private readonly schema: GraphQLSchema,
    private readonly known: Known,
  ) {
    this.hostile = this.chance(50);
  }

  private int(min: number, max: number): number {
    return this.g(fc.integer, { min, max });
  }
  private chance(percent: number): boolean {
    return this.int(0, 99) < percent;
  }
  /** A deliberate mistake, only in hostile documents. */
  private bad(percent: number): boolean {
    return this.hostile && this.chance(percent);
  }
  private pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }

  build(): { query: string; variables: Record<string, unknown>; operation: string } {
    const roll = this.int(0, 99);
    const operation = roll < 60 ? "query" : roll < 95 ? "mutation" : "subscription";
    const root = operation === "query" ? this.schema.getQueryType() : operation === "mutation" ? this.schema.getMutationType() : this.schema.getSubscriptionType();
    if (!root) throw new Error(`schema has no ${operation} type`);
    const fieldCount = operation === "subscription" ? 1 : this.int(1, 2);
    const selections = Array.from({ length: fieldCount }, () => this.fieldSelection(root, 1)).join(" ");
    const definitions = this.definitions.length ? `(${this.definitions.join(", ")})` : "";
    const query = `${operation} Fuzz${definitions} { ${selections} }${this.fragments.map((fragment) => `\n${fragment}`).join("")}`;
    return { query, variables: this.variables, operation };
  }

  private fieldSelection(type: GraphQLObjectType, depth: number): string {
    const fields = Object.values(type.getFields());
    if (this.bad(6)) return this.pick(["nope", "__typename", "__schema { queryType { name } }", `${fields[0]?.name ?? "x"}_typo`]);
    const field = this.pick(fields);
    const alias = this.aliases < 10 && this.chance(10) ? `a${this.aliases++}: ` : "";
    const args = this.argumentsFor(field);
    const directive = this.chance(5) ? ` @${this.pick(["include", "skip"])}(if: ${this.hostile ? this.pick(["true", "false", '"yes"', "$undeclared"]) : this.pick(["true", "false"])})` : "";
    return `${alias}${field.name}${args}${directive}${this.subSelection(getNamedType(field.type), depth)}`;
  }

  private subSelection(named: GraphQLNamedType, depth: number): string {
    if (isLeafType(named)) return this.bad(5) ? " { id }" : "";
    if (this.bad(5)) return ""; // an object without a selection: a validation error
    if (depth >= MAX_DEPTH || this.chance(15)) return " { __typename }";
    if (isUnionType(named) || isInterfaceType(named)) {
      const possible = this.schema.getPossibleTypes(named);
      return ` { __typename ... on ${this.pick(possible).name} { ${this.fieldSelection(this.pick(possible), depth + 1)} } }`;
    }
    if (!isObjectType(named)) return "";
    const count = this.int(1, 3);
    const parts = Array.from({ length: count }, () => this.fieldSelection(named, depth + 1));
    if (this.chance(8)) {
      const name = `F${this.fragments.length}`;
      this.fragments.push(`fragment ${name} on ${named.name} { ${parts.join(" ")} }`);
      return ` { ...${name} }`;
    }
    if (this.chance(8)) return ` { ... on ${named.name} { ${parts.join(" ")} } }`;
    return ` { ${parts.join(" ")} }`;
  }

  private argumentsFor(field: GraphQLField<unknown, unknown>): string {
    const parts: string[] = [];
    for (const arg of field.args) {
      const required = isNonNullType(arg.type) && arg.defaultValue === undefined;
      if (required ? this.bad(10) : !this.chance(40)) continue;
      parts.push(`${arg.name}: ${this.chance(30) ? this.variableFor(arg) : this.literal(arg.type, 0)}`);
    }
    if (this.bad(6)) parts.push(`${this.pick(["unknownArg", "first", "id"])}: ${this.wrongLiteral()}`);
    return parts.length ? `(${parts.join(", ")})` : "";
  }

  private variableFor(arg: GraphQLArgument): string {
    const name = `v${this.definitions.length}`;
    // Usually the argument's own type; sometimes a wrong or unknown one.
    const declared = !this.bad(15) ? String(arg.type) : this.pick(["String", "Int!", "[ID]", "Boolean", "Unknown", "JSON"]);
    this.definitions.push(`$${name}: ${declared}`);
    if (!this.bad(20)) this.variables[name] = this.jsonValue(arg.type, 0);
    else if (this.chance(50)) this.variables[name] = this.g(anyJson);
    // else: left undefined (a required variable without a value)
    return `$${name}`;
  }

  /** A literal of the right type (mostly), as GraphQL source text. */
  private literal(type: GraphQLInputType, depth: number): string {
    if (this.bad(15)) return this.wrongLiteral();
    if (isNonNullType(type)) return this.literal(type.ofType, depth);
    if (isListType(type)) {
      if (this.chance(30)) return this.literal(type.ofType, depth + 1); // a single value for a list: coerced
      return `[${Array.from({ length: this.int(0, 3) }, () => this.literal(type.ofType, depth + 1)).join(", ")}]`;
    }
    if (isEnumType(type)) return this.bad(10) ? this.pick(["NOPE", "admin", "null"]) : this.pick(type.getValues()).name;
    if (isInputObjectType(type)) {
      if (depth > 4) return "{}";
      const fields = Object.values(type.getFields())
        .filter((field) => (isNonNullType(field.type) ? !this.bad(10) : this.chance(50)))
        .map((field) => `${field.name}: ${this.literal(field.type, depth + 1)}`);
      if (this.bad(5)) fields.push(`unknownField: ${this.wrongLiteral()}`);
      return `{ ${fields.join(", ")} }`;
    }
    if (isScalarType(type)) return this.scalarLiteral(type.name);
    return "null";
  }

  private scalarLiteral(name: string): string {
    switch (name) {
      case "Int":
        return String(this.pick([0, 1, -1, 20, 100, 101, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 99999999999999999999, this.int(-1000, 1000)]));
      case "Float":
        return this.pick(["0.5", "-1e10", "1e400", "3"]);
      case "Boolean":
        return this.pick(["true", "false"]);
      case "ID":
        return JSON.stringify(this.chance(40) && this.known.ids.length ? this.pick(this.known.ids) : this.g(() => fc.oneof(fc.uuid(), anyString(40))));
      case "DateTime":
        return JSON.stringify(this.g(() => fc.oneof(fc.date({ noInvalidDate: true }).map((date) => date.toISOString()), anyString(30))));
      case "JSON":
        return this.pick(["{}", '{ a: [1, "b", null] }', "1", '"x"', "null"]);
      default:
        return JSON.stringify(this.g(() => fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,20}[a-z0-9]$/), anyString(60))));
    }
  }

  private wrongLiteral(): string {
    return this.pick(['"string"', "42", "-1.5", "true", "null", "ENUM_VALUE", '[1, "a", null]', "{ x: 1, y: { z: [] } }", "$notDeclared", '""']);
  }

  /** A JSON variable value of the right type (mostly). */
  private jsonValue(type: GraphQLInputType, depth: number): unknown {
    if (this.bad(10)) return this.g(anyJson);
    if (isNonNullType(type)) return this.jsonValue(type.ofType, depth);
    if (isListType(type)) return Array.from({ length: this.int(0, 3) }, () => this.jsonValue(type.ofType, depth + 1));
    if (isEnumType(type)) return this.bad(10) ? "NOPE" : this.pick(type.getValues()).name;
    if (isInputObjectType(type)) {
      if (depth > 4) return {};
      const value: Record<string, unknown> = {};
      for (const field of Object.values(type.getFields())) {
        if (isNonNullType(field.type) ? !this.bad(10) : this.chance(50)) value[field.name] = this.jsonValue(field.type, depth + 1);
      }
      return value;
    }
    switch (isScalarType(type) ? type.name : "") {
      case "Int":
        return this.pick([0, 1, 20, 100, 101, -5, 2 ** 31, 1.5, Number.MAX_SAFE_INTEGER]);
      case "Float":
        return this.pick([0.5, -1e300, 3]);
      case "Boolean":
        return this.chance(50);
      case "ID":
        return this.chance(40) && this.known.ids.length ? this.pick(this.known.ids) : this.g(() => fc.oneof(fc.uuid(), anyString(40)));
      case "DateTime":
        return this.g(() => fc.oneof(fc.date({ noInvalidDate: true }).map((date) => date.toISOString()), anyString(30)));
      case "JSON":
        return this.g(anyJson);
      default:
        return this.g(() => fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,20}[a-z0-9]$/), anyString(60)));
    }
  }
}

describe("fuzzing with random documents from the schema", () => {
  const moto = useMoto({ reset: "once" });
  const t = useServer({ RATE_LIMIT_AUTH_FAILURES: "1000000", RATE_LIMIT_AWS_MUTATIONS: "1000000", AWS_DEFAULT_CREDENTIALS: "disabled" }, { aws: moto });
  let schema: GraphQLSchema;
  let member: GraphQLClient;
  const known: Known = { ids: [] };

  beforeAll(async () => {
    schema = buildClientSchema((await t.admin.ok(getIntrospectionQuery())) as never);

    // Something to find: a project with a backend (on moto), a run, and a member who is not an admin.
    await createBucket(moto.endpoint, "docs-bucket", "us-east-1");
    const keys = await createIamUser(moto.endpoint, { userName: "docs", policy: policy([{ Effect: "Allow", Action: "*", Resource: "*" }]) });
    const project = await t.admin.ok(`mutation { createProject(input: { name: "docs-fuzz" }) { project { id } } }`);
    const projectId = project.createProject.project.id;
    const backend = await t.admin.ok(
      `mutation($projectId: ID!, $input: CreateAwsBackendInput!) { createAwsBackend(projectId: $projectId, input: $input) { backend { id } userErrors { code } } }`,
      { projectId, input: { region: "us-east-1", bucket: "docs-bucket", credentials: { mode: "ACCESS_KEY", accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey } } },
    );
    const user = await t.admin.ok(`mutation { createUser(input: { name: "docs-member" }) { user { id } token } }`);
    await t.admin.ok(`mutation($projectId: ID!, $userId: ID!) { setProjectMember(projectId: $projectId, input: { userId: $userId, role: VIEWER }) { userErrors { code } } }`, {
      projectId,
      userId: user.createUser.user.id,
    });
    member = t.client(user.createUser.token);
    const me = await t.admin.ok("{ me { id } myApiTokens { id } }");
    known.ids.push(projectId, backend.createAwsBackend.backend.id, user.createUser.user.id, me.me.id);
  });

  it("the schema has every root type", () => {
    expect(schema.getQueryType()).toBeTruthy();
    expect(schema.getMutationType()).toBeTruthy();
    expect(schema.getSubscriptionType()).toBeTruthy();
  });

  it("never a 500, always data or coded errors", async () => {
    const seen = { ok: 0, executed: 0, errors: new Map<string, number>() };
    await fc.assert(
      fc.asyncProperty(fc.gen(), fc.constantFrom("admin", "admin", "admin", "member", "anonymous"), async (g, actor) => {
        const { query, variables } = new DocumentBuilder(g, schema, known).build();
        const client = actor === "admin" ? t.admin : actor === "member" ? member : t.client();
        const response = await client.request(query, variables);
        expectWellFormed(response, { actor, query, variables });
        if (!response.errors) seen.ok++;
        if (response.data !== undefined) seen.executed++;
        for (const error of response.errors ?? []) seen.errors.set(error.extensions?.code, (seen.errors.get(error.extensions?.code) ?? 0) + 1);
      }),
      runs(400),
    );
    // The generator must reach the resolvers, not only the validator.
    console.log(`random documents: ${seen.executed} executed, ${seen.ok} without errors; error codes: ${JSON.stringify(Object.fromEntries(seen.errors))}`);
    expect(seen.executed).toBeGreaterThan(runs(400).numRuns * 0.25);
  });

  it("the server is still healthy afterwards", async () => {
    expect((await fetch(new URL("/readyz", t.url))).status).toBe(200);
    expect((await t.admin.ok("{ me { name } }")).me.name).toBe("admin");
  });
});
