// GraphQL Code Generator config for the typed client: the committed schema.graphql plus the
// operations in client/operations/ become client/src/generated/ (client-preset, string documents).
// Run `npm run codegen` after changing either; test/client/codegen-fresh.test.ts fails when the
// committed output is stale.
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CodegenConfig } from "@graphql-codegen/cli";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const fromRoot = (...parts: string[]) => path.join(repoRoot, ...parts);

/** Where the generated files go (a directory: the client preset requires the trailing "/"). */
export const GENERATED_DIR = fromRoot("client", "src", "generated") + path.sep;

const config: CodegenConfig = {
  schema: fromRoot("schema.graphql"),
  documents: [fromRoot("client", "operations", "**", "*.graphql")],
  ignoreNoDocuments: false,
  silent: true,
  generates: {
    [GENERATED_DIR]: {
      preset: "client",
      // Plain result types: fragments' fields appear directly in each operation's result.
      presetConfig: { fragmentMasking: false },
      config: {
        // TypedDocumentString: the document is a plain string at runtime, no graphql-tag AST.
        documentMode: "string",
        // Relative imports inside the generated folder end in ".js" (NodeNext/ESM).
        emitLegacyCommonJSImports: false,
        useTypeImports: true,
        // Every custom scalar must be mapped; IDs are opaque strings, DateTime an ISO-8601 string.
        strictScalars: true,
        scalars: {
          ID: "string",
          DateTime: "string",
          JSON: "unknown",
        },
        // Enum values as in the schema (SCREAMING_SNAKE), as string-literal unions.
        enumType: "string-literal",
        namingConvention: { enumValues: "keep" },
      },
    },
  },
};

export default config;
