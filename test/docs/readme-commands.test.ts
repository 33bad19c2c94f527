// The README's curl examples, run as written against a real server (only the URL and the token
// are substituted), so the first steps a new user copies keep working.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

const run = promisify(execFile);

async function curlBlocks(): Promise<string[]> {
  const readme = await readFile("README.md", "utf8");
  return [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!).filter((block) => block.includes("curl"));
}

describe("README commands", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.close());

  it("the first query and mutation answer as the README says", async () => {
    const blocks = await curlBlocks();
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const script = block.replaceAll("http://127.0.0.1:4000/graphql", t.url).replace(/^TOKEN=.*$/m, `TOKEN=${t.adminToken}`);
      const { stdout } = await run("bash", ["-euo", "pipefail", "-c", script]);
      const answers = stdout.trim().split(/\n(?=\{)/).map((line) => JSON.parse(line));
      expect(answers.length).toBeGreaterThan(0);
      for (const answer of answers) expect(answer.errors).toBeUndefined();
    }
  });
});
