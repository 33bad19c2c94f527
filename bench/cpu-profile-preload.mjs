// Preloaded (`node --import`) into a server under benchmark: SIGUSR2 starts V8's sampling CPU
// profiler, the next SIGUSR2 stops it and writes the profile to CPU_PROFILE_OUT, so that the
// profile covers the measured load only (not start-up).
import { writeFileSync } from "node:fs";
import inspector from "node:inspector/promises";

const session = new inspector.Session();
session.connect();
let profiling = false;
process.on("SIGUSR2", async () => {
  if (!profiling) {
    profiling = true;
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 200 });
    await session.post("Profiler.start");
    return;
  }
  const { profile } = await session.post("Profiler.stop");
  profiling = false;
  writeFileSync(process.env.CPU_PROFILE_OUT, JSON.stringify(profile));
});
