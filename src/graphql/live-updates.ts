// Subscriptions that start with the object's current state and then follow its changes. The
// listener is attached before the current state is read, so nothing between the two is lost;
// duplicates (an event equal to what was just sent) are skipped. With `progress`, late events
// (older than what was already sent) are skipped too: an event queued while the current state
// was being read, or one another process published a moment before a later state.
import { Repeater } from "@repeaterjs/repeater";
import type { EventBus, Topic } from "../events/event-bus.js";

export function liveUpdates<T>(options: {
  events: EventBus;
  topic: Topic;
  id: string;
  current: () => Promise<T | null>;
  fromJson: (json: unknown) => T;
  isFinal: (value: T) => boolean;
  /**
   * Where a value stands in the object's life, compared element by element (e.g. status rank,
   * then attempts): it only moves forward while a subscription lasts. A value behind the last
   * one sent is an older state and is not sent.
   */
  progress?: (value: T) => readonly number[];
  /**
   * Asked before each update: false (the caller left the project, their token was revoked) ends
   * the subscription, so access is not judged only once, at subscribe time.
   */
  stillAllowed?: () => Promise<boolean>;
}): AsyncIterable<T> {
  return new Repeater<T>(async (push, stop) => {
    const pending: unknown[] = [];
    let deliver: ((json: unknown) => void) | undefined;
    const unlisten = options.events.listen(options.topic, options.id, (json) => (deliver ? deliver(json) : pending.push(json)));
    stop.then(unlisten);
    const current = await options.current();
    if (!current) return stop();
    let last = JSON.stringify(current);
    let lastProgress = options.progress?.(current);
    const send = (value: T) => {
      const serialized = JSON.stringify(value);
      if (serialized === last) return;
      const progress = options.progress?.(value);
      if (progress && lastProgress && compareProgress(progress, lastProgress) < 0) return;
      last = serialized;
      lastProgress = progress;
      void push(value);
      if (options.isFinal(value)) stop();
    };
    await push(current);
    if (options.isFinal(current)) return stop();
    // Updates are checked one after another, in arrival order.
    let chain = Promise.resolve();
    deliver = (json) => {
      chain = chain.then(async () => {
        if (options.stillAllowed && !(await options.stillAllowed().catch(() => false))) return void stop();
        send(options.fromJson(json));
      });
    };
    for (const json of pending.splice(0)) deliver(json);
    await stop;
  });
}

function compareProgress(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
