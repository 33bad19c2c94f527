// The start-up migrator: Prisma-compatible bookkeeping, idempotent, refuses edited history,
// one transaction per migration, and safe when several servers start on one empty database.
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../src/db/migrate.js";
import { createTestDatabase } from "../support/database.js";
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from "../support/server.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MIGRATIONS_DIR = path.join(ROOT, "prisma/migrations");

type Database = Awaited<ReturnType<typeof createTestDatabase>>;

async function query<T extends pg.QueryResultRow = any>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** The migrations on disk, read independently of the code under test. */
async function migrationsOnDisk(dir = MIGRATIONS_DIR): Promise<{ name: string; checksum: string }[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  return Promise.all(
    names.map(async (name) => ({
      name,
      checksum: createHash("sha256").update(await readFile(path.join(dir, name, "migration.sql"))).digest("hex"),
    })),
  );
}

/** Runs `use` on a temporary copy of prisma/migrations (the real files are never touched). */
async function withMigrationsCopy(use: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "bh-migrations-"));
  try {
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("migrations", () => {
  const databases: Database[] = [];
  async function freshDatabase(): Promise<Database> {
    const database = await createTestDatabase();
    databases.push(database);
    return database;
  }
  afterAll(async () => {
    await Promise.allSettled(databases.map((database) => database.drop()));
  });

  it("applies every migration once; a second run is a no-op with Prisma-compatible bookkeeping", async () => {
    const onDisk = await migrationsOnDisk();
    expect(onDisk.length).toBeGreaterThan(0);
    const { url } = await freshDatabase();

    const first = await migrate(url);
    expect(first.applied).toEqual(onDisk.map((m) => m.name));
    // Data written between the two runs survives the second.
    await query(url, `INSERT INTO "User" (id, name, "updatedAt") VALUES (gen_random_uuid(), 'survivor', now())`);
    const second = await migrate(url);
    expect(second.applied).toEqual([]);
    expect(await query(url, `SELECT name FROM "User"`)).toEqual([{ name: "survivor" }]);

    // Prisma's own table definition (as `prisma migrate` creates it).
    const columns = await query(
      url,
      `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: "id", data_type: "character varying", character_maximum_length: 36, is_nullable: "NO", column_default: null },
      { column_name: "checksum", data_type: "character varying", character_maximum_length: 64, is_nullable: "NO", column_default: null },
      { column_name: "finished_at", data_type: "timestamp with time zone", character_maximum_length: null, is_nullable: "YES", column_default: null },
      { column_name: "migration_name", data_type: "character varying", character_maximum_length: 255, is_nullable: "NO", column_default: null },
      { column_name: "logs", data_type: "text", character_maximum_length: null, is_nullable: "YES", column_default: null },
      { column_name: "rolled_back_at", data_type: "timestamp with time zone", character_maximum_length: null, is_nullable: "YES", column_default: null },
      { column_name: "started_at", data_type: "timestamp with time zone", character_maximum_length: null, is_nullable: "NO", column_default: "now()" },
      { column_name: "applied_steps_count", data_type: "integer", character_maximum_length: null, is_nullable: "NO", column_default: "0" },
    ]);
    const primaryKey = await query(
      url,
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
       WHERE i.indrelid = '"_prisma_migrations"'::regclass AND i.indisprimary`,
    );
    expect(primaryKey).toEqual([{ attname: "id" }]);

    // One finished row per migration, with the SHA-256 of the file as Prisma computes it.
    const rows = await query(url, `SELECT * FROM "_prisma_migrations" ORDER BY migration_name`);
    expect(rows.map((row) => ({ name: row.migration_name, checksum: row.checksum }))).toEqual(onDisk);
    for (const row of rows) {
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.started_at.getTime()).toBeLessThanOrEqual(row.finished_at.getTime());
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it("refuses to migrate when an applied migration file was changed afterwards (checksum mismatch)", async () => {
    const { url } = await freshDatabase();
    await migrate(url);
    await withMigrationsCopy(async (dir) => {
      const [first] = await migrationsOnDisk(dir);
      const file = path.join(dir, first.name, "migration.sql");
      await writeFile(file, `${await readFile(file, "utf8")}\n-- edited after it was applied\n`);
      await expect(migrate(url, { migrationsDir: dir })).rejects.toThrow(new RegExp(`${first.name}.*changed.*checksum`));
    });
    // Nothing was recorded or rewritten: the bookkeeping still holds the original checksums.
    const rows = await query(url, `SELECT migration_name AS name, checksum FROM "_prisma_migrations" ORDER BY migration_name`);
    expect(rows).toEqual(await migrationsOnDisk());
  });

  it("a server does not start on a database whose recorded checksum differs from the file", async () => {
    const { url } = await freshDatabase();
    await migrate(url);
    await query(url, `UPDATE "_prisma_migrations" SET checksum = $1`, ["0".repeat(64)]);
    await expect(startTestServer({}, url)).rejects.toThrow(/changed after it was applied/);
  });

  it("applies a new migration on top, and runs each migration in a transaction (a failing one leaves no trace)", async () => {
    const { url } = await freshDatabase();
    await migrate(url);
    await withMigrationsCopy(async (dir) => {
      await mkdir(path.join(dir, "29990101000000_add_note"));
      await writeFile(path.join(dir, "29990101000000_add_note/migration.sql"), `ALTER TABLE "Project" ADD COLUMN "note" TEXT;\n`);
      expect((await migrate(url, { migrationsDir: dir })).applied).toEqual(["29990101000000_add_note"]);
      expect(await query(url, `SELECT column_name FROM information_schema.columns WHERE table_name = 'Project' AND column_name = 'note'`)).toHaveLength(1);

      await mkdir(path.join(dir, "29990102000000_broken"));
      await writeFile(
        path.join(dir, "29990102000000_broken/migration.sql"),
        `CREATE TABLE "HalfDone" ("id" INTEGER);\nALTER TABLE "NoSuchTable" ADD COLUMN "x" TEXT;\n`,
      );
      await expect(migrate(url, { migrationsDir: dir })).rejects.toThrow(/29990102000000_broken failed.*NoSuchTable/);
      expect(await query(url, `SELECT 1 FROM information_schema.tables WHERE table_name = 'HalfDone'`)).toEqual([]);
      expect(await query(url, `SELECT 1 FROM "_prisma_migrations" WHERE migration_name = '29990102000000_broken'`)).toEqual([]);
      // The advisory lock was released: the next run is not blocked and still fails the same way.
      await expect(migrate(url, { migrationsDir: dir })).rejects.toThrow(/29990102000000_broken failed/);
    });
  });

  it("serialises concurrent migrators: each migration is applied exactly once", async () => {
    const { url } = await freshDatabase();
    const results = await Promise.all(Array.from({ length: 5 }, () => migrate(url)));
    const onDisk = await migrationsOnDisk();
    expect(results.flatMap((result) => result.applied).sort()).toEqual(onDisk.map((m) => m.name).sort());
    expect(results.filter((result) => result.applied.length > 0)).toHaveLength(1);
    const rows = await query(url, `SELECT migration_name FROM "_prisma_migrations"`);
    expect(rows).toHaveLength(onDisk.length);
  });

  describe("two servers starting at once on one empty database", () => {
    let servers: TestServer[] = [];
    let database: Database;

    beforeAll(async () => {
      database = await freshDatabase();
      servers = await Promise.all([startTestServer({}, database.url), startTestServer({}, database.url)]);
    });
    afterAll(async () => {
      await Promise.all(servers.map((server) => server.close()));
    });

    it("both come up and answer, with one bootstrap admin and each migration applied once", async () => {
      expect(servers).toHaveLength(2);
      expect(servers[0].url).not.toBe(servers[1].url);
      for (const server of servers) {
        const me = await server.admin.ok("{ me { id name globalRole } }");
        expect(me.me).toMatchObject({ name: "admin", globalRole: "ADMIN" });
      }
      const users = await query(database.url, `SELECT name, "globalRole" FROM "User"`);
      expect(users).toEqual([{ name: "admin", globalRole: "ADMIN" }]);
      expect(await query(database.url, `SELECT name FROM "ApiToken"`)).toHaveLength(1);
      // Exactly one of the two applied the migrations, and exactly one created the admin.
      const migrated = servers.filter((server) => server.logs.some((line) => line.includes('"msg":"migrations applied"')));
      expect(migrated).toHaveLength(1);
      expect(servers.map((server) => server.server.adminToken).filter(Boolean)).toEqual([TEST_ADMIN_TOKEN]);
      const onDisk = await migrationsOnDisk();
      const rows = await query(database.url, `SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name`);
      expect(rows.map((row) => row.migration_name)).toEqual(onDisk.map((m) => m.name));

      // What one server writes, the other reads.
      const created = await servers[0].admin.ok(`mutation { createProject(input: { name: "shared-db" }) { project { id } userErrors { code } } }`);
      const seen = await servers[1].admin.ok(`query($id: ID) { project(id: $id) { name } }`, { id: created.createProject.project.id });
      expect(seen.project).toEqual({ name: "shared-db" });
    });

    it("both report healthy (/healthz) and ready (/readyz)", async () => {
      for (const server of servers) {
        const base = server.url.replace(/\/graphql$/, "");
        const health = await fetch(`${base}/healthz`);
        expect(health.status).toBe(200);
        expect(await health.json()).toEqual({ status: "ok" });
        const ready = await fetch(`${base}/readyz`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toEqual({ status: "ready" });
      }
    });
  });

  it("/readyz is 503 while a migration on disk is not recorded as applied, and 200 once it is", async () => {
    const server = await startTestServer();
    try {
      const base = server.url.replace(/\/graphql$/, "");
      const saved = await query(server.databaseUrl, `DELETE FROM "_prisma_migrations" RETURNING *`);
      expect(saved.length).toBeGreaterThan(0);
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect((await notReady.json()).status).toBe("unavailable");
      // Liveness does not depend on the database.
      expect((await fetch(`${base}/healthz`)).status).toBe(200);

      for (const row of saved) {
        await query(
          server.databaseUrl,
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [row.id, row.checksum, row.finished_at, row.migration_name, row.logs, row.rolled_back_at, row.started_at, row.applied_steps_count],
        );
      }
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
