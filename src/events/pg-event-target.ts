// An EventTarget shared by every server process on one database, over PostgreSQL LISTEN/NOTIFY.
// Events dispatched here are NOTIFYed; every process (this one included) delivers them to its
// local listeners when the notification comes back, so all replicas see the same events in
// commit order.
import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import pRetry from "p-retry";
import type { Logger } from "../logging/logger.js";

const CHANNEL = "backend_hub_events";
/** NOTIFY payloads must stay under 8000 bytes. */
const MAX_PAYLOAD = 7_900;

export class PgEventTarget extends EventTarget {
  private listener?: pg.Client;
  private closed = false;
  /** Aborted on close: stops reconnecting. */
  private readonly closing = new AbortController();
  /**
   * NOTIFYs are sent one after the other: each is its own transaction on whichever pooled
   * connection is free, so sent concurrently they could commit (and be delivered) out of order.
   */
  private sending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly databaseUrl: string,
    private readonly logger: Logger,
  ) {
    super();
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on("notification", (message) => this.deliver(message.payload));
    client.on("error", () => this.reconnectSoon());
    client.on("end", () => this.reconnectSoon());
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  /**
   * After a database outage the LISTEN connection is re-established: first after 500 ms, then
   * with the delay doubling up to 10 s, until it connects or the target is closed.
   */
  private reconnectSoon(): void {
    if (this.closed || !this.listener) return;
    this.listener = undefined;
    const signal = this.closing.signal;
    void delay(500, undefined, { ref: false, signal })
      .then(() => pRetry(() => this.connect(), { retries: Number.POSITIVE_INFINITY, minTimeout: 1_000, maxTimeout: 10_000, factor: 2, unref: true, signal }))
      .catch(() => undefined); // closed meanwhile
  }

  private deliver(payload: string | undefined): void {
    if (!payload) return;
    try {
      const { type, detail } = JSON.parse(payload) as { type: string; detail: unknown };
      super.dispatchEvent(new CustomEvent(type, { detail }));
    } catch (error) {
      this.logger.warn({ err: error }, "ignored a malformed event notification");
    }
  }

  override dispatchEvent(event: Event): boolean {
    const payload = JSON.stringify({ type: event.type, detail: (event as CustomEvent).detail });
    if (payload.length > MAX_PAYLOAD) {
      this.logger.warn({ type: event.type, bytes: payload.length }, "event too large for NOTIFY; dropped");
      return false;
    }
    this.sending = this.sending
      .then(() => this.pool.query("SELECT pg_notify($1, $2)", [CHANNEL, payload]))
      .catch((error) => this.logger.warn({ err: error }, "could not publish an event"));
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    await this.sending; // events dispatched before close still go out
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => undefined);
  }
}
