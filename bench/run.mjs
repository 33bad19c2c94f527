// `npm run bench` (after `npm run build`): compiles the benchmark (bench/*.ts and the test helpers
// it uses: moto, the fault proxy, the SQL counter) into dist/, then runs it. Figures are printed
// and written to bench/results.md. BENCH_QUICK=1 shortens every run (for checking the harness).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tsc = spawnSync(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", path.join(root, "bench/tsconfig.json")], {
  stdio: "inherit",
  cwd: root,
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
const { main } = await import(pathToFileURL(path.join(root, "dist/bench/main.js")).href);
await main();
