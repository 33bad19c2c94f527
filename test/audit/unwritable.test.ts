// When the audit log cannot be written. The failure is made honestly, in the database: a trigger
// that refuses inserts into one audit table, as a full disk, a revoked grant or a broken replica
// would. A mutation whose intent cannot be recorded does not run; one whose outcome cannot be
// recorded is reported as failed (it may have been applied) and its intent row is recorded later
// as FAILED with OUTCOME_UNKNOWN.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { auditRows, CREATE_PROJECT, sql, UPDATE_PROJECT, VERIFY } from "./support.js";

const REFUSE = `CREATE OR REPLACE FUNCTION test_refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN RAISE EXCEPTION 'test: audit storage refuses writes'; END $$`;

describe("when the audit log cannot be written", () => {
  let t: TestServer;
  let projectId: string;
  beforeAll(async () => {
    t = await startTestServer();
    projectId = (await t.admin.ok(CREATE_PROJECT, { input: { name: "unwritable" } })).createProject.project.id;
    await sql(t.databaseUrl, REFUSE);
  });
  afterEach(async () => {
    await sql(t.databaseUrl, `DROP TRIGGER IF EXISTS test_refuse ON "AuditPending"`);
    await sql(t.databaseUrl, `DROP TRIGGER IF EXISTS test_refuse ON "AuditEvent"`);
  });
  afterAll(() => t?.close());

  const refuseInserts = (table: string) => sql(t.databaseUrl, `CREATE TRIGGER test_refuse BEFORE INSERT ON "${table}" FOR EACH ROW EXECUTE FUNCTION test_refuse_insert()`);
  const projectNamed = async (name: string) => (await sql(t.databaseUrl, `SELECT id, description FROM "Project" WHERE name = $1`, [name])).rows[0];

  it("refuses a mutation whose intent cannot be recorded, and changes nothing", async () => {
    await refuseInserts("AuditPending");
    const events = (await auditRows(t.databaseUrl)).length;
    const refused = await t.admin.request(CREATE_PROJECT, { input: { name: "never-created" } });
    expect(refused.errors?.[0]?.extensions?.code).toBe("SERVICE_UNAVAILABLE");
    expect(refused.errors?.[0]?.message).toMatch(/audit log cannot be written, so createProject was not run; nothing changed/);
    expect(refused.raw).not.toMatch(/test: audit storage/); // the database's message stays in the log
    expect(await projectNamed("never-created")).toBeUndefined();
    expect((await auditRows(t.databaseUrl)).length).toBe(events);
    expect(t.logs.some((line) => line.includes("audit log unavailable: mutation refused"))).toBe(true);

    await sql(t.databaseUrl, `DROP TRIGGER test_refuse ON "AuditPending"`);
    expect((await t.admin.ok(CREATE_PROJECT, { input: { name: "never-created" } })).createProject.userErrors).toEqual([]);
  });

  it("reports a mutation whose outcome cannot be recorded as failed, and later records it as OUTCOME_UNKNOWN", async () => {
    await refuseInserts("AuditEvent");
    const answer = await t.admin.request(UPDATE_PROJECT, { id: projectId, input: { description: "applied, unrecorded" } });
    expect(answer.errors?.[0]?.extensions?.code).toBe("SERVICE_UNAVAILABLE");
    expect(answer.errors?.[0]?.message).toMatch(/updateProject ran, but its outcome could not be written to the audit log.*may have been applied/);
    // The change went through (as an AWS call would have): the caller was told it may have.
    expect((await projectNamed("unwritable")).description).toBe("applied, unrecorded");
    const [pending] = (await sql(t.databaseUrl, `SELECT operation, "projectId", "targetIds", "actorId" FROM "AuditPending"`)).rows;
    expect(pending).toMatchObject({ operation: "updateProject", projectId, targetIds: [projectId] });

    await sql(t.databaseUrl, `DROP TRIGGER test_refuse ON "AuditEvent"`);
    // Maintenance records intent rows older than an hour; an hour from now, this one is.
    expect(await t.server.services.audit.maintain(new Date(Date.now() + 3_600_001))).toMatchObject({ abandoned: 1 });
    const recorded = (await auditRows(t.databaseUrl)).at(-1)!;
    expect(recorded).toMatchObject({ operation: "updateProject", outcome: "FAILED", codes: ["OUTCOME_UNKNOWN"], projectId, targetIds: [projectId], actorId: pending.actorId });
    expect((await sql(t.databaseUrl, `SELECT count(*)::int AS n FROM "AuditPending"`)).rows[0].n).toBe(0);
    expect((await t.admin.ok(VERIFY)).verifyAuditChain.intact).toBe(true);
  });

  it("gives a refused mutation its own answer when its outcome cannot be recorded either", async () => {
    await refuseInserts("AuditEvent");
    const answer = await t.admin.ok(UPDATE_PROJECT, { id: projectId, input: { description: "x".repeat(5_000) } });
    // Nothing changed, and the caller learns why; the intent row is left for maintenance.
    expect(answer.updateProject.userErrors).toEqual([expect.objectContaining({ code: "INVALID_INPUT", field: ["input", "description"] })]);
    expect((await sql(t.databaseUrl, `SELECT operation FROM "AuditPending"`)).rows).toEqual([{ operation: "updateProject" }]);
  });
});
