// The load generator, run as a child process of the benchmark so that it does not share a CPU
// queue with the server under test: autocannon with the options given as JSON in argv[2]; the
// result is printed as one JSON line on stdout.
import autocannon from "autocannon";

const options = JSON.parse(process.argv[2]);
const result = await autocannon({ ...options, setupClient: undefined });
const { requests, latency, throughput, errors, timeouts, non2xx, duration } = result;
process.stdout.write(
  `${JSON.stringify({
    requestsPerSecond: requests.average,
    requestsTotal: requests.total,
    latency: { p50: latency.p50, p90: latency.p90, p99: latency.p99, average: latency.average, max: latency.max },
    throughputBytesPerSecond: throughput.average,
    errors,
    timeouts,
    non2xx,
    durationSeconds: duration,
  })}\n`,
);
