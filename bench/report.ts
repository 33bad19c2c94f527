// bench/results.md from one run's figures.
import { checkGoals, figures } from "./figures.js";
import type { BenchResults } from "./main.js";
import { FINDINGS } from "./findings.js";
import { round } from "./lib.js";
import type { ReadPathResult } from "./read-path.js";

/** Memory outside the V8 heap, by what holds it (added to the read path's results by bench/read-path.ts when measured). */
type NonHeap = { label: string; mib: number }[];

const ratio = (a: number, b: number) => (b === 0 ? "n/a" : `${round(a / b, 2)}×`);


function nonHeapLines(nonHeap: NonHeap | undefined): string[] {
  if (!nonHeap?.length) return [];
  return ["What the resident memory is made of after 20,000 requests (bench/memory-probe-preload.mjs):", "", "| What | MiB |", "|---|---:|", ...nonHeap.map((item) => `| ${item.label} | ${item.mib} |`), ""];
}

export function renderReport(results: BenchResults): string {
  const { machine } = results;
  const lines: string[] = [];
  lines.push("# Benchmarks", "");
  lines.push(`Latest run: ${results.date}${results.quick ? " (BENCH_QUICK: shortened runs, figures indicative only)" : ""}.`, "");
  lines.push("## Goals", "");
  lines.push("| Figure | Goal | Measured | Met |", "|---|---|---:|---|");
  for (const { goal, value, met } of checkGoals(figures(results))) {
    const measured = value === null ? "not measured" : (goal.format?.(value) ?? String(value));
    lines.push(`| ${goal.description} (\`${goal.key}\`) | ${goal.text} | ${measured} | ${met === null ? "—" : met ? "yes" : "**no**"} |`);
  }
  lines.push("", "The same figures as JSON: `BENCH_JSON=<path> npm run bench`.", "");
  lines.push("## How to reproduce", "");
  lines.push(
    "```sh",
    "npm run bench                          # build, then every benchmark; rewrites this file",
    "BENCH_QUICK=1 npm run bench            # shorter runs (checks the harness; under 10 minutes)",
    "BENCH_ONLY=read,sql npm run bench      # some sections only (read, sql, discovery, provisioning, concurrency, discovery-scale, sync, startup); leaves this file alone",
    "BENCH_JSON=figures.json npm run bench  # also writes the figures of the Goals table as JSON (null for a section not run)",
    "```",
    "",
  );
  lines.push(
    "Everything runs locally: an embedded PostgreSQL started for the run, moto (`moto_server`) as AWS, the server under test as `node dist/src/main.js` (read path, memory, start-up) or in the benchmark process (statement and AWS call counts). Load comes from autocannon in a separate process.",
    "",
  );
  lines.push("## Machine", "");
  lines.push("| | |", "|---|---|");
  lines.push(`| CPU | ${machine.cpu} |`, `| Cores | ${machine.cores} |`, `| Memory | ${machine.memoryGiB} GiB |`, `| Node.js | ${machine.node} |`, `| OS | ${machine.os} |`);
  if (machine.postgres) lines.push(`| PostgreSQL | ${machine.postgres} (embedded, default settings) |`);
  lines.push("");

  const read = results.readPath;
  if (read) {
    lines.push("## 1. Read path against its floor", "");
    lines.push(
      `\`project(id) { backends { edges { node { aws { region bucket } } } } }\` for a project with ${read.backends} backends (${read.responseBytes}-byte response), ${read.connections} connections, ${read.warmupSeconds} s warm-up then ${read.durationSeconds} s measured, one server under load at a time. The floor is \`bench/bare-server.ts\`: \`node:http\` + \`pg\`, the same ${read.statements} SQL statements (${read.sameSql ? "the product's own statement texts, and the full stack sent exactly these in this run" : "**the full stack's SQL differed in this run**"}), the same checks and ${read.sameResponse ? "byte-identical JSON (checked in this run)" : "**a different response in this run**"}.`,
      "",
    );
    lines.push("| Server | Requests/s | p50 (ms) | p90 (ms) | p99 (ms) | CPU-ms per request | Non-2xx | Errors | Load average after |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const [name, result] of [
      ["Full stack (Express 5, Apollo Server 5, type-graphql; the hot reads through pg, the rest through Prisma 7)", read.full],
      ["Bare node:http + pg", read.bare],
    ] as const) {
      lines.push(
        `| ${name} | ${Math.round(result.requestsPerSecond)} | ${result.latency.p50} | ${result.latency.p90} | ${result.latency.p99} | ${result.cpuMsPerRequest} | ${result.non2xx} | ${result.errors} | ${result.loadAverage} |`,
      );
    }
    lines.push("");
    lines.push(
      `**Ratios:** the floor serves ${ratio(read.bare.requestsPerSecond, read.full.requestsPerSecond)} the full stack's requests/s (the full stack reaches ${Math.round((read.full.requestsPerSecond / read.bare.requestsPerSecond) * 100)} % of it); the full stack's p50 latency is ${ratio(read.full.latency.p50, read.bare.latency.p50)}, its p99 ${ratio(read.full.latency.p99, read.bare.latency.p99)} and its CPU per request ${ratio(read.full.cpuMsPerRequest, read.bare.cpuMsPerRequest)} the floor's.`,
      "",
      `The server, PostgreSQL and the load generator share ${machine.cores} cores, so requests/s depend on how busy the machine is (see the load average); CPU-ms per request, read from /proc for the server process alone, is the steadier figure.`,
      "",
    );
    if (read.profile?.length) {
      lines.push("Where the full stack's CPU goes under the same load (a V8 CPU profile of the server, self time by layer; Node's own code is charged to the layer that called it):", "");
      lines.push("| Layer | Share of CPU |", "|---|---:|");
      for (const share of read.profile) lines.push(`| ${share.layer} | ${share.percent} % |`);
      lines.push("");
    }
  }

  const sql = results.sqlCounts;
  if (sql) {
    lines.push("## 2. No N+1", "");
    lines.push(`\`${sql.query}\`, each project with one member, one backend and one run (also asserted in \`npm test\`, test/hardening/n-plus-one.test.ts):`, "");
    lines.push("| Projects | SQL statements |", "|---:|---:|", `| 1 | ${sql.one} |`, `| 100 | ${sql.hundred} |`, "");
    lines.push(`The query for 100 projects takes ${sql.hundredMs} ms (median of 7, in-process server). The statements: the token with its user, the page of projects, members, their users, backends, last runs, their steps.`, "");
    lines.push(
      `With ${sql.history.runsPerBackend} runs per backend (20 older ones of 6 steps each), \`lastRun { status steps { name } }\` for the 100 backends reads ${sql.history.runRowsRead} run rows and ${sql.history.stepRowsRead} step rows (${sql.history.ms} ms).`,
      "",
    );
  }

  const discovery = results.discovery;
  if (discovery) {
    lines.push("## 3. Discovery latency", "");
    lines.push(
      `\`discoverAwsBackend\` with access keys, through \`test/support/fault-proxy.ts\` adding ${discovery.latencyMs} ms to every AWS request (moto behind it; the account has ${discovery.buckets} buckets in 5 regions). Time is the median of 5 calls; rounds = time / ${discovery.latencyMs} ms; the same form through the proxy without added latency separates moto's own time (and ours) from the waiting: (time − time without latency) / 100 ms is the number of calls that had to wait for one another; the longest chain is the same thing read from the proxy's timestamps.`,
      "",
    );
    lines.push(
      "| Form | AWS requests | Time (ms) | Rounds (time / 100 ms) | Without added latency (ms) | Rounds the latency cost | Longest chain | userErrors |",
      "|---|---:|---:|---:|---:|---:|---:|---|",
    );
    for (const item of discovery.cases) {
      lines.push(`| ${item.name} | ${item.awsRequests} | ${item.ms} | ${item.rounds} | ${item.baseMs} | ${item.latencyRounds} | ${item.longestChain} | ${item.userErrors.join(", ") || "none"} |`);
    }
    lines.push("", "Independent calls run in parallel: the rounds stay at the depth of the call chain (identity ∥ bucket list → bucket regions ∥ bucket check ∥ subnets), not the number of calls.", "");
  }

  const provisioning = results.provisioning;
  if (provisioning) {
    lines.push("## 4. Provisioning cost", "");
    lines.push("AWS calls made by `provisionBackend` (counted with `startServer`'s `awsMiddleware`: one per logical SDK call; reads are Get/List/Describe/Head/Simulate, everything else is a write).", "");
    lines.push("| Run | Reads | Writes | Result | Time (ms) |", "|---|---:|---:|---|---:|");
    lines.push(`| Fresh backend | ${provisioning.fresh.reads} | ${provisioning.fresh.writes} | ${provisioning.fresh.status} | ${provisioning.fresh.ms} |`);
    lines.push(`| Again, on the READY backend | ${provisioning.repeated.reads} | ${provisioning.repeated.writes} | ${provisioning.repeated.status} | ${provisioning.repeated.ms} |`, "");
    const operations = [...new Set([...Object.keys(provisioning.fresh.byOperation), ...Object.keys(provisioning.repeated.byOperation)])].sort();
    lines.push("| Call | Fresh | Repeated |", "|---|---:|---:|");
    for (const operation of operations) lines.push(`| ${operation} | ${provisioning.fresh.byOperation[operation] ?? 0} | ${provisioning.repeated.byOperation[operation] ?? 0} |`);
    lines.push("");
  }

  if (read || results.startup) {
    lines.push("## 5. Memory and start-up", "");
    if (read) {
      lines.push(
        `Resident memory of a fresh \`node dist/src/main.js\` serving the read-path query: ${read.memory.afterStartMiB} MiB after start, **${read.memory.after10kMiB} MiB after 10,000 requests**, ${read.memory.after20kMiB} MiB after 20,000 (${read.memory.non2xx} non-2xx).`,
        "",
        ...nonHeapLines((read as ReadPathResult & { nonHeap?: NonHeap }).nonHeap),
        `No leak: the V8 heap in use after a full collection (same server, in the benchmark process) is ${read.heap.startMiB} MiB warm, ${read.heap.after10kMiB} MiB after 10,000 requests and ${read.heap.after20kMiB} MiB after 20,000. What grows is the V8 heap's garbage between major collections (the breakdown below): RSS moves with the garbage collector's timing. The AWS SDK is not loaded here: it loads on the first AWS call.`,
        "",
      );
    }
    const start = results.startup;
    if (start) {
      lines.push("Time from spawning `node dist/src/main.js` to `/readyz` answering 200 (`npm start` adds `npm run build` before it):", "");
      lines.push("| Database | Time (ms) |", "|---|---:|", `| New embedded database (initdb, migrations, first admin) | ${start.newDatabaseMs} |`, `| Existing embedded database (median of ${start.existingRuns.length}) | ${start.existingDatabaseMs} |`, `| External PostgreSQL via DATABASE_URL (median) | ${start.externalDatabaseMs} |`, "");
      lines.push("Where the time goes: importing the modules, in a fresh process (median of 3):", "");
      lines.push("| Module | Import (ms) | Resident memory added (MiB) |", "|---|---:|---:|");
      for (const item of start.imports) lines.push(`| ${item.module} | ${item.ms} | ${item.rssMiB} |`);
      lines.push(
        "",
        "The rest of a start on an existing database is PostgreSQL's own start, the migration check, pg-boss's queue set-up and the schema build (the timeline above). The EC2 client would be the largest single cost in both time and memory; it is not in the server's import: the AWS SDK loads on the first AWS call (\`src/aws/sdk.ts\`; a test fails on a static import of it).",
        "",
      );
    }
  }

  const concurrency = results.concurrency;
  if (concurrency) {
    lines.push("## 6. Provisioning runs at once", "");
    lines.push(
      `One replica (the server in the benchmark's process, PROVISIONING_CONCURRENCY ${concurrency.concurrency}), every AWS call ${concurrency.latencyMs} ms slower through the fault proxy (in a process of its own), moto behind it. Time from \`provisionBackend\` until the run SUCCEEDED for one backend, then for ${concurrency.twenty.runs} backends whose runs were all started together, until the last one finished.`,
      "",
    );
    lines.push(
      "| Runs | Time (ms) | Outcomes | AWS calls | Most in flight | moto's mean time per call (ms) | Longest wait for a worker (ms) | CPU ms: server + benchmark / moto |",
      "|---:|---:|---|---:|---:|---:|---:|---|",
    );
    for (const batch of [concurrency.one, concurrency.twenty]) {
      const outcomes = Object.entries(batch.outcomes).map(([status, count]) => `${count} ${status}`).join(", ");
      lines.push(`| ${batch.runs} | ${batch.ms} | ${outcomes} | ${batch.awsCalls} | ${batch.maxInFlight} | ${batch.awsMeanMs} | ${batch.queuedMsMax} | ${batch.cpuMs.node} / ${batch.cpuMs.moto ?? "?"} |`);
    }
    lines.push("", `**time(${concurrency.twenty.runs}) / time(1) = ${concurrency.concurrent20Ratio}** (goal ≤ 2).`, "");
    const steps = Object.keys(concurrency.one.stepMeanMs);
    lines.push("Mean time of each step (ms, from the steps' own timestamps):", "", `| Step | 1 run | ${concurrency.twenty.runs} runs |`, "|---|---:|---:|");
    for (const step of steps) lines.push(`| ${step} | ${concurrency.one.stepMeanMs[step]} | ${concurrency.twenty.stepMeanMs[step] ?? "?"} |`);
    lines.push("");
    const operations = [...new Set([...Object.keys(concurrency.one.writes), ...Object.keys(concurrency.twenty.writes)])].sort();
    lines.push(
      `Every resource created once: ${concurrency.createdOnce ? "yes" : "**no**"}: the ${concurrency.twenty.runs} runs made each write ${concurrency.twenty.runs} times as often as the lone run (${operations.map((operation) => `${operation} ${concurrency.one.writes[operation] ?? 0} → ${concurrency.twenty.writes[operation] ?? 0}`).join(", ")}), and every backend recorded ${concurrency.twenty.resourcesPerBackend.join(" or ")} resources (the lone run: ${concurrency.one.resourcesPerBackend.join(", ")}).${concurrency.twenty.errors.length ? ` Errors: ${concurrency.twenty.errors.join("; ")}` : ""}`,
      "",
      "Twenty runs share one event loop, one connection pool and one moto: what the ratio measures beyond 1 is the work that does not overlap, chiefly our CPU per run (SQL statements, the AWS SDK) and moto's (single Python process), both visible in the CPU column.",
      "",
    );
  }

  const scale = results.discoveryScale;
  if (scale) {
    lines.push("## 7. Discovery of a large account", "");
    lines.push(
      `\`discoverAwsBackend\` with access keys only, for an account with ${scale.buckets} buckets in ${scale.regions} regions, every AWS call ${scale.latencyMs} ms slower (proxy in its own process; median of ${scale.runs}).`,
      "",
    );
    lines.push("| Time (ms) | Rounds (time / 100 ms) | Without added latency (ms) | AWS requests | Most in flight | Throttled | Buckets placed right | userErrors |", "|---:|---:|---:|---:|---:|---:|---:|---|");
    lines.push(`| ${scale.ms} | **${scale.rounds300Buckets}** | ${scale.baseMs} | ${scale.awsRequests} | ${scale.maxInFlight} | ${scale.throttled} | ${scale.bucketsPlaced} / ${scale.buckets} | ${scale.userErrors.join(", ") || "none"} |`, "");
    lines.push(`Calls: ${Object.entries(scale.byOperation).map(([operation, count]) => `${operation} × ${count}`).join(", ")}. moto names no bucket's region in ListBuckets (AWS does, and then no further call is made), so the buckets are placed with one filtered listing per enabled region, all in one bounded round; moto answers those one at a time (one Python process), which is most of the time without added latency.`, "");
    if (scale.timeline) lines.push(`The last run's AWS requests, start–end in ms from the mutation's start: ${scale.timeline}.`, "");
  }

  const sync = results.sync;
  if (sync) {
    lines.push("## 8. Instance sync at scale", "");
    lines.push(
      `${sync.instances.toLocaleString("en")} instances running in moto (RunInstances in batches, tagged as launches tag them) and recorded as launches record them; one sync round (\`syncInstances\`), AWS calls counted with the server's awsMiddleware (each page is a call). Set-up took ${sync.setUpSeconds} s.`,
      "",
    );
    lines.push("| DescribeInstances calls | All AWS calls | Round (ms) | Records changed |", "|---:|---|---:|---:|");
    lines.push(`| **${sync.describeCallsFor2000}** | ${Object.entries(sync.awsCalls).map(([operation, count]) => `${operation} × ${count}`).join(", ")} | ${sync.roundMs} | ${sync.changedRecords} |`, "");
    lines.push("Ids go 100 to a call (the `instance-id` filter), so 2,000 instances cost 20 calls. moto evaluates that filter slowly over thousands of instances, which is most of the round's time here.", "");
  }

  lines.push(FINDINGS);
  if (results.failures.length) {
    lines.push("## Failures in this run", "");
    for (const failure of results.failures) lines.push("```", failure, "```", "");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}
