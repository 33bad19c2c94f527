// The AWS SDK loads on first use (src/aws/sdk.ts), not at start: importing it costs about a
// second and 140 MiB, which a server that makes no AWS call should not pay. This walks the static
// imports from the entry points and fails when one reaches an SDK package.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { staticPackages } from "./static-imports.js";

const SRC = path.resolve(import.meta.dirname, "../../src");
const SDK_PACKAGE = /^@(aws-sdk|smithy)\//;

const sdkPackages = (packages: Map<string, string[]>) =>
  [...packages]
    .filter(([name]) => SDK_PACKAGE.test(name))
    .map(([name, chain]) => `${name} ← ${chain.join(" → ")}`)
    .sort();

describe("the AWS SDK at start", () => {
  it.each(["main.ts", "server/app.ts"])("is not loaded when src/%s is imported (and so at start)", (entry) => {
    const packages = staticPackages(path.join(SRC, entry), SRC);
    // The walk reaches the server's real dependencies (so it is following the graph)…
    expect([...packages.keys()]).toEqual(expect.arrayContaining(["express", "@apollo/server", "pg-boss", "lru-cache"]));
    // …and no SDK package: every one comes through sdk.ts's import().
    expect(sdkPackages(packages)).toEqual([]);
  });

  describe("the walk", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lazy-sdk-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, text: string) => fs.writeFileSync(path.join(dir, name), text);

    it("finds a static value import however deep (our own modules' import() followed), and only that", () => {
      write(
        "entry.ts",
        `import type { EC2Client } from "@aws-sdk/client-ec2";\nexport { helper } from "./b.js";\nexport const c: EC2Client | null = null;\nawait (await import("./a.js")).run();\n`,
      );
      write(
        "a.ts",
        [
          `import { GetObjectCommand } from "@aws-sdk/client-s3";`,
          `import { type Role } from "@aws-sdk/client-iam";`,
          `import { Filter } from "@aws-sdk/client-pricing";`,
          `export const run = async (filter?: Filter, role?: Role) => { const { STSClient } = await import("@aws-sdk/client-sts"); return [new GetObjectCommand({ Bucket: "b", Key: "k" }), STSClient, filter, role]; };`,
        ].join("\n"),
      );
      write("b.ts", `export * from "@smithy/node-http-handler";\nexport const helper = 1;\n`);
      const found = staticPackages(path.join(dir, "entry.ts"));
      // client-s3 by a value import, node-http-handler by a re-export; not the type-only ones
      // (client-ec2, client-iam, client-pricing used only as a type) nor client-sts (import()).
      expect(sdkPackages(found)).toEqual(["@aws-sdk/client-s3 ← entry.ts → a.ts", "@smithy/node-http-handler ← entry.ts → b.ts"]);
    });
  });
});
