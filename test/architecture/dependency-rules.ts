// The dependency rule of src/ (docs/architecture.md), as data and a checker, so that the test
// can both check the real import graph and show that a violation is caught.
import fs from "node:fs";
import path from "node:path";

export type Layer = "root" | "edge" | "capability" | "aws" | "platform";

/** Every top-level entry of src/ and its layer; a folder missing here fails the test. */
export const LAYERS: Record<string, Layer> = {
  "main.ts": "root",
  server: "root",
  scripts: "root",
  resolvers: "edge",
  graphql: "edge",
  users: "capability",
  projects: "capability",
  backends: "capability",
  provisioning: "capability",
  compute: "capability",
  spend: "capability",
  reconciliation: "capability",
  audit: "capability",
  aws: "aws",
  db: "platform",
  events: "platform",
  jobs: "platform",
  crypto: "platform",
  config: "platform",
  logging: "platform",
  errors: "platform",
  http: "platform",
  metrics: "platform",
  generated: "platform",
};

export interface ImportEdge {
  from: string; // path relative to src/
  to: string; // path relative to src/
  typeOnly: boolean;
}

const topOf = (file: string) => file.split("/")[0]!;

/** Why `edge` breaks the rule, or null when it is allowed. */
export function violation(edge: ImportEdge): string | null {
  const a = topOf(edge.from);
  const b = topOf(edge.to);
  if (a === b) return null;
  const from = LAYERS[a];
  const to = LAYERS[b];
  if (!from) return `src/${a} has no layer: add it to LAYERS (test/architecture/dependency-rules.ts) and docs/architecture.md`;
  if (!to) return `src/${b} has no layer: add it to LAYERS (test/architecture/dependency-rules.ts) and docs/architecture.md`;
  const allowed: Record<Layer, Layer[]> = {
    root: ["root", "edge", "capability", "aws", "platform"],
    edge: ["edge", "capability", "platform"],
    capability: ["capability", "aws", "platform"],
    aws: ["aws"],
    platform: ["platform"],
  };
  // aws/ sees only the platform's errors and logging.
  if (from === "aws" && (b === "errors" || b === "logging")) return null;
  // The GraphQL context carries the composed services: their type, and nothing else, comes from the root.
  if (a === "graphql" && edge.to === "server/services.ts" && edge.typeOnly) return null;
  if (allowed[from].includes(to)) return null;
  return `${from} (src/${a}) must not import ${to} (src/${b})`;
}

/** Capability folders that import each other in a circle, e.g. ["compute", "backends", "compute"]; null when none. */
export function capabilityCycle(edges: ImportEdge[]): string[] | null {
  const graph = new Map<string, Set<string>>();
  for (const edge of edges) {
    const a = topOf(edge.from);
    const b = topOf(edge.to);
    if (a === b || LAYERS[a] !== "capability" || LAYERS[b] !== "capability") continue;
    if (!graph.has(a)) graph.set(a, new Set());
    graph.get(a)!.add(b);
  }
  const visiting: string[] = [];
  const done = new Set<string>();
  const visit = (node: string): string[] | null => {
    if (visiting.includes(node)) return [...visiting.slice(visiting.indexOf(node)), node];
    if (done.has(node)) return null;
    visiting.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    visiting.pop();
    done.add(node);
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

const IMPORT = /(import|export)(\s+type)?[^"';]*?from\s*["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

/** The relative imports of every .ts file under `srcDir` (generated code aside). */
export function importEdges(srcDir: string): ImportEdge[] {
  const files = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === "generated" ? [] : files(full);
      return entry.name.endsWith(".ts") ? [full] : [];
    });
  const edges: ImportEdge[] = [];
  for (const file of files(srcDir)) {
    const text = fs.readFileSync(file, "utf8");
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[3] ?? match[4]!;
      const target = path.resolve(path.dirname(file), specifier).replace(/\.js$/, ".ts");
      edges.push({
        from: path.relative(srcDir, file).split(path.sep).join("/"),
        to: path.relative(srcDir, target).split(path.sep).join("/"),
        typeOnly: Boolean(match[2]),
      });
    }
  }
  return edges;
}
