// `npm run schema:emit`: writes the sorted SDL to schema.graphql (committed; a test fails when stale).
import { writeFile } from "node:fs/promises";
import { buildApiSchema, printApiSchema } from "../resolvers/schema.js";

const target = process.argv[2] ?? "schema.graphql";
await writeFile(target, printApiSchema(await buildApiSchema()));
process.stdout.write(`wrote ${target}\n`);
