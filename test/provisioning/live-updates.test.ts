// liveUpdates (the subscription behind provisioningRunUpdated) with events arriving late: an
// update published just before the subscriber read the current state can be delivered after it,
// and another process may publish a later state a moment before this one publishes an earlier
// one. The subscriber must never see a run go backwards. Driven with an in-memory event bus, so
// the interleavings are exact.
import { describe, expect, it } from "vitest";
import type { EventBus } from "../../src/events/event-bus.js";
import { liveUpdates } from "../../src/graphql/live-updates.js";
import { runProgress, type RunView } from "../../src/provisioning/run-view.js";

class MemoryBus {
  private listeners = new Set<(payload: unknown) => void>();
  listen(_topic: string, _id: string, listener: (payload: unknown) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  publish(payload: unknown) {
    for (const listener of this.listeners) listener(JSON.parse(JSON.stringify(payload)));
  }
}

type Status = RunView["steps"][number]["status"];
function run(status: RunView["status"], steps: [Status, number][]): RunView {
  return {
    id: "run-1",
    backendId: "backend-1",
    kind: "PROVISION",
    status,
    error: null,
    createdAt: new Date(0),
    startedAt: null,
    finishedAt: null,
    steps: steps.map(([stepStatus, attempts], i) => ({
      name: `step-${i}`,
      status: stepStatus,
      attempts,
      resourceId: null,
      message: null,
      startedAt: null,
      finishedAt: null,
    })),
  };
}

const QUEUED = run("QUEUED", [["PENDING", 0], ["PENDING", 0]]);
const STARTED = run("RUNNING", [["PENDING", 0], ["PENDING", 0]]);
const FIRST_RUNNING = run("RUNNING", [["RUNNING", 1], ["PENDING", 0]]);
const FIRST_RETRIED = run("RUNNING", [["RUNNING", 2], ["PENDING", 0]]);
const FIRST_DONE = run("RUNNING", [["DONE", 2], ["PENDING", 0]]);
const SECOND_RUNNING = run("RUNNING", [["DONE", 2], ["RUNNING", 1]]);
const SECOND_DONE = run("RUNNING", [["DONE", 2], ["DONE", 1]]);
const SUCCEEDED = run("SUCCEEDED", [["DONE", 2], ["DONE", 1]]);
const ORDER = [QUEUED, STARTED, FIRST_RUNNING, FIRST_RETRIED, FIRST_DONE, SECOND_RUNNING, SECOND_DONE, SUCCEEDED];

/** Subscribes; `current` resolves only when `readCurrent` is called, so events can arrive meanwhile. */
function subscribe(bus: MemoryBus) {
  let readCurrent!: (value: RunView) => void;
  const iterable = liveUpdates<RunView>({
    events: bus as unknown as EventBus,
    topic: "RUN_UPDATED",
    id: "run-1",
    current: () => new Promise((resolve) => (readCurrent = resolve)),
    fromJson: (json) => json as RunView,
    isFinal: (value) => value.status === "SUCCEEDED" || value.status === "FAILED",
    progress: runProgress,
  });
  const received: string[] = [];
  const iterator = iterable[Symbol.asyncIterator]();
  const done = (async () => {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      received.push(JSON.stringify(next.value.status) + JSON.stringify(next.value.steps.map((s) => [s.status, s.attempts])));
    }
  })();
  const label = (value: RunView) => JSON.stringify(value.status) + JSON.stringify(value.steps.map((s) => [s.status, s.attempts]));
  return { received, done, label, read: (value: RunView) => readCurrent(value), started: () => readCurrent !== undefined };
}

describe("liveUpdates with late events", () => {
  it("never moves backwards: an event older than the current state is dropped", async () => {
    const bus = new MemoryBus();
    const subscription = subscribe(bus);
    for (let i = 0; !subscription.started() && i < 100; i++) await new Promise((r) => setTimeout(r, 1));
    // Published before the state was read, delivered after the listener was attached.
    bus.publish(FIRST_RUNNING);
    subscription.read(FIRST_DONE);
    await new Promise((r) => setTimeout(r, 5));
    // The notification of the state just read arrives, then the rest in order.
    bus.publish(FIRST_RETRIED); // late, older than FIRST_DONE
    bus.publish(FIRST_DONE);
    bus.publish(SECOND_RUNNING);
    bus.publish(FIRST_DONE); // a duplicate from another replica's view, late
    bus.publish(SECOND_DONE);
    bus.publish(SUCCEEDED);
    await subscription.done;
    expect(subscription.received).toEqual([FIRST_DONE, SECOND_RUNNING, SECOND_DONE, SUCCEEDED].map(subscription.label));
  });

  it("drops a QUEUED state published after the run had started (by the process that accepted the request)", async () => {
    const bus = new MemoryBus();
    const subscription = subscribe(bus);
    for (let i = 0; !subscription.started() && i < 100; i++) await new Promise((r) => setTimeout(r, 1));
    subscription.read(QUEUED);
    await new Promise((r) => setTimeout(r, 5));
    bus.publish(STARTED);
    bus.publish(FIRST_RUNNING);
    bus.publish(QUEUED);
    for (const value of ORDER.slice(3)) bus.publish(value);
    await subscription.done;
    expect(subscription.received).toEqual(ORDER.map(subscription.label));
  });

  it("runProgress increases with every update the executor publishes", () => {
    for (let i = 1; i < ORDER.length; i++) {
      const [before, after] = [runProgress(ORDER[i - 1]), runProgress(ORDER[i])];
      const firstDifference = before.findIndex((value, j) => value !== after[j]);
      expect(firstDifference).toBeGreaterThanOrEqual(0);
      expect(after[firstDifference]).toBeGreaterThan(before[firstDifference]);
    }
  });
});
