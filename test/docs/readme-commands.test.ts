// The curl examples in the README and in docs/, run as written against a real server (only the
// URL and the token are substituted), so the first steps a new user copies keep working wherever
// the docs move them.
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { useServer } from "../support/fixtures.js";

const run = promisify(execFile);

interface CurlBlock {
  file: string;
  script: string;
}

async function markdownFiles(): Promise<string[]> {
  const docs = (await readdir("docs")).filter((name) => name.endsWith(".md")).sort();
  return ["README.md", ...docs.map((name) => `docs/${name}`)];
}

async function curlBlocks(): Promise<CurlBlock[]> {
  const blocks: CurlBlock[] = [];
  for (const file of await markdownFiles()) {
    const markdown = await readFile(file, "utf8");
    for (const match of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
      if (match[1]!.includes("curl")) blocks.push({ file, script: match[1]! });
    }
  }
  return blocks;
}

/** Every userErrors entry anywhere in a response's data: a copied example should not be refused. */
function userErrorsIn(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(userErrorsIn);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, inner]) => (key === "userErrors" && Array.isArray(inner) ? inner : userErrorsIn(inner)));
}

describe("README commands", () => {
  const t = useServer();

  it("the first query and mutation answer as the docs say", async () => {
    const blocks = await curlBlocks();
    expect(blocks.length, "no curl example found in README.md or docs/*.md").toBeGreaterThan(0);
    for (const { file, script } of blocks) {
      const substituted = script.replaceAll("http://127.0.0.1:4000/graphql", t.url).replace(/^TOKEN=.*$/m, `TOKEN=${t.adminToken}`);
      const { stdout } = await run("bash", ["-euo", "pipefail", "-c", substituted]);
      const answers = stdout.trim().split(/\n(?=\{)/).map((line) => JSON.parse(line));
      expect(answers.length, `${file}: a curl block printed nothing`).toBeGreaterThan(0);
      for (const answer of answers) {
        expect(answer.errors, `${file}: ${JSON.stringify(answer)}`).toBeUndefined();
        expect(userErrorsIn(answer.data), `${file}: ${JSON.stringify(answer)}`).toEqual([]);
      }
    }
  });
});
