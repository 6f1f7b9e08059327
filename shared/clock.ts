/** The source of time for domain code, so tests can drive it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
  /** The current time as an ISO-8601 string. */
  nowIso(): string;
}

/** The wall clock. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  nowIso: () => new Date().toISOString(),
};

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  private ms: number;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.ms = startMs;
  }

  nowMs(): number {
    return this.ms;
  }

  nowIso(): string {
    return new Date(this.ms).toISOString();
  }

  /** Moves the clock forward. */
  advance(ms: number): void {
    this.ms += ms;
  }
}
