// No N+1: the SQL statements behind a nested page of projects (members and their users, backends
// and their last runs) are the same in number for 1 project as for 100.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useServer } from "../support/fixtures.js";
import { countSql, N_PLUS_ONE_QUERY, seedProjectsSql, type SqlCounter } from "./sql-counter.js";

describe("no N+1", () => {
  const t = useServer();
  let db: pg.Client;
  let counter: SqlCounter;
  let adminId: string;

  beforeAll(async () => {
    db = new pg.Client({ connectionString: t.databaseUrl });
    await db.connect();
    adminId = (await t.admin.ok("{ me { id } }")).me.id;
    counter = countSql(t.server.database.pool);
  });
  afterAll(async () => {
    counter?.stop();
    await db?.end();
  });

  /** The statements of one request, after a warm-up request (so the token's lastUsedAt write is not among them). */
  async function statementsOf(query: string): Promise<{ data: any; statements: string[] }> {
    await t.admin.ok("{ me { id } }");
    const { result, statements } = await counter.count(() => t.admin.ok(query));
    return { data: result, statements };
  }

  it(`"${N_PLUS_ONE_QUERY}" takes as many statements for 100 projects as for 1`, async () => {
    await db.query(seedProjectsSql(1, adminId, "one"));
    const one = await statementsOf(N_PLUS_ONE_QUERY);
    expect(one.data.projects.edges).toHaveLength(1);
    expect(one.data.projects.edges[0].node).toEqual({
      members: [{ user: { name: "admin" } }],
      backends: { edges: [{ node: { lastRun: { status: "SUCCEEDED" } } }] },
    });

    await db.query(seedProjectsSql(99, adminId, "many"));
    const hundred = await statementsOf(N_PLUS_ONE_QUERY);
    expect(hundred.data.projects.edges).toHaveLength(100);
    for (const edge of hundred.data.projects.edges) {
      expect(edge.node.members).toEqual([{ user: { name: "admin" } }]);
      expect(edge.node.backends.edges).toEqual([{ node: { lastRun: { status: "SUCCEEDED" } } }]);
    }

    expect(hundred.statements.length, hundred.statements.join("\n---\n")).toBe(one.statements.length);
    // Authentication, the page of projects, members with users, backends, last runs with steps.
    expect(one.statements.length).toBeLessThanOrEqual(8);
  });

  it("the same holds for a non-admin member (the visibility filter adds no per-project statements)", async () => {
    const created = await t.admin.ok(`mutation { createUser(input: { name: "member" }) { user { id } token } }`);
    const member = t.client(created.createUser.token);
    await db.query(`INSERT INTO "ProjectMember" ("projectId", "userId", role) SELECT id, $1::uuid, 'VIEWER' FROM "Project" ORDER BY "createdAt" LIMIT 1`, [
      created.createUser.user.id,
    ]);
    await member.ok("{ me { id } }");
    const one = await counter.count(() => member.ok(N_PLUS_ONE_QUERY));
    expect(one.result.projects.edges).toHaveLength(1);
    await db.query(`INSERT INTO "ProjectMember" ("projectId", "userId", role) SELECT id, $1::uuid, 'VIEWER' FROM "Project" ON CONFLICT DO NOTHING`, [
      created.createUser.user.id,
    ]);
    await member.ok("{ me { id } }");
    const all = await counter.count(() => member.ok(N_PLUS_ONE_QUERY));
    expect(all.result.projects.edges).toHaveLength(100);
    expect(all.statements.length).toBe(one.statements.length);
  });

  it("lastRun reads one run per backend, however long the backends' history", async () => {
    // 20 older runs (with steps) for every backend; the newest stays the one seeded first.
    await db.query(`
      WITH r AS (
        INSERT INTO "ProvisioningRun" (id, "backendId", kind, status, "createdAt")
        SELECT gen_random_uuid(), b.id, 'TEARDOWN', 'FAILED', now() - n * interval '1 hour' FROM "Backend" b, generate_series(1, 20) AS n
        RETURNING id
      )
      INSERT INTO "ProvisioningStep" (id, "runId", position, name) SELECT gen_random_uuid(), id, p, 'step-' || p FROM r, generate_series(0, 5) AS p`);
    const { result, details } = await counter.count(() =>
      t.admin.ok("{ projects(first: 100) { edges { node { backends { edges { node { lastRun { kind status steps { name status } } } } } } } } }"),
    );
    for (const edge of result.projects.edges) {
      expect(edge.node.backends.edges[0].node.lastRun).toEqual({ kind: "PROVISION", status: "SUCCEEDED", steps: [{ name: "iam-policy", status: "DONE" }] });
    }
    const runs = details.find((statement) => /FROM "ProvisioningRun"|"ProvisioningRun" WHERE/.test(statement.sql));
    const steps = details.find((statement) => /"ProvisioningStep"/.test(statement.sql));
    expect(runs?.rows).toBe(100);
    expect(steps?.rows).toBe(100);
  });

  it("a backend's project and a run's backend are batched too", async () => {
    const query = "{ projects(first: 100) { edges { node { backends { edges { node { project { name } lastRun { backend { name } } } } } } } } }";
    const few = await counter.count(() => t.admin.ok(query.replace("first: 100", "first: 2")));
    const many = await counter.count(() => t.admin.ok(query));
    expect(many.result.projects.edges).toHaveLength(100);
    expect(many.statements.length).toBe(few.statements.length);
  });
});
