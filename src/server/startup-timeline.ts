// Where start-up time goes: each phase's start and end in milliseconds since the process began
// (performance.now()'s origin), so phases that run side by side show as overlapping. Logged once
// when the server listens; bench/startup.ts reads it.

export interface StartupPhase {
  phase: string;
  startMs: number;
  endMs: number;
}

export class StartupTimeline {
  readonly phases: StartupPhase[] = [];

  constructor() {
    // Node's own start and the modules imported before the timeline began (all of the server's
    // when startServer() is called directly; main.ts imports them as the phase "import").
    this.phases.push({ phase: "boot", startMs: 0, endMs: round(performance.now()) });
  }

  /** Runs `work` as the phase `phase`. */
  async time<T>(phase: string, work: () => Promise<T>): Promise<T> {
    const startMs = round(performance.now());
    try {
      return await work();
    } finally {
      this.phases.push({ phase, startMs, endMs: round(performance.now()) });
    }
  }

  get totalMs(): number {
    return round(performance.now());
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
