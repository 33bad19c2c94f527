// The closing section of bench/results.md: what profiling found, what was changed and why, and what
// the profile says is left. "Before" figures are from the previous results.md (2026-11-28) and from
// runs made while the changes were written; "after" figures are in the sections above.
export const FINDINGS = `## What profiling found, what was changed, what is left

### 1. Read path

The CPU profile of the full stack under the read-path load (section 1 has this run's split by
layer; \`BENCH_CPU_PROFILE=<file>\` keeps the profile for Chrome DevTools) put the time, before
these changes, in Prisma (27–30 %), pg (20–28 %), Express and body parsing (12–16 %), Node's own
http/net code (8 %), Apollo's pipeline (6 %), graphql-js (4 %), type-graphql (3 %) and our code (5 %).

| Finding | Change | Effect |
|---|---|---|
| Prisma's query planning and result mapping cost 0.11–0.14 CPU-ms per statement against 0.03–0.05 for the same statement through \`pg\` (a micro-benchmark on this machine), on every statement of the read path | The three statements most requests run go straight to pg (\`src/db/hot-read.ts\`): the token with its user (one statement instead of two), the project with the caller's membership (one instead of two), a project's backends. Every check stays. The rows equal what Prisma reads: \`test/db/hot-reads.test.ts\` checks them in a non-UTC time zone, which caught \`lastUsedAt\` being written in local time. | Prisma is gone from the read path's profile; 5 statements became 3 (the floor runs the same 3, imported from the product's code) |
| type-graphql ran class-validator over every argument object, with a dynamic \`import()\` per argument per request, though no constraint was ever declared | \`validate: false\` and the package removed (inputs are checked by the services, with a userError per field) | about 1.5 % of the CPU |
| Apollo's default cache-control plugin hooks every field; the schema has no cache hints | disabled | under 1 % |
| A Relay cursor was encoded (JSON + base64) for every edge, asked for or not | cursors encoded when read | about 1 % |
| Express tried the health and metrics routes before \`/graphql\` | \`/graphql\` right after the playground | small |

Before: 1.83–2.09 CPU-ms per request, 0.30–0.32× the floor's throughput and 5.2–5.7× its CPU.
After, four full runs in a row on this machine (load average 1.5–2.8): 1.05, 0.84, 0.65 and 0.70
CPU-ms per request; 0.38×, 0.43×, 0.65× and 0.41× the floor's throughput; 4.4×, 3.7×, 2.4× and
3.7× its CPU (the floor itself ranged from 0.19 to 0.27 CPU-ms).
The full stack's CPU per request fell by half to two thirds, while the floor also got cheaper
(3 statements instead of 5). The spread between runs is as large as the remaining gap, so read
goal 1 as borderline: met in some runs, not in others, whatever this run's Goals table says.

**Not done, and why.**
- A per-process cache from token to viewer would save the remaining authentication statement, for
  the full stack and the floor alike. The issue asks that revocation, expiry and role changes take
  effect on every replica before the mutation returns: NOTIFY is delivered asynchronously, and a
  version check is itself a statement per request. Left out rather than weaken revocation.
- graphql-jit behind Apollo's executor hook: graphql-js execution is about 7 % of the CPU, so it
  could save a few percent at most, for a second executor beside graphql-ws's.

**What is left** (section 1's split): pg's protocol work and the socket writes (\`writev\`, about
15 % alone) are the floor's own cost too. The rest is the framework: Express with body-parser and
\`@as-integrations/express5\` (which calls the legacy \`url.parse\` per request) about 23 %, Apollo's
request pipeline about 9 %, graphql-js execution 7 %, type-graphql's resolver wrapping 4 %, the
request log (pino) 3 %. Reaching 2.5× the floor's CPU would mean serving \`/graphql\` without
Express and Apollo's HTTP layer.

### 2. Memory

The resident memory that grows is the V8 heap, not memory outside it. After 20,000 requests V8
has committed 200–300 MiB, of which about 80 MiB survives a full collection (section 1's heap
table): V8 grows the old generation lazily and collects it rarely while the server is busy.
Outside the heap (section 1's breakdown): the node binary and libraries, file-backed, 54 MiB on
Node 24 (45 MiB on Node 20); glibc's main heap and thread arenas, 50–60 MiB together; array
buffers, WebAssembly memory included, about 5 MiB.

Changed: the AWS SDK loads on first use (\`src/aws/sdk.ts\`; the EC2 client alone is +93 MiB), so
a server that has not called AWS yet starts at about 170–190 MiB instead of 240–260.

Tried, not adopted: V8 flags for the server process. \`--max-semi-space-size=4
--heap-growing-percent=10\` kept RSS at about 200 MiB after 20,000 requests, \`--optimize-for-size
--max-semi-space-size=2\` at about 170 MiB, both at the price of more collections (CPU on the
read path). None reached 160 MiB, and each trades CPU for memory in a way an operator should
choose: \`NODE_OPTIONS=--max-semi-space-size=4\` is the one that \`NODE_OPTIONS\` accepts.

### 3. Start-up

The timeline by phase is in section 5. Changed: the AWS SDK loads on first use (importing the
server went from 670–940 ms and +134–160 MiB to about 400 ms and +73 MiB); the embedded PostgreSQL
starts while the server's modules load; Prisma's connect and the keyring, then the first-admin
check, the event listener, the job queue and the schema with Apollo, run side by side; Node's
compile cache is kept in \`DATA_DIR/compile-cache\` (Node ≥ 22.1); pg-boss starts without its cron
scheduler (no scheduled jobs here). On Node 24 a start on an existing database went from about
1.2 s to 0.82–0.96 s when measured on a quiet machine (runs spread from 0.8 to 1.1 s), but 1.1–1.3 s
when measured after the other sections' load, which is why it now runs first. On Node 20 (no
compile cache) it is about 1.4 s. What is left: the job
queue's start (about 170 ms) and the embedded PostgreSQL's own start (about 370 ms).

### 4. Provisioning concurrency

A CPU profile of 20 runs at once showed the event loop busy with run bookkeeping: about 155 SQL
statements per run. The executor now publishes a run from the rows its own updates return
(instead of reloading the run and its steps after every change), starts a step and counts its
first attempt in one update, and records resources with one insert (\`skipDuplicates\`) instead of
a four-statement upsert: about 75 statements per run. Runs enqueued together wake different idle
workers, so they are fetched side by side instead of one after another. The per-run advisory lock
stays; concurrency is \`PROVISIONING_CONCURRENCY\` (default 20).

### 5. Cost as the work grows

Discovery of 300 buckets in 6 regions: the regions' bucket lists are fetched in one bounded
round; what is above 2 rounds is moto answering the region listings one at a time and our own
work around the calls (section 7's timeline). Across runs it came out at 3.8–4.7 rounds, so this
goal, too, is borderline against moto. Against AWS, ListBuckets already names each
bucket's region. The instance sync sends 100 ids per DescribeInstances call: 20 calls for 2,000.
`;
