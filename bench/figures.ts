// The headline figures of a run (BENCH_JSON=<path> writes them as JSON) and the goals they are
// held to (the "Goals" table at the top of bench/results.md). A section that did not run gives null.
import type { BenchResults } from "./main.js";
import { round } from "./lib.js";

export interface Figures {
  read: { throughputRatio: number | null; cpuRatio: number | null };
  memory: { rssMiBAfter20k: number | null; growth10kTo20k: number | null };
  startup: { existingDatabaseMs: number | null };
  provisioning: { concurrent20Ratio: number | null };
  discovery: { rounds300Buckets: number | null };
  sync: { describeCallsFor2000: number | null };
}

const ratioOf = (a: number | undefined, b: number | undefined, digits = 3) => (a === undefined || b === undefined || b === 0 ? null : round(a / b, digits));

export function figures(results: BenchResults): Figures {
  const read = results.readPath;
  return {
    read: {
      throughputRatio: ratioOf(read?.full.requestsPerSecond, read?.bare.requestsPerSecond),
      cpuRatio: ratioOf(read?.full.cpuMsPerRequest, read?.bare.cpuMsPerRequest),
    },
    memory: {
      rssMiBAfter20k: read?.memory.after20kMiB ?? null,
      growth10kTo20k: read ? ratioOf(read.memory.after20kMiB - read.memory.after10kMiB, read.memory.after10kMiB) : null,
    },
    startup: { existingDatabaseMs: results.startup?.existingDatabaseMs ?? null },
    provisioning: { concurrent20Ratio: results.concurrency?.concurrent20Ratio ?? null },
    discovery: { rounds300Buckets: results.discoveryScale?.rounds300Buckets ?? null },
    sync: { describeCallsFor2000: results.sync?.describeCallsFor2000 ?? null },
  };
}

export interface Goal {
  /** The JSON key, e.g. "provisioning.concurrent20Ratio". */
  key: string;
  description: string;
  /** Met when the figure is at most (or at least) this; no bound: no goal was set for it here. */
  atMost?: number;
  atLeast?: number;
  /** How the bound reads in the table, e.g. "≤ 2". */
  text: string;
  format?: (value: number) => string;
}

const percent = (value: number) => `${round(value * 100, 1)} %`;

/** Issue 12's goals. */
export const GOALS: Goal[] = [
  { key: "read.throughputRatio", description: "Read path: full stack's requests/s ÷ the floor's", atLeast: 0.5, text: "≥ 0.5" },
  { key: "read.cpuRatio", description: "Read path: full stack's CPU-ms per request ÷ the floor's", atMost: 2.5, text: "≤ 2.5" },
  { key: "memory.rssMiBAfter20k", description: "Resident memory after 20,000 read-path requests (MiB)", atMost: 160, text: "≤ 160" },
  { key: "memory.growth10kTo20k", description: "Resident memory growth from 10,000 to 20,000 requests", atMost: 0.05, text: "< 5 %", format: percent },
  { key: "startup.existingDatabaseMs", description: "Start-up on an existing embedded database (ms)", atMost: 1000, text: "≤ 1,000" },
  { key: "provisioning.concurrent20Ratio", description: "20 provisioning runs at once ÷ one run (time, 100 ms per AWS call)", atMost: 2, text: "≤ 2" },
  { key: "discovery.rounds300Buckets", description: "Discovery of 300 buckets in 6 regions, in rounds of 100 ms", atMost: 4, text: "≤ 4" },
  { key: "sync.describeCallsFor2000", description: "DescribeInstances calls in one sync round of 2,000 instances", atMost: 20, text: "≤ 20" },
];

export interface GoalRow {
  goal: Goal;
  value: number | null;
  /** null: not measured in this run, or no bound set. */
  met: boolean | null;
}

export function checkGoals(values: Figures): GoalRow[] {
  return GOALS.map((goal) => {
    const [group, name] = goal.key.split(".");
    const value = (values as unknown as Record<string, Record<string, number | null>>)[group]?.[name] ?? null;
    const bounded = goal.atMost !== undefined || goal.atLeast !== undefined;
    const met = value === null || !bounded ? null : (goal.atMost === undefined || value <= goal.atMost) && (goal.atLeast === undefined || value >= goal.atLeast);
    return { goal, value, met };
  });
}
