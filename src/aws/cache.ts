// Caches of AWS answers, on lru-cache: a bound on the entries (least recently used dropped first),
// a time to live per entry, and one load per key in flight (concurrent callers share it). Keys
// for AWS data are built from (region, credentials hash, what), so two backends with different
// keys never share an answer.
import { LRUCache } from "lru-cache";
import { clientCacheKey, type AwsCredentialSource } from "./clients.js";

export interface AwsCacheOptions {
  /** Default time to live of an entry. */
  ttlMs: number;
  maxEntries: number;
  /** Clock in ms, for tests. lru-cache reads a start time of 0 as "no time", so it must not return 0. */
  now?: () => number;
}

interface Loader<V> {
  load: () => Promise<V>;
  ttlFor: (value: V) => number;
}

/** A loaded value that must not be kept: it leaves lru-cache's fetch as a rejection, so nothing is stored. */
class NotKept {
  constructor(readonly value: unknown) {}
}

export class AwsCache<V extends object> {
  private readonly entries: LRUCache<string, V, Loader<V>>;

  constructor(options: AwsCacheOptions) {
    this.entries = new LRUCache<string, V, Loader<V>>({
      max: options.maxEntries,
      ttl: options.ttlMs,
      // Read the clock on every check rather than once per millisecond, so a test's clock is always seen.
      ttlResolution: 0,
      ...(options.now ? { perf: { now: options.now } } : {}),
      // A load whose entry was pushed out meanwhile still answers its callers.
      ignoreFetchAbort: true,
      fetchMethod: async (_key, _stale, { options: entry, context }) => {
        const value = await context.load();
        const ttl = context.ttlFor(value);
        if (ttl <= 0) throw new NotKept(value);
        entry.ttl = ttl;
        return value;
      },
    });
  }

  /** The live value, or undefined when absent or expired. */
  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    this.entries.set(key, value);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached value, or the result of `load`, kept for `ttlFor(value)` ms (0 or less: not kept,
   * e.g. a failure that should be tried again on the next call). Concurrent calls for the same key
   * wait for the same load.
   */
  async remember<R extends V>(key: string, load: () => Promise<R>, ttlFor: (value: R) => number = () => this.entries.ttl): Promise<R> {
    try {
      const context: Loader<V> = { load, ttlFor: (value) => ttlFor(value as R) };
      return (await this.entries.fetch(key, { context })) as R;
    } catch (error) {
      if (error instanceof NotKept) return error.value as R;
      throw error;
    }
  }
}

/**
 * A cache key for AWS data of one (region, credentials) pair: the credentials go through SHA-256
 * (clientCacheKey), so no secret is ever part of a key.
 */
export function awsCacheKey(region: string, credentials: AwsCredentialSource, ...parts: string[]): string {
  return [clientCacheKey("ec2", region, credentials), ...parts].join("\0");
}
