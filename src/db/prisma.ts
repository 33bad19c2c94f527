// One pg pool per process, shared by Prisma (through its driver adapter) and by the few raw
// SQL statements the service runs (readiness, batched loaders).
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.js";

export type { PrismaClient };


export interface Database {
  pool: pg.Pool;
  prisma: PrismaClient;
  close(): Promise<void>;
}

export function openDatabase(url: string, poolSize: number): Database {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5_000 });
  // An idle client that loses its connection (database restart) must not crash the process.
  pool.on("error", () => undefined);
  // pg reports a connection lost between two statements of a checked-out client (inside a
  // transaction) as an 'error' event on that client, and pg-pool listens for it only while the
  // client is idle: a database restart at that moment crashed the process. Now the client's next
  // statement fails instead (not queryable: SERVICE_UNAVAILABLE) and the pool drops it on release.
  pool.on("connect", (client) => client.on("error", () => undefined));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    pool,
    prisma,
    async close() {
      await prisma.$disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}
