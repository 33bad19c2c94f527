// test/support/fault-proxy.ts in a child process of its own, so the proxy that stands in for AWS's
// network latency does not take CPU from the server under test (they would share one event loop
// in the benchmark's process). Timestamps come back on the wall clock (performance.timeOrigin +
// performance.now(), in ms) so the benchmark can compare them with its own.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { on, startFaultProxy, type FaultProxy } from "../test/support/fault-proxy.js";

export interface ProxiedCall {
  service: string | null;
  action: string | null;
  region: string | null;
  status: number | null;
  fault: string | null;
  /** Wall-clock ms (performance.timeOrigin + performance.now()). */
  startedAt: number;
  endedAt: number | null;
}

export interface ProxyProcess {
  endpoint: string;
  /** Adds `ms` to every request from now on. */
  addLatency(ms: number): Promise<void>;
  clearRules(): Promise<void>;
  clearRequests(): Promise<void>;
  requests(): Promise<ProxiedCall[]>;
  stop(): Promise<void>;
}

type Request = { op: "addLatency"; ms: number } | { op: "clearRules" | "clearRequests" | "requests" };
type Command = Request & { id: number };

export const wallClock = () => performance.timeOrigin + performance.now();

/** Starts the proxy in front of `target` in a child process. */
export async function startProxyProcess(target: string): Promise<ProxyProcess> {
  const child = fork(fileURLToPath(import.meta.url), ["--serve", target], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 0;
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`proxy process exited (${code})`)));
    child.once("message", (message: { endpoint: string }) => resolve(message.endpoint));
  });
  child.on("message", (message: { id?: number; value?: unknown }) => {
    if (message.id !== undefined) {
      pending.get(message.id)?.(message.value);
      pending.delete(message.id);
    }
  });
  const call = <T>(command: Request): Promise<T> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve as (value: unknown) => void);
      child.send({ ...command, id });
    });
  return {
    endpoint,
    addLatency: (ms) => call({ op: "addLatency", ms }),
    clearRules: () => call({ op: "clearRules" }),
    clearRequests: () => call({ op: "clearRequests" }),
    requests: () => call({ op: "requests" }),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function serve(target: string): Promise<void> {
  const proxy: FaultProxy = await startFaultProxy(target);
  const toWall = (ms: number) => performance.timeOrigin + ms;
  process.on("message", (command: Command) => {
    let value: unknown = null;
    if (command.op === "addLatency") proxy.addRule({ match: on.any(), fault: { kind: "latency", ms: command.ms } });
    else if (command.op === "clearRules") proxy.clearRules();
    else if (command.op === "clearRequests") proxy.clearRequests();
    else if (command.op === "requests")
      value = proxy.requests.map((r) => ({
        service: r.service,
        action: r.action,
        region: r.region,
        status: r.status,
        fault: r.fault,
        startedAt: toWall(r.startedAt),
        endedAt: r.endedAt === null ? null : toWall(r.endedAt),
      }));
    process.send!({ id: command.id, value });
  });
  process.once("SIGTERM", () => void proxy.stop().then(() => process.exit(0)));
  process.send!({ endpoint: proxy.endpoint });
}

if (process.argv[2] === "--serve") await serve(process.argv[3]);
