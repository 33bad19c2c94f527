// Retrying an AWS operation that reports its failures as values (AwsResult), through p-retry: the
// one retry mechanism above the SDK's own (each SDK call already retries throttling and 5xx in
// "standard" mode, see clients.ts). Used where AWS needs time to catch up with itself: a new
// instance profile EC2 does not see yet, a new role Secrets Manager does not accept as principal yet.
import pRetry from "p-retry";
import type { AwsFailure, AwsResult } from "./errors.js";

export interface RetryPolicy {
  /** Delay before the first retry, multiplied by `factor` (default 2) for each later one, up to maxDelayMs. */
  delayMs: number;
  factor?: number;
  maxDelayMs?: number;
  /** Attempts including the first. At least one of `attempts` and `maxWaitMs` bounds the retries. */
  attempts?: number;
  /** No retry starts later than this after the first attempt began. */
  maxWaitMs?: number;
}

/** Thrown inside p-retry to ask for another attempt; never leaves this module. */
class RetryableFailure extends Error {}

/**
 * Runs `operation` again while it fails in a way `retryable` accepts, within `policy`. Returns
 * the last result (success, a failure not worth retrying, or the last retryable one once the
 * bound is reached) and how many attempts were made.
 */
export async function retryResult<T>(
  operation: () => Promise<AwsResult<T>>,
  retryable: (failure: AwsFailure) => boolean,
  policy: RetryPolicy,
): Promise<{ result: AwsResult<T>; attempts: number }> {
  if (policy.attempts === undefined && policy.maxWaitMs === undefined) throw new Error("retryResult needs attempts or maxWaitMs");
  const factor = policy.factor ?? 2;
  const maxDelayMs = policy.maxDelayMs ?? Number.POSITIVE_INFINITY;
  // The delay p-retry waits after `retries` retries (randomize off), to skip a retry that would start too late.
  const delayAfter = (retries: number) => Math.min(Math.round(policy.delayMs * factor ** retries), maxDelayMs);
  const started = performance.now();
  let last: AwsResult<T> | undefined;
  let attempts = 0;
  try {
    await pRetry(
      async (attempt) => {
        attempts = attempt;
        last = await operation();
        if (!last.ok && retryable(last.error)) throw new RetryableFailure();
      },
      {
        retries: policy.attempts === undefined ? Number.POSITIVE_INFINITY : Math.max(0, policy.attempts - 1),
        minTimeout: policy.delayMs,
        maxTimeout: maxDelayMs,
        factor,
        randomize: false,
        shouldRetry: ({ retriesConsumed }) =>
          policy.maxWaitMs === undefined || performance.now() - started + delayAfter(retriesConsumed) <= policy.maxWaitMs,
      },
    );
  } catch (error) {
    if (!(error instanceof RetryableFailure)) throw error;
  }
  return { result: last!, attempts };
}
