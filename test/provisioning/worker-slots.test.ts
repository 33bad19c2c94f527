// Which pg-boss worker is woken to fetch: runs enqueued together wake different idle workers, so
// they are fetched side by side rather than one fetch after another.
import { describe, expect, it } from "vitest";
import { WAKE_FETCH_MS, WorkerSlots } from "../../src/jobs/worker-slots.js";

function makeSlots(count: number) {
  const notified: string[] = [];
  const slots = new WorkerSlots((id) => notified.push(id));
  for (let i = 0; i < count; i++) slots.add(`w${i}`);
  return { slots, notified };
}

describe("WorkerSlots", () => {
  it("wakes a different idle worker for each of several jobs enqueued at once", () => {
    const { slots, notified } = makeSlots(4);
    for (let i = 0; i < 3; i++) slots.wakeOne(1_000);
    expect(notified).toEqual(["w0", "w1", "w2"]);
  });

  it("wakes the first idle worker again once every one was woken, and after the fetch window", () => {
    const { slots, notified } = makeSlots(2);
    slots.wakeOne(1_000);
    slots.wakeOne(1_000);
    slots.wakeOne(1_000);
    slots.wakeOne(1_000 + WAKE_FETCH_MS + 1);
    expect(notified).toEqual(["w0", "w1", "w0", "w0"]);
  });

  it("never wakes a busy worker; one that took a job wakes another, and itself once done", async () => {
    const { slots, notified } = makeSlots(2);
    let release!: () => void;
    const job = slots.run("w0", () => new Promise<void>((resolve) => (release = resolve)));
    expect(notified).toEqual(["w1"]);
    slots.wakeOne();
    expect(notified).toEqual(["w1", "w1"]);
    release();
    await job;
    expect(notified).toEqual(["w1", "w1", "w0"]);
  });
});
