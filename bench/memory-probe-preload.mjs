// Preloaded (`node --import`) into a server under benchmark: on SIGWINCH (which a server ignores
// otherwise) it writes what the process's resident memory is made of to MEMORY_PROBE_OUT as JSON:
// V8's heap, array buffers (WebAssembly memories included), and /proc's view of the rest:
// file-backed pages (the node binary and shared libraries) and anonymous mappings outside V8's
// heap (native allocations: glibc's main heap and its per-thread arenas).
import { readFileSync, writeFileSync } from "node:fs";
import v8 from "node:v8";

const kib = (text, field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);

/** Resident KiB of glibc's [heap] and of its thread arenas (64 MiB-aligned anonymous reservations). */
function mallocRegions() {
  let heapKiB = 0;
  let arenaKiB = 0;
  let arenas = 0;
  let current;
  for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const start = BigInt(`0x${head[1]}`);
      current = head[3] === "[heap]" ? "heap" : !head[3] && start % (64n << 20n) === 0n && start > 0x7f0000000000n ? "arena" : undefined;
      if (current === "arena") arenas++;
      continue;
    }
    if (current && line.startsWith("Rss:")) {
      const value = Number(line.split(/\s+/)[1]);
      if (current === "heap") heapKiB += value;
      else arenaKiB += value;
    }
  }
  return { heapKiB, arenaKiB, arenas };
}

process.on("SIGWINCH", () => {
  const usage = process.memoryUsage();
  const status = readFileSync("/proc/self/status", "utf8");
  writeFileSync(
    process.env.MEMORY_PROBE_OUT,
    JSON.stringify({
      usage,
      heap: v8.getHeapStatistics(),
      rssAnonKiB: kib(status, "RssAnon"),
      rssFileKiB: kib(status, "RssFile"),
      threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0),
      malloc: mallocRegions(),
    }),
  );
});
