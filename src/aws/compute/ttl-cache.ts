// A small in-memory cache with a time to live per entry, a bound on its size, and one in-flight
// load per key (concurrent callers share it). Keys for AWS data are built from (region,
// credentials hash, what), so two backends with different keys never share an answer.
import { clientCacheKey, type AwsCredentialSource } from "../clients.js";

export interface TtlCacheOptions {
  /** Default time to live of an entry. */
  ttlMs: number;
  /** Beyond this, the oldest entries are dropped. Default 10 000. */
  maxEntries?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private readonly loading = new Map<string, Promise<unknown>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: TtlCacheOptions) {
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The live value, or undefined when absent or expired. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V, ttlMs = this.ttlMs): void {
    this.entries.delete(key); // re-insert: Map order is insertion order, oldest first
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached value, or the result of `load`. `ttlFor` decides how long a loaded result is kept
   * (0 or less: not kept, e.g. for failures that should be retried on the next call). Concurrent
   * calls for the same key wait for the same load.
   */
  async remember<R extends V>(key: string, load: () => Promise<R>, ttlFor: (value: R) => number = () => this.ttlMs): Promise<R> {
    const cached = this.get(key);
    if (cached !== undefined) return cached as R;
    const inFlight = this.loading.get(key);
    if (inFlight) return inFlight as Promise<R>;
    const promise = (async () => {
      try {
        const value = await load();
        const ttl = ttlFor(value);
        if (ttl > 0) this.set(key, value, ttl);
        return value;
      } finally {
        this.loading.delete(key);
      }
    })();
    this.loading.set(key, promise);
    return promise;
  }
}

/**
 * A cache key for AWS data of one (region, credentials) pair: the credentials go through SHA-256
 * (clientCacheKey), so no secret is ever part of a key.
 */
export function awsCacheKey(region: string, credentials: AwsCredentialSource, ...parts: string[]): string {
  return [clientCacheKey("ec2", region, credentials), ...parts].join("\0");
}
