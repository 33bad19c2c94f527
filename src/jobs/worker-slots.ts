// pg-boss 10 executes one job at a time per worker, so a process that executes N runs at once has
// N workers. Each would poll the queue on its own timer: twenty workers polling every half second
// cost an idle replica ten times the queries (and CPU) of one. Instead the workers' own polling
// is a slow fallback, and one idle worker at a time is woken to look for a job: on a timer, when
// a job is enqueued here, whenever a worker has just taken a job (there may be more), and when a
// worker finishes one. Wake-ups go to different workers: twenty runs enqueued at once wake twenty
// workers, which fetch side by side (SKIP LOCKED hands each its own job), rather than one worker
// taking the jobs one fetch after another.

/** Fallback polling of each worker, in case a wake-up was missed. */
export const FALLBACK_POLLING_SECONDS = 30;

/** A worker woken this recently is presumed to be fetching still: the next wake-up goes to another. */
export const WAKE_FETCH_MS = 2_000;

export class WorkerSlots {
  private readonly ids: string[] = [];
  private readonly busy = new Set<string>();
  /** Idle workers woken to fetch, and when. */
  private readonly woken = new Map<string, number>();
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

  /** Wakes one idle worker, if there is one, to look for a job now: preferably one not woken just before. */
  wakeOne(now = Date.now()): void {
    const idle = this.ids.filter((id) => !this.busy.has(id));
    const next = idle.find((id) => now - (this.woken.get(id) ?? -Infinity) > WAKE_FETCH_MS) ?? idle[0];
    if (next === undefined) return;
    this.woken.set(next, now);
    this.notify(next);
  }

  /** Runs a job taken by `workerId`; meanwhile another idle worker looks for the next one. */
  async run<T>(workerId: string, work: () => Promise<T>): Promise<T> {
    this.busy.add(workerId);
    this.woken.delete(workerId);
    this.wakeOne();
    try {
      return await work();
    } finally {
      this.busy.delete(workerId);
      // This worker looks again as soon as pg-boss has recorded the job's outcome.
      this.woken.set(workerId, Date.now());
      this.notify(workerId);
    }
  }
}
