import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Node resolves `graphql` to its CommonJS entry (the package has no "exports"); Vite would
    // pick the ESM one, and two graphql instances break schemas ("another module or realm").
    alias: { graphql: require.resolve("graphql") },
  },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    setupFiles: ["reflect-metadata"],
    // type-graphql's decorators must register into the metadata storage the tests use.
    server: { deps: { inline: ["type-graphql", "graphql-scalars"] } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
