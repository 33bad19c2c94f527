// examples/provision-backend.ts against a real server and moto_server: from an empty server to a
// READY backend through the typed client. main() runs in-process (subscription path); the
// compiled script also runs as a child process (CLI guard, exit codes, polling path).
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { main, type ExampleEnv } from "../../examples/provision-backend.js";
import { createSeedUser, useMoto, useServer } from "../support/fixtures.js";
import { createBucket } from "../support/moto-iam.js";

const run = promisify(execFile);
const ROOT = process.cwd();
const STEPS = ["iam-policy", "iam-role", "instance-profile", "security-group", "log-groups", "bucket-lifecycle"];

describe("examples/provision-backend.ts", () => {
  const moto = useMoto({ reset: "once" });
  const t = useServer({}, { aws: moto });

  /** A bucket and an IAM user holding exactly the seed's policy for it, as a user would set up. */
  async function awsSetup(bucket: string, region = "us-east-1"): Promise<ExampleEnv> {
    await createBucket(moto.endpoint, bucket, region);
    const user = await createSeedUser(moto.endpoint, bucket);
    return {
      BACKEND_HUB_URL: t.url,
      BACKEND_HUB_TOKEN: t.adminToken,
      AWS_REGION: region,
      BUCKET: bucket,
      AWS_ACCESS_KEY_ID: user.accessKeyId,
      AWS_SECRET_ACCESS_KEY: user.secretAccessKey,
    };
  }

  async function runMain(env: ExampleEnv) {
    const lines: string[] = [];
    const code = await main(env, (line) => lines.push(line));
    return { code, lines, text: lines.join("\n") };
  }

  function expectEveryStep(text: string, lines: string[]) {
    expect(text).toMatch(/^1\. Signed in as admin \(ADMIN\)$/m);
    expect(text).toMatch(/^3\. IAM policy for bucket /m);
    expect(text).toContain('"s3:ListAllMyBuckets"');
    expect(text).toMatch(/^4\. Discovery: identity arn:aws:iam::\d{12}:user\/dstack-/m);
    expect(text).toMatch(/^ {3}userErrors: none$/m);
    expect(text).toMatch(/^6\. Provisioning run \S+ (QUEUED|RUNNING)$/m);
    expect(text).toContain(`   steps: ${STEPS.join(" → ")}`);
    for (const step of STEPS) expect(text).toMatch(new RegExp(`^ {3}DONE {4}${step}`, "m"));
    expect(lines.at(-1)).toMatch(/^7\. Run \S+ SUCCEEDED; backend aws-us-east-1 is READY$/);
  }

  it("goes from an empty server to a provisioned backend, printing each step and the live run", async () => {
    const env = await awsSetup("example-e2e");
    const first = await runMain(env);
    expect(first.code, first.text).toBe(0);
    expectEveryStep(first.text, first.lines);
    expect(first.text).toMatch(/^2\. Created project example-example-e2e \(\S+\)$/m);
    expect(first.text).toMatch(/^5\. Created backend aws-us-east-1 \(\S+\): us-east-1, bucket example-e2e, CONFIGURED$/m);
    expect(first.text).not.toContain("polling"); // progress came over the subscription
    expect(first.text).not.toContain(env.AWS_SECRET_ACCESS_KEY!);

    // Run again: the project and backend are reused, and provisioning reconciles to READY.
    const again = await runMain(env);
    expect(again.code, again.text).toBe(0);
    expect(again.text).toMatch(/^2\. Using existing project example-example-e2e/m);
    expect(again.text).toMatch(/^5\. Using existing backend aws-us-east-1 \(\S+\), READY$/m);
    expect(again.lines.at(-1)).toMatch(/SUCCEEDED; backend aws-us-east-1 is READY$/);
  });

  it("prints discovery's userErrors and exits non-zero when the setup is wrong", async () => {
    const env = await awsSetup("example-bad");
    const result = await runMain({ ...env, BUCKET: "example-no-such-bucket", PROJECT: "example-bad" });
    expect(result.code).toBe(1);
    expect(result.text).toMatch(/^ {3}- BUCKET_NOT_FOUND at input\.bucket: /m);
    expect(result.lines.at(-1)).toBe("FAILED: discovery reported problems; fix them and run again");

    const unauthenticated = await runMain({ ...env, BACKEND_HUB_TOKEN: "bh_wrong-token-000000000000000000000000000" });
    expect(unauthenticated.code).toBe(1);
    expect(unauthenticated.lines.at(-1)).toMatch(/^FAILED: GraphQL error UNAUTHENTICATED: /);
  });

  it("runs as a compiled script: exit code 0 with SUCCEEDED (polling), 2 without settings", async () => {
    // test-output/ is git-ignored: a fresh clone does not have it.
    fs.mkdirSync(path.join(ROOT, "test-output"), { recursive: true });
    const outDir = fs.mkdtempSync(path.join(ROOT, "test-output", "example-build-"));
    try {
      const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
      await run(process.execPath, [tsc, "-p", "examples/tsconfig.json", "--outDir", outDir, "--sourceMap", "false"], { cwd: ROOT });
      const script = path.join(outDir, "examples", "provision-backend.js");
      expect(fs.existsSync(script)).toBe(true);
      const exec = (env: Record<string, string>) =>
        run(process.execPath, [script], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env }, timeout: 90_000 }).then(
          ({ stdout }) => ({ code: 0, stdout }),
          (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
        );

      const missing = await exec({});
      expect(missing.code).toBe(2);
      expect(missing.stdout).toContain("Missing setting(s): BACKEND_HUB_URL, BACKEND_HUB_TOKEN, BUCKET");

      const env = await awsSetup("example-cli");
      const result = await exec({ ...(env as Record<string, string>), POLL: "1" });
      expect(result.code, result.stdout).toBe(0);
      const lines = result.stdout.trimEnd().split("\n");
      expectEveryStep(result.stdout, lines);
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
});
