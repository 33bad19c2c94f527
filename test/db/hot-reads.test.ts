// The statements most requests run go to pg directly (src/db/hot-read.ts), not through Prisma.
// They must give exactly what Prisma gives for the same rows, whatever the machine's time zone,
// and keep doing so as columns are added to the models.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../src/db/migrate.js";
import { openDatabase, type Database } from "../../src/db/prisma.js";
import { createLoaders } from "../../src/graphql/loaders.js";
import { ProjectAccessService } from "../../src/projects/project-access.js";
import { hashApiToken } from "../../src/users/api-token.js";
import { TokensService } from "../../src/users/tokens.service.js";
import type { Viewer } from "../../src/users/viewer.js";
import { createTestDatabase } from "../support/database.js";

describe("hot reads through pg give what Prisma gives", () => {
  let dropDatabase: () => Promise<void>;
  let database: Database;
  let projectId: string;
  let member: Viewer;
  let outsider: Viewer;
  const originalTimeZone = process.env.TZ;

  beforeAll(async () => {
    // Not UTC, so that a timestamp read as local time would be off by hours.
    process.env.TZ = "America/New_York";
    const created = await createTestDatabase();
    dropDatabase = created.drop;
    await migrate(created.url);
    database = openDatabase(created.url, 4);
    const { prisma } = database;
    const alice = await prisma.user.create({ data: { name: "alice" } });
    const bob = await prisma.user.create({ data: { name: "bob" } });
    await prisma.apiToken.create({ data: { userId: alice.id, name: "laptop", prefix: "bh_alice", tokenHash: hashApiToken("bh_alice-token") } });
    await prisma.apiToken.create({ data: { userId: alice.id, name: "old", prefix: "bh_old", tokenHash: hashApiToken("bh_old-token"), revokedAt: new Date() } });
    await prisma.apiToken.create({ data: { userId: alice.id, name: "expired", prefix: "bh_exp", tokenHash: hashApiToken("bh_expired-token"), expiresAt: new Date(Date.now() - 1000) } });
    const project = await prisma.project.create({
      data: { name: "hot", description: "reads", maxHourlySpend: 12.5, maxLiveInstances: 3, defaultMaxDurationMinutes: 90, members: { create: { userId: alice.id, role: "USER" } } },
    });
    projectId = project.id;
    for (const n of [1, 2, 3]) {
      await prisma.backend.create({
        data: {
          projectId,
          name: `aws-${n}`,
          awsRegion: "eu-west-1",
          awsBucket: `bucket-${n}`,
          awsCredentialsMode: n === 1 ? "DEFAULT" : "ACCESS_KEY",
          awsAccessKeyIdHint: n === 1 ? null : "AKIA…WXYZ",
          sealedCredentials: n === 1 ? null : "v1.sealed",
          settings: { image: { name: `ami-${n}` }, n },
          deleteRequestedAt: n === 3 ? new Date("2026-01-02T03:04:05.678Z") : null,
        },
      });
    }
    member = { userId: alice.id, userName: "alice", globalRole: "USER", tokenId: "", tokenPrefix: "" };
    outsider = { userId: bob.id, userName: "bob", globalRole: "USER", tokenId: "", tokenPrefix: "" };
  });

  afterAll(async () => {
    // Assigning undefined would set the string "undefined".
    if (originalTimeZone === undefined) delete process.env.TZ;
    else process.env.TZ = originalTimeZone;
    await database?.close();
    await dropDatabase?.();
  });

  it("authenticates a token with its user, and refuses revoked, expired and unknown ones", async () => {
    const tokens = new TokensService(database.prisma, database.pool);
    const viewer = await tokens.authenticate("bh_alice-token");
    const stored = await database.prisma.apiToken.findUnique({ where: { tokenHash: hashApiToken("bh_alice-token") } });
    expect(viewer).toEqual({ userId: member.userId, userName: "alice", globalRole: "USER", tokenId: stored!.id, tokenPrefix: "bh_alice" });
    const touched = await database.prisma.apiToken.findUnique({ where: { id: stored!.id } });
    expect(Math.abs(touched!.lastUsedAt!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(await tokens.authenticate("bh_old-token")).toBeNull();
    expect(await tokens.authenticate("bh_expired-token")).toBeNull();
    expect(await tokens.authenticate("bh_unknown-token")).toBeNull();
  });

  it("reads a project and the caller's role exactly as Prisma reads the project", async () => {
    const access = await new ProjectAccessService(database.pool).find(member, projectId);
    expect(access?.project).toEqual(await database.prisma.project.findUnique({ where: { id: projectId } }));
    expect(access?.memberRole).toBe("USER");
    expect(await new ProjectAccessService(database.pool).find(outsider, projectId)).toBeNull();
  });

  it("reads a project's backends in order exactly as Prisma reads them", async () => {
    const loaded = await createLoaders(database.prisma, database.pool).projectBackends.load(projectId);
    const expected = await database.prisma.backend.findMany({ where: { projectId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
    expect(loaded).toHaveLength(3);
    expect(loaded).toEqual(expected);
  });
});
