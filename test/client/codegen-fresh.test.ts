// The committed typed client (client/src/generated/) must be what `npm run codegen` produces from
// the committed schema.graphql and client/operations/: codegen runs in memory here and every file
// is compared with the one on disk.
import fs from "node:fs";
import path from "node:path";
import { generate } from "@graphql-codegen/cli";
import { describe, expect, it } from "vitest";
import config, { GENERATED_DIR } from "../../client/codegen.js";

describe("typed client codegen", () => {
  it("committed client/src/generated/ matches codegen output (else run `npm run codegen`)", async () => {
    const outputs: { filename: string; content: string }[] = await generate({ ...config, cwd: process.cwd() }, false);
    expect(outputs.length).toBeGreaterThan(0);
    const generated = new Map(outputs.map((o) => [path.resolve(o.filename), o.content]));
    const onDisk = fs.readdirSync(GENERATED_DIR, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.resolve(entry.parentPath, entry.name));
    const stale: string[] = [];
    for (const [file, content] of generated) {
      const committed = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
      if (committed !== content) stale.push(`${path.relative(process.cwd(), file)} ${committed === undefined ? "is missing" : "differs"}`);
    }
    for (const file of onDisk) if (!generated.has(file)) stale.push(`${path.relative(process.cwd(), file)} is not generated any more`);
    expect(stale, "client/src/generated/ is stale: run `npm run codegen` and commit the result").toEqual([]);
  });

  it("covers the main flows: every operation the client and the example rely on is generated", async () => {
    const graphql = fs.readFileSync(path.join(GENERATED_DIR, "graphql.ts"), "utf8");
    const expected = [
      "MeDocument",
      "CreateApiTokenDocument",
      "ProjectsDocument",
      "CreateProjectDocument",
      "ProjectByNameDocument",
      "SetProjectMemberDocument",
      "AwsIamPolicyDocument",
      "AwsRegionsDocument",
      "DiscoverAwsBackendDocument",
      "CreateAwsBackendDocument",
      "BackendDocument",
      "ProvisionBackendDocument",
      "ProvisioningRunDocument",
      "ProvisioningRunUpdatedDocument",
      "InstanceOffersDocument",
      "LaunchInstanceDocument",
      "InstanceDocument",
      "TerminateInstanceDocument",
      "InstanceUpdatedDocument",
    ];
    const missing = expected.filter((name) => !graphql.includes(`export const ${name} = new TypedDocumentString(`));
    expect(missing).toEqual([]);
  });
});
