// Typed topics for live updates, carried between processes by PgEventTarget. Each event carries
// the whole object as JSON, so a listener sees every transition, not a later re-read.
import type { PgEventTarget } from "./pg-event-target.js";

export type Topic = "RUN_UPDATED" | "INSTANCE_UPDATED" | "BACKEND_UPDATED";

export class EventBus {
  constructor(private readonly target: PgEventTarget) {}

  publish(topic: Topic, id: string, payload: unknown): void {
    this.target.dispatchEvent(new CustomEvent(`${topic}:${id}`, { detail: payload }));
  }

  /** Calls `listener` for every event of (topic, id) until the returned function is called. */
  listen(topic: Topic, id: string, listener: (payload: unknown) => void): () => void {
    const handler = (event: Event) => listener((event as CustomEvent).detail);
    this.target.addEventListener(`${topic}:${id}`, handler);
    return () => this.target.removeEventListener(`${topic}:${id}`, handler);
  }
}
