// The one retry mechanism for AWS operations that need AWS to catch up with itself (retry.ts, over
// p-retry): which failures it retries, its bounds, and its backoff. Delays are real but small.
import { describe, expect, it } from "vitest";
import { localFailure, type AwsResult } from "../../src/aws/errors.js";
import { retryResult } from "../../src/aws/retry.js";

const notReady = localFailure("INSTANCE_PROFILE_NOT_READY", "ec2", "RunInstances", "InvalidParameterValue", "not yet");
const denied = localFailure("ACCESS_DENIED", "ec2", "RunInstances", "UnauthorizedOperation", "denied");
const retryable = (failure: { kind: string }) => failure.kind === "INSTANCE_PROFILE_NOT_READY";

/** An operation answering `answers` in turn (the last one again when they run out), noting when each attempt started. */
function scripted(answers: AwsResult<string>[]) {
  const startedAt: number[] = [];
  const operation = async () => {
    startedAt.push(performance.now());
    return answers[Math.min(startedAt.length - 1, answers.length - 1)]!;
  };
  return { operation, startedAt };
}

describe("retryResult", () => {
  it("retries a retryable failure until success, backing off from delayMs", async () => {
    const { operation, startedAt } = scripted([{ ok: false, error: notReady }, { ok: false, error: notReady }, { ok: true, value: "done" }]);
    const { result, attempts } = await retryResult(operation, retryable, { delayMs: 20, maxWaitMs: 5_000 });
    expect(result).toEqual({ ok: true, value: "done" });
    expect(attempts).toBe(3);
    // 20 ms, then doubled: 40 ms (timers may fire a millisecond early).
    expect(startedAt[1]! - startedAt[0]!).toBeGreaterThanOrEqual(19);
    expect(startedAt[2]! - startedAt[1]!).toBeGreaterThanOrEqual(39);
  });

  it("returns a failure it must not retry at once", async () => {
    const { operation } = scripted([{ ok: false, error: denied }, { ok: true, value: "never" }]);
    expect(await retryResult(operation, retryable, { delayMs: 10, maxWaitMs: 5_000 })).toEqual({ result: { ok: false, error: denied }, attempts: 1 });
  });

  it("stops after `attempts`, with the last failure", async () => {
    const { operation } = scripted([{ ok: false, error: notReady }]);
    expect(await retryResult(operation, retryable, { delayMs: 5, factor: 1, attempts: 3 })).toEqual({ result: { ok: false, error: notReady }, attempts: 3 });
  });

  it("starts no retry whose delay would end past maxWaitMs", async () => {
    const { operation } = scripted([{ ok: false, error: notReady }]);
    // Delays 200, 400, 800 ms: attempts at about 0, 200 and 600 ms; the next (1400 ms) would pass 1000 ms.
    const { attempts } = await retryResult(operation, retryable, { delayMs: 200, maxWaitMs: 1_000 });
    expect(attempts).toBe(3);
  });

  it("needs a bound", async () => {
    await expect(retryResult(scripted([]).operation, retryable, { delayMs: 1 })).rejects.toThrow(/attempts or maxWaitMs/);
  });
});
