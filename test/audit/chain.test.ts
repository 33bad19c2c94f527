// Tamper evidence: the append-only trigger, the hash chain and its check (verifyAuditChain), edits
// made behind the service's back with a superuser connection that switches the trigger off,
// retention pruning that keeps the chain verifiable, and concurrent writers that never fork it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chainHash } from "../../src/audit/chain.js";
import { verifyAuditLog } from "../../src/scripts/verify-audit.js";
import type { AuditOutcome } from "../../src/generated/prisma/enums.js";
import { newUser, type Person } from "../backends/support.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { auditRows, behindTheServicesBack, CREATE_PROJECT, sleep, sql, UPDATE_PROJECT, VERIFY, type AuditRow } from "./support.js";

const DAY_MS = 86_400_000;

describe("the audit chain", () => {
  let t: TestServer;
  let alice: Person;
  let projectId: string;
  let counter = 0;

  beforeAll(async () => {
    t = await startTestServer();
    alice = await newUser(t, "alice");
    projectId = (await alice.client.ok(CREATE_PROJECT, { input: { name: "chained" } })).createProject.project.id;
  });
  afterAll(() => t?.close());

  const mutate = (n: number) => Promise.all(Array.from({ length: n }, () => alice.client.ok(UPDATE_PROJECT, { id: projectId, input: { description: `change ${++counter}` } })));
  const verify = async () => (await t.admin.ok(VERIFY)).verifyAuditChain;
  const asStored = (row: AuditRow) => ({ ...row, seq: BigInt(row.seq), outcome: row.outcome as AuditOutcome });

  it("verifies an intact chain for global admins only, up to the newest event", async () => {
    await mutate(3);
    const rows = await auditRows(t.databaseUrl);
    const report = await verify();
    expect(report).toEqual({ intact: true, checkedEvents: rows.length, startPosition: "0", headPosition: rows.at(-1)!.seq, headHash: rows.at(-1)!.hash, firstBroken: null });
    expect(rows.map((row) => row.seq)).toEqual(rows.map((_, i) => String(i + 1)));
    expect(await alice.client.errorCode(VERIFY)).toBe("FORBIDDEN");
  });

  it("refuses UPDATE, DELETE and TRUNCATE of the log, even from a superuser", async () => {
    const [first] = await auditRows(t.databaseUrl);
    await expect(sql(t.databaseUrl, `UPDATE "AuditEvent" SET operation = 'x' WHERE id = $1`, [first!.id])).rejects.toThrow(/append-only/);
    await expect(sql(t.databaseUrl, `DELETE FROM "AuditEvent" WHERE id = $1`, [first!.id])).rejects.toThrow(/append-only/);
    await expect(sql(t.databaseUrl, `TRUNCATE "AuditEvent"`)).rejects.toThrow(/append-only/);
    await expect(sql(t.databaseUrl, `TRUNCATE "AuditAnchor"`)).rejects.toThrow(/append-only/);
    expect((await auditRows(t.databaseUrl))[0]).toEqual(first);
  });

  it("names the first broken link when a row is changed, re-hashed or removed behind the service's back", async () => {
    await mutate(3);
    const rows = await auditRows(t.databaseUrl);
    const target = rows[rows.length - 3]!;
    const next = rows[rows.length - 2]!;

    // 1. Someone rewrites history: the row's content no longer matches its hash.
    await behindTheServicesBack(t.databaseUrl, `UPDATE "AuditEvent" SET "actorId" = NULL, "tokenPrefix" = NULL WHERE id = $1`, [target.id]);
    expect(await verify()).toMatchObject({
      intact: false,
      checkedEvents: rows.length - 2,
      firstBroken: { eventId: target.id, position: target.seq, problem: expect.stringMatching(/content does not match its hash/) },
    });
    // `npm run audit:verify` says the same, from the database alone.
    const script = await verifyAuditLog(t.databaseUrl);
    expect(script.intact).toBe(false);
    expect(script.text).toMatch(new RegExp(`^audit chain BROKEN at position ${target.seq} \\(event ${target.id}\\): its content does not match its hash`));

    // 2. …and recomputes its hash too: the next row's link to it breaks.
    const forged = chainHash(target.prevHash, { ...asStored(target), actorId: null, tokenPrefix: null });
    await behindTheServicesBack(t.databaseUrl, `UPDATE "AuditEvent" SET hash = $2 WHERE id = $1`, [target.id, forged]);
    expect((await verify()).firstBroken).toEqual({ eventId: next.id, position: next.seq, problem: expect.stringMatching(/previous-hash does not match/) });

    // Put back as it was: the chain verifies again, so the check points at the edit and nothing else.
    await behindTheServicesBack(t.databaseUrl, `UPDATE "AuditEvent" SET "actorId" = $2, "tokenPrefix" = $3, hash = $4 WHERE id = $1`, [
      target.id,
      target.actorId,
      target.tokenPrefix,
      target.hash,
    ]);
    expect((await verify()).intact).toBe(true);
    expect((await verifyAuditLog(t.databaseUrl)).text).toMatch(/^audit chain intact: \d+ event\(s\) checked from position 0\.\nhead: position \d+, hash [0-9a-f]{64}\n$/);

    // 3. A row removed from the middle.
    await behindTheServicesBack(t.databaseUrl, `DELETE FROM "AuditEvent" WHERE id = $1`, [target.id]);
    expect((await verify()).firstBroken).toEqual({ eventId: next.id, position: next.seq, problem: expect.stringMatching(/1 event\(s\) before it are missing/) });
    await sql(
      t.databaseUrl,
      `INSERT INTO "AuditEvent" (id, seq, at, "actorId", "tokenPrefix", "clientAddress", "projectId", operation, "targetIds", outcome, codes, "requestId", count, "prevHash", hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [target.id, target.seq, target.at.toISOString(), target.actorId, target.tokenPrefix, target.clientAddress, target.projectId, target.operation, JSON.stringify(target.targetIds), target.outcome, JSON.stringify(target.codes), target.requestId, target.count, target.prevHash, target.hash],
    );
    expect((await verify()).intact).toBe(true);
  });

  it("prunes events past the retention period and stays verifiable from the oldest kept event", async () => {
    await mutate(2);
    await sleep(10);
    const split = new Date();
    await sleep(10);
    await mutate(2);
    const before = await auditRows(t.databaseUrl);
    const pruned = before.filter((row) => row.at < split);
    const kept = before.filter((row) => row.at >= split);
    expect(pruned.length).toBeGreaterThan(0);
    expect(kept).toHaveLength(2);

    // AUDIT_RETENTION_DAYS is 365 (the default): a year after `split`, everything older goes.
    const result = await t.server.services.audit.maintain(new Date(split.getTime() + 365 * DAY_MS));
    expect(result.pruned).toBe(pruned.length);

    const after = await auditRows(t.databaseUrl);
    expect(after.slice(0, 2)).toEqual(kept);
    expect(after[2]).toMatchObject({ operation: "audit.prune", outcome: "OK", count: pruned.length, actorId: null });
    const [anchor] = (await sql(t.databaseUrl, `SELECT seq::text AS seq, hash, "deletedEvents" FROM "AuditAnchor"`)).rows;
    expect(anchor).toEqual({ seq: pruned.at(-1)!.seq, hash: pruned.at(-1)!.hash, deletedEvents: pruned.length });
    expect(kept[0]!.prevHash).toBe(anchor.hash);
    expect(await verify()).toMatchObject({ intact: true, startPosition: anchor.seq, checkedEvents: 3 });

    // The kept events are still protected, and still checked.
    await expect(sql(t.databaseUrl, `DELETE FROM "AuditEvent" WHERE id = $1`, [kept[0]!.id])).rejects.toThrow(/append-only/);
    await behindTheServicesBack(t.databaseUrl, `UPDATE "AuditEvent" SET operation = 'deleteProject' WHERE id = $1`, [kept[0]!.id]);
    expect((await verify()).firstBroken).toMatchObject({ eventId: kept[0]!.id, position: kept[0]!.seq });
    await behindTheServicesBack(t.databaseUrl, `UPDATE "AuditEvent" SET operation = $2 WHERE id = $1`, [kept[0]!.id, kept[0]!.operation]);

    // Pruning everything: the next event follows the anchor.
    await t.server.services.audit.maintain(new Date(Date.now() + 366 * DAY_MS));
    await mutate(1);
    const report = await verify();
    expect(report).toMatchObject({ intact: true, checkedEvents: 2 });
    expect(BigInt(report.startPosition)).toBeGreaterThan(BigInt(anchor.seq));
  });

  it("concurrent writers never fork the chain: positions have no gaps and every link holds", async () => {
    const start = (await auditRows(t.databaseUrl)).length;
    await Promise.all(Array.from({ length: 20 }, (_, i) => alice.client.ok(CREATE_PROJECT, { input: { name: `burst-${i}` } })));
    const rows = await auditRows(t.databaseUrl);
    expect(rows.length).toBe(start + 20);
    const seqs = rows.map((row) => BigInt(row.seq));
    expect(seqs.every((seq, i) => i === 0 || seq === seqs[i - 1]! + 1n)).toBe(true);
    expect(new Set(rows.map((row) => row.prevHash)).size).toBe(rows.length);
    expect((await verify()).intact).toBe(true);
  });
});
