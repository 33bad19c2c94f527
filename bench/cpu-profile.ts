// Where the read path's CPU goes: a V8 CPU profile of the full stack under load (taken with
// bench/cpu-profile-preload.mjs), its self time split by layer. A sample is charged to the frame
// it landed in; frames of Node's own code (http, net, streams) are charged to the nearest caller
// that belongs to a layer, so "Express" includes the socket writes Express asks for.
import { readFile } from "node:fs/promises";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface LayerShare {
  layer: string;
  percent: number;
}

/** Package (or path) patterns, first match wins. */
const LAYERS: [string, RegExp][] = [
  ["Express and body parsing", /node_modules\/(express|router|body-parser|raw-body|iconv-lite|content-type|type-is|on-finished|finalhandler|send|qs|cookie|depd|media-typer|mime-types|negotiator|accepts|vary|etag|fresh|parseurl|statuses|http-errors|encodeurl|escape-html|proxy-addr|forwarded|ipaddr\.js|@as-integrations)\//],
  ["Apollo Server pipeline", /node_modules\/@apollo\//],
  ["graphql-js parse", /node_modules\/graphql\/language\//],
  ["graphql-js validation", /node_modules\/graphql\/validation\//],
  ["graphql-js execution", /node_modules\/graphql\/(execution|type|jsutils|error|utilities)\//],
  ["graphql-jit", /node_modules\/graphql-jit\//],
  ["graphql-armor", /node_modules\/@escape\.tech\//],
  ["type-graphql", /node_modules\/(type-graphql|reflect-metadata|class-validator)\//],
  ["Prisma client and query compiler", /node_modules\/(@prisma|\.prisma)\/|src\/generated\/prisma|wasm:\/\//],
  ["pg driver", /node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-[a-z]+|pgpass|buffer-writer|packet-reader)\//],
  ["DataLoader", /node_modules\/dataloader\//],
  ["logging (pino)", /node_modules\/(pino|pino-std-serializers|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|atomic-sleep|on-exit-leak-free|safe-stable-stringify)\//],
  ["metrics (prom-client)", /node_modules\/(prom-client|tdigest|bintrees)\//],
  ["other dependencies", /node_modules\//],
  ["backend-hub's own code", /\/dist\/src\//],
];

const IDLE = new Set(["(idle)", "(program)"]);

function layerOf(node: ProfileNode): string | undefined {
  const { url, functionName } = node.callFrame;
  if (functionName === "(garbage collector)") return "garbage collection";
  for (const [layer, pattern] of LAYERS) if (pattern.test(url)) return layer;
  return undefined; // Node's own code or a builtin: charged to its caller
}

export function splitByLayer(profile: CpuProfile): LayerShare[] {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const resolved = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = resolved.get(id);
    if (known) return known;
    const node = byId.get(id)!;
    const own = layerOf(node);
    const up = parent.get(id);
    const layer = own ?? (up === undefined ? "Node.js internals (http, net, streams, timers)" : resolve(up));
    resolved.set(id, layer);
    return layer;
  };
  const totals = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)!;
    if (IDLE.has(node.callFrame.functionName)) return;
    const micros = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    const layer = resolve(id);
    totals.set(layer, (totals.get(layer) ?? 0) + micros);
    busy += micros;
  });
  return [...totals]
    .map(([layer, micros]) => ({ layer, percent: Math.round((micros / Math.max(1, busy)) * 1000) / 10 }))
    .sort((a, b) => b.percent - a.percent);
}

export async function readProfile(file: string): Promise<CpuProfile> {
  return JSON.parse(await readFile(file, "utf8")) as CpuProfile;
}
