// Applies prisma/migrations at start-up. Prisma's own `migrate deploy` needs a schema-engine
// binary that cannot always be downloaded, so the service applies the same SQL files itself and
// keeps Prisma's `_prisma_migrations` bookkeeping, so `prisma migrate status/deploy` agree.
// A PostgreSQL advisory lock makes concurrent starts take turns; each migration runs in a
// transaction together with its bookkeeping row.
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { withAdvisoryLock } from "./advisory-lock.js";

const here = path.dirname(fileURLToPath(import.meta.url));
/** prisma/migrations seen from src/db (tests) and from dist/src/db (the built server). */
const MIGRATIONS_DIR_CANDIDATES = [path.resolve(here, "../../prisma/migrations"), path.resolve(here, "../../../prisma/migrations")];

/** Arbitrary constant: the key of the advisory lock that serialises migrators. */
const MIGRATION_LOCK_KEY = 72_707_369;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

async function migrationsDir(): Promise<string> {
  for (const dir of MIGRATIONS_DIR_CANDIDATES) {
    try {
      await readdir(dir);
      return dir;
    } catch {
      // not this layout; try the next
    }
  }
  throw new Error(`prisma/migrations not found (looked in ${MIGRATIONS_DIR_CANDIDATES.join(", ")})`);
}

/** The migrations in `dir` (default: the repository's prisma/migrations), in name order. */
export async function readMigrations(dir?: string): Promise<Migration[]> {
  const root = dir ?? (await migrationsDir());
  const entries = (await readdir(root, { withFileTypes: true })).filter((entry) => entry.isDirectory());
  const names = entries.map((entry) => entry.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(root, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}

const BOOKKEEPING_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrationResult {
  applied: string[];
}

export interface MigrateOptions {
  /** A prisma/migrations-style folder to apply instead of the repository's (tests). */
  migrationsDir?: string;
}

export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrationResult> {
  const migrations = await readMigrations(options.migrationsDir);
  return withAdvisoryLock(databaseUrl, MIGRATION_LOCK_KEY, async (client) => {
    await client.query(BOOKKEEPING_TABLE);
    const done = await client.query<{ migration_name: string; checksum: string }>(
      `SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const applied = new Map(done.rows.map((row) => [row.migration_name, row.checksum]));
    const result: MigrationResult = { applied: [] };
    for (const migration of migrations) {
      const checksum = applied.get(migration.name);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new Error(`migration ${migration.name} was changed after it was applied (checksum differs)`);
        }
        continue;
      }
      await client.query("BEGIN");
      try {
        await client.query(migration.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), now(), 1)`,
          [randomUUID(), migration.checksum, migration.name],
        );
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`);
      }
      result.applied.push(migration.name);
    }
    return result;
  });
}

/** True when every migration on disk is recorded as applied. */
export async function migrationsApplied(pool: pg.Pool): Promise<boolean> {
  const migrations = await readMigrations();
  const done = await pool.query<{ migration_name: string }>(
    `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  );
  const names = new Set(done.rows.map((row) => row.migration_name));
  return migrations.every((migration) => names.has(migration.name));
}
