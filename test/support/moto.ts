// A moto_server (moto's standalone AWS endpoint) for tests: one per test worker process, on a free
// loopback port. Uses `moto_server` from PATH, else a venv at <repo>/.moto-venv that it creates
// and fills with `pip install "moto[server]"` on first use.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface MotoServer {
  /** e.g. http://127.0.0.1:41234 */
  endpoint: string;
  port: number;
  /** Turns IAM enforcement off, then wipes all state (users, buckets, VPCs…). */
  reset(): Promise<void>;
  /** On: every call must be signed by a key created in moto and allowed by its policies. */
  setIamEnforcement(on: boolean): Promise<void>;
  stop(): Promise<void>;
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const VENV_DIR = path.join(REPO_ROOT, ".moto-venv");
const VENV_BIN = path.join(VENV_DIR, "bin", "moto_server");
const READY_TIMEOUT_MS = 30_000;

// Module scope is per test file when vitest isolates files; globalThis lives as long as the
// worker process, so files that share a worker also share the server.
const CACHE_KEY = Symbol.for("backend-hub.test.moto-server");
type Cache = { [CACHE_KEY]?: Promise<MotoServer> };

/** The worker's moto server, started on first use. */
export function startMoto(): Promise<MotoServer> {
  const cache = globalThis as Cache;
  cache[CACHE_KEY] ??= launch({ shared: true }).catch((error: unknown) => {
    delete cache[CACHE_KEY];
    throw error;
  });
  return cache[CACHE_KEY];
}

/**
 * A moto_server of the caller's own, with extra environment (e.g. MOTO_AMIS_PATH for its own image
 * list); the caller stops it.
 */
export function startPrivateMoto(env: Record<string, string>): Promise<MotoServer> {
  return launch({ shared: false, env });
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      // A pyenv shim exists even when the active Python lacks the package: make sure it runs.
      if (spawnSync(candidate, ["--help"], { stdio: "ignore", timeout: 20_000 }).status === 0) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

const INSTALL_HINT =
  'Install it with `pip install "moto[server]"` (Python 3.9+) so that `moto_server` is on PATH, ' +
  "or set MOTO_SERVER_BIN to its path.";

/** Finds moto_server, installing it into <repo>/.moto-venv when it is nowhere to be found. */
export function resolveMotoBinary(): string {
  if (process.env.MOTO_SERVER_BIN) return process.env.MOTO_SERVER_BIN;
  const found = onPath("moto_server");
  if (found) return found;
  if (fs.existsSync(VENV_BIN)) return VENV_BIN;
  return withInstallLock(() => {
    if (fs.existsSync(VENV_BIN)) return VENV_BIN; // another worker installed it while we waited
    const python = ["python3", "python"].find((bin) => spawnSync(bin, ["--version"], { stdio: "ignore" }).status === 0);
    if (!python) throw new Error(`moto_server is not on PATH and no python3 was found to install it. ${INSTALL_HINT}`);
    process.stderr.write(`[moto] moto_server not found on PATH; creating ${VENV_DIR} and installing "moto[server]" (once, ~1 min)…\n`);
    const steps: [string, string[]][] = [
      [python, ["-m", "venv", VENV_DIR]],
      [path.join(VENV_DIR, "bin", "pip"), ["install", "--quiet", "moto[server]"]],
    ];
    for (const [bin, args] of steps) {
      const run = spawnSync(bin, args, { stdio: ["ignore", "inherit", "inherit"], timeout: 600_000 });
      if (run.status !== 0) {
        fs.rmSync(VENV_DIR, { recursive: true, force: true });
        throw new Error(`Could not install moto: \`${bin} ${args.join(" ")}\` failed. ${INSTALL_HINT}`);
      }
    }
    process.stderr.write(`[moto] installed ${VENV_BIN}\n`);
    return VENV_BIN;
  });
}

/** Several workers may start at once: only one may create the venv. */
function withInstallLock<T>(fn: () => T): T {
  const lock = `${VENV_DIR}.lock`;
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 15 * 60_000) fs.rmSync(lock, { recursive: true, force: true }); // left by a killed run
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lock}; delete it if no install is running.`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500); // sleep synchronously
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function post(endpoint: string, route: string, body?: string): Promise<void> {
  // reset-auth reads the raw body as a number: it must be text/plain (a form body arrives empty).
  const response = await fetch(`${endpoint}${route}`, {
    method: "POST",
    body,
    headers: body === undefined ? {} : { "content-type": "text/plain" },
  });
  if (!response.ok) throw new Error(`moto ${route} answered HTTP ${response.status}: ${await response.text()}`);
}

interface LaunchOptions {
  /** The worker's cached server (stop() forgets it). */
  shared: boolean;
  env?: Record<string, string>;
}

async function launch(options: LaunchOptions): Promise<MotoServer> {
  const binary = resolveMotoBinary();
  let lastError: unknown;
  // The free port can be taken between probing and binding; try a few.
  for (let tries = 0; tries < 3; tries++) {
    const port = await freePort();
    try {
      return await startOn(binary, port, options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOn(binary: string, port: number, options: LaunchOptions): Promise<MotoServer> {
  const endpoint = `http://127.0.0.1:${port}`;
  // A tiny shell wrapper kills moto when our stdin pipe closes, which happens however this
  // process ends (even SIGKILL or a crashed worker), so no orphaned servers pile up.
  const wrapper = 'bin="$1"; shift; "$bin" "$@" & child=$!; trap \'kill $child 2>/dev/null; exit 0\' INT TERM; read _ignored; kill $child 2>/dev/null; wait $child';
  const proc: ChildProcess = spawn("sh", ["-c", wrapper, "moto-wrapper", binary, "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["pipe", "ignore", "pipe"],
    env: { ...process.env, ...options.env },
  });
  let stderr = "";
  proc.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  let running = true;
  void exited.then(() => {
    running = false;
  });

  const stopOnExit = () => proc.stdin?.end();
  process.once("exit", stopOnExit);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (!running) throw new Error(`moto_server exited before it was ready (port ${port}):\n${stderr}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.stdin?.end();
      throw new Error(`moto_server did not answer on ${endpoint} within ${READY_TIMEOUT_MS / 1000}s:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const server: MotoServer = {
    endpoint,
    port,
    async setIamEnforcement(on) {
      await post(endpoint, "/moto-api/reset-auth", on ? "0" : "inf");
    },
    async reset() {
      // Reset keeps the auth setting but deletes every user: with enforcement on, nothing could
      // sign a request afterwards. So enforcement goes off first.
      await post(endpoint, "/moto-api/reset-auth", "inf");
      await post(endpoint, "/moto-api/reset");
    },
    async stop() {
      process.removeListener("exit", stopOnExit);
      if (options.shared) delete (globalThis as Cache)[CACHE_KEY];
      if (running) {
        proc.stdin?.end();
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
        if (running) proc.kill("SIGKILL");
      }
    },
  };
  return server;
}
