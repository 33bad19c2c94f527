// Subscriptions that start with the object's current state and then follow its changes. The
// listener is attached before the current state is read, so nothing between the two is lost;
// duplicates (an event equal to what was just sent) are skipped.
import { Repeater } from "@repeaterjs/repeater";
import type { EventBus, Topic } from "../events/event-bus.js";

export function liveUpdates<T>(options: {
  events: EventBus;
  topic: Topic;
  id: string;
  current: () => Promise<T | null>;
  fromJson: (json: unknown) => T;
  isFinal: (value: T) => boolean;
}): AsyncIterable<T> {
  return new Repeater<T>(async (push, stop) => {
    const pending: unknown[] = [];
    let deliver: ((json: unknown) => void) | undefined;
    const unlisten = options.events.listen(options.topic, options.id, (json) => (deliver ? deliver(json) : pending.push(json)));
    stop.then(unlisten);
    const current = await options.current();
    if (!current) return stop();
    let last = JSON.stringify(current);
    const send = (value: T) => {
      const serialized = JSON.stringify(value);
      if (serialized === last) return;
      last = serialized;
      void push(value);
      if (options.isFinal(value)) stop();
    };
    await push(current);
    if (options.isFinal(current)) return stop();
    deliver = (json) => send(options.fromJson(json));
    for (const json of pending.splice(0)) deliver(json);
    await stop;
  });
}
