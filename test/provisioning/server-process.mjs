// The real server in a child process, for tests that need a process to die (SIGKILL) or two
// processes on one database. It runs the server's sources as bundled by the parent (harness.ts
// serverBundle: Vite, the transform vitest uses) from SERVER_BUNDLE_DIR; configuration comes from
// the environment (loadConfig). Over IPC: {type:"ready",url}, every AWS call {type:"aws",call};
// on {type:"close"} the server stops gracefully, answers {type:"closed"} and the process exits.
import "reflect-metadata";
import path from "node:path";
import { pathToFileURL } from "node:url";

const send = (message) => {
  if (process.connected) process.send(message);
};
// The parent went away (its test ended or crashed): do not outlive it.
process.on("disconnect", () => process.exit(1));

try {
  const dir = process.env.SERVER_BUNDLE_DIR;
  const { loadConfig } = await import(pathToFileURL(path.join(dir, "config.mjs")).href);
  const { startServer } = await import(pathToFileURL(path.join(dir, "app.mjs")).href);
  const server = await startServer(loadConfig(process.env), { awsMiddleware: (call) => send({ type: "aws", call }) });
  process.on("message", async (message) => {
    if (message?.type !== "close") return;
    await server.close();
    send({ type: "closed" });
    process.exit(0);
  });
  send({ type: "ready", url: server.url });
} catch (error) {
  send({ type: "failed", error: String(error?.stack ?? error) });
  process.exit(1);
}
