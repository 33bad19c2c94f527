// The README stays short and is the way into docs/: every page there is linked from it, and no
// relative link in the README or in docs/ points at a file (or a heading) that does not exist.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const README = "README.md";
const MAX_README_BYTES = 10_000;

const docsPages = readdirSync("docs")
  .filter((name) => name.endsWith(".md"))
  .sort()
  .map((name) => `docs/${name}`);

/** Markdown without fenced code blocks, whose contents are examples, not links. */
function prose(file: string): string {
  return readFileSync(file, "utf8").replace(/^```[\s\S]*?^```/gm, "");
}

/** Relative link targets (`[text](target)`), absolute URLs left out. */
function relativeLinks(file: string): string[] {
  return [...prose(file).matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1]!).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as dashes. */
function headingAnchors(file: string): Set<string> {
  const headings = [...prose(file).matchAll(/^#{1,6}\s+(.+)$/gm)].map((match) => match[1]!);
  return new Set(headings.map((heading) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-")));
}

/** Where a link from `file` lands: [path relative to the repository root, anchor or undefined]. */
function resolveLink(file: string, target: string): [string, string | undefined] {
  const [pathPart, anchor] = target.split("#", 2) as [string, string | undefined];
  const resolved = pathPart ? path.normalize(path.join(path.dirname(file), decodeURIComponent(pathPart))) : file;
  return [resolved.replace(/\/$/, ""), anchor];
}

describe("README and docs/", () => {
  it(`the README is at most ${MAX_README_BYTES} bytes`, () => {
    expect(statSync(README).size).toBeLessThanOrEqual(MAX_README_BYTES);
  });

  it("every docs/*.md page is linked from the README", () => {
    expect(docsPages.length).toBeGreaterThan(0);
    const linked = new Set(relativeLinks(README).map((target) => resolveLink(README, target)[0]));
    expect(docsPages.filter((page) => !linked.has(page))).toEqual([]);
  });

  it("relative links in the README and docs/ point at existing files and headings", () => {
    const broken: string[] = [];
    for (const file of [README, ...docsPages]) {
      for (const target of relativeLinks(file)) {
        const [resolved, anchor] = resolveLink(file, target);
        if (!existsSync(resolved)) broken.push(`${file}: ${target} (no such file)`);
        else if (anchor !== undefined && resolved.endsWith(".md") && !headingAnchors(resolved).has(anchor)) broken.push(`${file}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});
