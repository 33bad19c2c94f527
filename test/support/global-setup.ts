// One PostgreSQL for the whole test run: TEST_DATABASE_URL when set, otherwise an embedded
// cluster under .data/test-postgres. Each test file then gets a database of its own.
import path from "node:path";
import { rm } from "node:fs/promises";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../src/db/embedded-postgres.js";
import { createLogger } from "../../src/logging/logger.js";

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

let embedded: EmbeddedDatabase | undefined;
let dir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    // One cluster per test run, so concurrent runs in one checkout never share a data directory.
    dir = path.resolve(`.data/test-postgres-${process.pid}`);
    await rm(dir, { recursive: true, force: true });
    embedded = await startEmbeddedPostgres(dir, createLogger("warn"));
    url = embedded.url;
  }
  project.provide("adminDatabaseUrl", url);
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}
