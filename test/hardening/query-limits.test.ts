// Hostile documents and requests through the real server, over HTTP and over WebSocket alike:
// every query limit answers with a coded error that names the limit; introspection and field
// suggestions follow INTROSPECTION; messages over 1 MB are refused (HTTP 413; the WebSocket is
// closed with 1009); over HTTP, Apollo's CSRF prevention refuses simple (preflight-free) requests.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_QUERY_LIMITS } from "../../src/graphql/guards/query-limits.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { expectStatus, TRANSPORTS, watchStderr, type Outcome } from "./transports.js";

const limits = DEFAULT_QUERY_LIMITS;

/** `projects { edges { node { backends { edges { node { project { backends … } } } } } } }` nested to `depth` fields. */
function deepQuery(depth: number): string {
  // Path: projects(1) edges(2) node(3) then [backends edges node project] repeating, ending on id.
  const fields = ["projects", "edges", "node"];
  const cycle = ["backends", "edges", "node", "project"];
  for (let i = 0; fields.length < depth - 1; i++) fields.push(cycle[i % cycle.length]);
  const last = fields.at(-1) === "project" || fields.at(-1) === "node" ? "id" : fields.at(-1) === "edges" ? "cursor" : "__typename";
  return `{ ${fields.join(" { ")} { ${last} }${" }".repeat(fields.length)}`;
}

const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(" ")} }`;
/** `n` directives, one per selection (@include is not repeatable). */
const directives = (n: number) => `{ me { ${"id @include(if: true) ".repeat(n)}} }`;

describe("query limits (INTROSPECTION default)", () => {
  let t: TestServer;
  const stderr = watchStderr();
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    stderr.restore();
    await t?.close();
  });

  for (const transport of TRANSPORTS) {
    describe(`over ${transport.name}`, () => {
      const run = async (query: string, variables?: Record<string, unknown>): Promise<Outcome & { code?: string; message?: string }> => {
        const response = await transport.client(t, t.adminToken).request(query, variables);
        return { ...response, code: response.errors?.[0]?.extensions?.code, message: response.errors?.[0]?.message };
      };
      it("depth: a document at the limit runs; one level deeper is refused naming the depth limit", async () => {
        const ok = await run(deepQuery(limits.maxDepth));
        expect(ok.code).toBeUndefined();
        expect(ok.data).toEqual({ projects: { edges: [] } });

        const tooDeep = await run(deepQuery(limits.maxDepth + 1));
        expectStatus(tooDeep, 400);
        expect(tooDeep.code).toBe("GRAPHQL_VALIDATION_FAILED");
        expect(tooDeep.message).toMatch(new RegExp(`depth limit of ${limits.maxDepth} exceeded, found ${limits.maxDepth + 1}`));
      });

      it("depth counts fragments too", async () => {
        const query = `query { ...P } fragment P on Query { projects { edges { node { ...B } } } }
          fragment B on Project { backends { edges { node { project { backends { edges { node { project { backends { edges { node { id } } } } } } } } } } } }`;
        const outcome = await run(query);
        expect(outcome.code).toBe("GRAPHQL_VALIDATION_FAILED");
        expect(outcome.message).toMatch(/depth limit of 12 exceeded/);
      });

      it("aliases: 15 run, 16 are refused naming the alias limit", async () => {
        const ok = await run(aliases(limits.maxAliases));
        expect(ok.code).toBeUndefined();
        expect(Object.keys(ok.data as object)).toHaveLength(limits.maxAliases);

        const tooMany = await run(aliases(limits.maxAliases + 1));
        expectStatus(tooMany, 400);
        expect(tooMany.code).toBe("GRAPHQL_VALIDATION_FAILED");
        expect(tooMany.message).toMatch(new RegExp(`Aliases limit of ${limits.maxAliases} exceeded, found ${limits.maxAliases + 1}`));
      });

      it("directives: 50 run, 51 are refused naming the directive limit", async () => {
        expect((await run(directives(limits.maxDirectives))).code).toBeUndefined();
        const tooMany = await run(directives(limits.maxDirectives + 1));
        expectStatus(tooMany, 400);
        expect(tooMany.code).toBe("GRAPHQL_VALIDATION_FAILED");
        expect(tooMany.message).toMatch(new RegExp(`Directives limit of ${limits.maxDirectives} exceeded, found ${limits.maxDirectives + 1}`));
      });

      it("tokens: a document of more than 2000 tokens is refused naming the token limit, before it is parsed further", async () => {
        // Seven selection sets of 240 repeated scalars, ~1,700 tokens in all. (Repeating a field in
        // one set costs graphql-js's overlap check n² of its 500,000 budget; beyond it validation
        // stops with "Validation aborted.", also a coded error.)
        const r = (field: string) => `${field} `.repeat(240);
        const under = `{ me { ${r("id")}} myApiTokens { ${r("id")}} awsRegions { ${r("code")}} awsIamPolicy(bucketName: "my-bucket") { ${r("bucketName")}}
          projects { edges { ${r("cursor")} node { ${r("id")}} } pageInfo { ${r("hasNextPage")}} } }`;
        const accepted = await run(under);
        expect(accepted.code).toBeUndefined();
        expect(accepted.data).toMatchObject({ me: { id: expect.any(String) } });
        const over = `{ me { ${"id ".repeat(limits.maxTokens)}} }`;
        const outcome = await run(over);
        expectStatus(outcome, 400);
        expect(outcome.code).toBe("GRAPHQL_VALIDATION_FAILED");
        expect(outcome.message).toMatch(new RegExp(`Token limit of ${limits.maxTokens} exceeded`));
      });

      it("a syntax error is a 400 GRAPHQL_PARSE_FAILED, whatever its size", async () => {
        for (const query of ["{ me { id ", `{ me { ${"id ".repeat(100)}`, '{ me(x: "unterminated) { id } }', "{ me { id } } }"]) {
          const outcome = await run(query);
          expectStatus(outcome, 400);
          expect(outcome.code, query).toBe("GRAPHQL_PARSE_FAILED");
          expect(outcome.message, query).toMatch(/^Syntax Error/);
        }
      });

      it("cost: page sizes multiply; 100 projects × 100 backends each is refused naming the cost limit", async () => {
        // The N+1 benchmark query stays under the limit (one level of `first: 100`).
        const nPlusOne = await run(
          "{ projects(first: 100) { edges { node { members { user { name } } backends { edges { node { lastRun { status } } } } } } } }",
        );
        expect(nPlusOne.code).toBeUndefined();

        const costly = await run("{ projects(first: 100) { edges { node { id backends(first: 100) { edges { node { id name status } } } } } } }");
        expectStatus(costly, 400);
        expect(costly.code).toBe("GRAPHQL_VALIDATION_FAILED");
        expect(costly.message).toMatch(new RegExp(`Cost limit of ${limits.maxCost} exceeded, found \\d+`));
      });

      it("a subscription is held to the same limits", async () => {
        const nested = `backend { project { backends { edges { node { project { backends { edges { node { project { backends { edges { node { id } } } } } } } } } } } } }`;
        const outcome = await run(`subscription { provisioningRunUpdated(id: "00000000-0000-4000-8000-000000000000") { ${nested} } }`);
        expect(outcome.code).toBe("GRAPHQL_VALIDATION_FAILED");
        expect(outcome.message).toMatch(/depth limit of 12 exceeded/);
      });

      it("a request that breaks several limits names each of them", async () => {
        const both = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { id @include(if: true) name @include(if: true) createdAt @skip(if: false) globalRole @skip(if: false) }`).join(" ")} }`;
        const response = await run(both);
        const messages = (response.errors ?? []).map((error) => error.message).join("\n");
        expect(messages).toMatch(/Aliases limit of 15 exceeded/);
        expect(messages).toMatch(/Directives limit of 50 exceeded, found 64/);
        expect(response.errors?.every((error) => error.extensions?.code === "GRAPHQL_VALIDATION_FAILED")).toBe(true);
      });

      it("introspection works by default (GraphiQL needs it), and is not counted against the limits", async () => {
        const outcome = await run(`{ __schema { queryType { name } types { name kind fields(includeDeprecated: true) { name type { name kind ofType { name kind ofType { name kind ofType { name kind } } } } } } } }`);
        expectStatus(outcome, 200);
        expect(outcome.errors).toBeUndefined();
        expect(outcome.data.__schema.queryType.name).toBe("Query");
        expect(outcome.data.__schema.types.map((type: { name: string }) => type.name)).toContain("Project");
      });

      it("field suggestions are given while introspection is on", async () => {
        const { errors } = await run("{ mee { id } }");
        expect(errors?.[0]?.message).toContain('Did you mean "me"?');
      });

      it("a message over 1 MB is refused before any GraphQL work (HTTP 413 PAYLOAD_TOO_LARGE; WebSocket closed with 1009)", async () => {
        const outcome = await run("query($padding: String) { project(name: $padding) { id } }", { padding: "x".repeat(1_100_000) });
        expect(outcome.data).toBeUndefined();
        if (transport.name === "HTTP") {
          expect(outcome.status).toBe(413);
          expect(outcome.code).toBe("PAYLOAD_TOO_LARGE");
          expect(outcome.message).toContain("1mb");
        } else {
          expect(outcome.closed?.code).toBe(1009); // "Message Too Big"
        }
      });

      it("a message just under 1 MB is accepted", async () => {
        const response = await run("query($padding: String) { project(name: $padding) { id } }", { padding: "x".repeat(1_000_000) });
        expectStatus(response, 200);
        expect(response.errors).toBeUndefined();
        expect(response.data).toEqual({ project: null });
      });
    });
  }

  it("nothing was printed to stderr (the server logs through its JSON logger)", () => {
    expect(stderr.written).toEqual([]);
  });
});

describe("over HTTP only", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.close());

  it("malformed JSON is a coded 400, not an HTML error page", async () => {
    const response = await fetch(t.url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"query": "{ me { id } }"' });
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe("BAD_REQUEST");
  });

  it("batched requests (an array of operations) are refused", async () => {
    const response = await fetch(t.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${t.adminToken}` },
      body: JSON.stringify([{ query: "{ me { id } }" }, { query: "{ me { id } }" }]),
    });
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe("BAD_REQUEST");
  });

  describe("CSRF prevention", () => {
    const query = "{ me { id name } }";
    const csrfRefused = async (response: Response) => {
      expect(response.status).toBe(400);
      const body = await response.json();
      expect(body.data).toBeUndefined();
      expect(body.errors[0].extensions.code).toBe("BAD_REQUEST");
      expect(body.errors[0].message).toMatch(/Cross-Site Request Forgery/);
    };

    it("refuses a text/plain POST (a simple request a browser sends cross-site without preflight)", async () => {
      await csrfRefused(
        await fetch(t.url, { method: "POST", headers: { "content-type": "text/plain", authorization: `Bearer ${t.adminToken}` }, body: JSON.stringify({ query }) }),
      );
    });

    it("refuses form-encoded and multipart POSTs", async () => {
      await csrfRefused(
        await fetch(t.url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `query=${encodeURIComponent(query)}` }),
      );
      const form = new FormData();
      form.set("query", query);
      await csrfRefused(await fetch(t.url, { method: "POST", body: form }));
    });

    it("refuses a GET with a query and no preflight header; accepts it with apollo-require-preflight", async () => {
      const url = `${t.url}?query=${encodeURIComponent(query)}`;
      await csrfRefused(await fetch(url, { headers: { authorization: `Bearer ${t.adminToken}` } }));
      const allowed = await fetch(url, { headers: { authorization: `Bearer ${t.adminToken}`, "apollo-require-preflight": "true" } });
      expect(allowed.status).toBe(200);
      expect((await allowed.json()).data.me.name).toBe("admin");
    });

    it("never runs a mutation over GET, even with the preflight header", async () => {
      const url = `${t.url}?query=${encodeURIComponent('mutation { createProject(input: { name: "csrf-get" }) { project { id } } }')}`;
      const response = await fetch(url, { headers: { authorization: `Bearer ${t.adminToken}`, "apollo-require-preflight": "true" } });
      expect(response.status).toBe(405);
      expect((await t.admin.ok('{ project(name: "csrf-get") { id } }')).project).toBeNull();
    });
  });
});

describe("INTROSPECTION=false", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ INTROSPECTION: "false" });
  });
  afterAll(() => t?.close());

  for (const transport of TRANSPORTS) {
    describe(`over ${transport.name}`, () => {
      const client = () => transport.client(t, t.adminToken);
      it("refuses __schema and __type with a coded error; __typename still works", async () => {
        for (const query of ["{ __schema { types { name } } }", '{ __type(name: "Project") { fields { name } } }']) {
          const response = await client().request(query);
          expectStatus(response, 400);
          expect(response.data).toBeUndefined();
          expect(response.errors?.[0]?.extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED", validationErrorCode: "INTROSPECTION_DISABLED" });
        }
        expect((await client().ok("{ __typename }")).__typename).toBe("Query");
      });

      it("gives no suggestions anywhere: field, argument, type, input field and enum value names stay hidden", async () => {
        const cases: [string, Record<string, unknown> | undefined, RegExp][] = [
          ["{ mee { id } }", undefined, /Cannot query field "mee" on type "Query"/],
          ["{ projects(firs: 1) { edges { cursor } } }", undefined, /Unknown argument "firs"/],
          ["query($x: Strin) { me { id } }", undefined, /Unknown type "Strin"/],
          ['mutation { createProject(input: { nam: "abc" }) { userErrors { code } } }', undefined, /Field "nam" is not defined/],
          ['mutation { setProjectMember(projectId: "x", input: { userId: "y", role: ADMN }) { userErrors { code } } }', undefined, /does not exist in "ProjectRole" enum/],
          [
            "mutation($input: SetProjectMemberInput!) { setProjectMember(projectId: \"x\", input: $input) { userErrors { code } } }",
            { input: { userId: "y", role: "ADMN" } },
            /does not exist in "ProjectRole" enum/,
          ],
          [
            "mutation($input: CreateProjectInput!) { createProject(input: $input) { userErrors { code } } }",
            { input: { name: "abc", descriptio: "x" } },
            /Field "descriptio" is not defined by type "CreateProjectInput"/,
          ],
        ];
        for (const [query, variables, expected] of cases) {
          const response = await client().request(query, variables);
          expectStatus(response, 400);
          const messages = (response.errors ?? []).map((error) => error.message).join("\n");
          expect(messages, query).toMatch(expected);
          expect(messages, query).not.toMatch(/Did you mean|Suggestion/i);
          // None of the real names the typo is close to.
          expect(messages, query).not.toMatch(/"me"|"first"|"String"|"name"|"ADMIN"|"description"/);
          expect(response.errors?.every((error) => typeof error.extensions?.code === "string")).toBe(true);
        }
      });

      it("the limits still apply", async () => {
        const response = await client().request(aliases(16));
        expect(response.errors?.[0]?.message).toMatch(/Aliases limit of 15 exceeded/);
      });
    });
  }
});
