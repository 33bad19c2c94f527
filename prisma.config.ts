// Used by the Prisma CLI only (generate; migrate status/deploy where Prisma's engine exists).
// The service applies prisma/migrations itself at start-up (src/db/migrate.ts).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres" },
});
