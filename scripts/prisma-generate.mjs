// Generates the Prisma client into src/generated/prisma.
// `prisma generate` does not need Prisma's schema-engine binary, but the CLI still tries to
// download it first; pointing PRISMA_SCHEMA_ENGINE_BINARY at any executable skips that, so the
// client builds on machines with no route to Prisma's download site. A user's own setting wins.
import { spawnSync } from "node:child_process";

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = "1";
const result = spawnSync("npx", ["--no-install", "prisma", "generate"], { stdio: ["ignore", "pipe", "inherit"], env });
if (result.status !== 0) {
  process.stdout.write(result.stdout ?? "");
  process.exit(result.status ?? 1);
}
