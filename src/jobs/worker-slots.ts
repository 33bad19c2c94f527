// pg-boss 10 executes one job at a time per worker, so a process that executes N runs at once has
// N workers. Each would poll the queue on its own timer: twenty workers polling every half second
// cost an idle replica ten times the queries (and CPU) of one. Instead the workers' own polling
// is a slow fallback, and one idle worker at a time is woken to look for a job: on a timer, when
// a job is enqueued here, whenever a worker has just taken a job (there may be more), and when a
// worker finishes one.

/** Fallback polling of each worker, in case a wake-up was missed. */
export const FALLBACK_POLLING_SECONDS = 30;

export class WorkerSlots {
  private readonly ids: string[] = [];
  private readonly busy = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly notify: (workerId: string) => void) {}

  add(workerId: string): void {
    this.ids.push(workerId);
  }

  /** Wakes one idle worker every `intervalMs`: the queue is looked at as often as by one polling worker. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => this.wakeOne(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Wakes one idle worker, if there is one, to look for a job now. */
  wakeOne(): void {
    const idle = this.ids.find((id) => !this.busy.has(id));
    if (idle) this.notify(idle);
  }

  /** Runs a job taken by `workerId`; meanwhile another idle worker looks for the next one. */
  async run<T>(workerId: string, work: () => Promise<T>): Promise<T> {
    this.busy.add(workerId);
    this.wakeOne();
    try {
      return await work();
    } finally {
      this.busy.delete(workerId);
      // This worker looks again as soon as pg-boss has recorded the job's outcome.
      this.notify(workerId);
    }
  }
}
