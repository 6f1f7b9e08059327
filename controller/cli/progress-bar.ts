/**
 * The progress bar of `--wait` on a terminal (cli-progress, on stderr so stdout keeps only the
 * result): what the job is, its phase, a bar, bytes done of total, the rate and the ETA from
 * the progress updates of its WatchJob stream (ProgressRate), then its final state.
 *
 *   backup vm1 read [██████████░░░░░░░░░░]  52% 266.0 MiB/512.0 MiB  88.1 MiB/s  ETA 3s
 */
import { SingleBar } from 'cli-progress';
import type { Job__Output } from '../../shared/rpc/generated/bulwark/v1/Job.js';
import { formatBytes, formatDuration } from './output.js';
import { ProgressRate } from './progress-rate.js';

/** What one redraw shows. */
export interface BarState {
  /** "backup vm1", "sync", "verify". */
  readonly what: string;
  /** queued, running, or how it ended (succeeded, failed, cancelled, ...). */
  readonly state: string;
  /** The job's phase while it reports bytes ("read", "commit"), else "". */
  readonly phase: string;
  readonly doneBytes: number;
  readonly totalBytes: number;
  readonly bytesPerSecond: number | undefined;
  readonly etaMs: number | undefined;
}

const FULL = '\u2588';
const EMPTY = '\u2591';
/** Room for the numbers after the bar (" 100% 1023.9 MiB/1023.9 MiB  1023.9 MiB/s  ETA 59m 59s") and the brackets. */
const REST_COLUMNS = 52;

/** One line of the bar, at most `width` columns wide. */
export function barLine(s: BarState, width: number): string {
  // succeeded, failed, cancelled, skipped: the state replaces the ETA.
  const finished = s.state !== 'queued' && s.state !== 'running';
  if (s.totalBytes <= 0) return `${s.what} ${s.phase || s.state}${finished && s.phase ? ` ${s.state}` : ''}`;
  const fraction = Math.min(1, Math.max(0, s.doneBytes / s.totalBytes));
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
  const bytes = `${formatBytes(s.doneBytes)}/${formatBytes(s.totalBytes)}`;
  const rate = s.bytesPerSecond === undefined ? '-- B/s' : `${formatBytes(Math.round(s.bytesPerSecond))}/s`;
  const tail = finished ? s.state : `ETA ${s.etaMs === undefined ? '--' : formatDuration(Math.ceil(s.etaMs / 1000) * 1000)}`;
  const head = `${s.what} ${s.phase || s.state}`;
  const rest = `${pct} ${bytes}  ${rate}  ${tail}`;
  // Sized by the width and the head only, so the bar does not jump as the numbers change.
  const barWidth = Math.min(30, width - head.length - REST_COLUMNS);
  if (barWidth < 8) return `${head} ${rest}`;
  const full = Math.round(fraction * barWidth);
  return `${head} [${FULL.repeat(full)}${EMPTY.repeat(barWidth - full)}] ${rest}`;
}

/** "backup vm1": the job's kind and VM. */
export function jobWhat(job: Job__Output): string {
  return job.vm ? `${job.kind} ${job.vm}` : job.kind;
}

export interface JobProgressBarOptions {
  readonly stream: NodeJS.WriteStream;
  /** A monotonic clock in ms (performance.now). */
  readonly now: () => number;
}

/** A bar following one job; `update` with each state of the job, `stop` once. */
export class JobProgressBar {
  private readonly rate = new ProgressRate();
  private readonly bar: SingleBar;
  private state: Omit<BarState, 'bytesPerSecond' | 'etaMs'> | undefined;
  private started = false;

  constructor(private readonly opts: JobProgressBarOptions) {
    this.bar = new SingleBar({
      stream: opts.stream,
      fps: 5,
      // Forced on a non-terminal (--progress bar): a line every couple of seconds.
      noTTYOutput: opts.stream.isTTY !== true,
      notTTYSchedule: 2000,
      // Lines are cut to the width instead of turning the terminal's line wrap off, which a
      // Ctrl-C mid-bar would leave off.
      linewrap: true,
      format: (_options, params) => this.render(params.maxWidth),
    });
  }

  update(job: Job__Output): void {
    const p = job.progress;
    const nowMs = this.opts.now();
    if (p && p.totalBytes > 0) this.rate.add(nowMs, p.phase, p.doneBytes, p.totalBytes);
    this.state = {
      what: jobWhat(job),
      state: job.state,
      phase: p?.phase ?? '',
      doneBytes: p?.doneBytes ?? 0,
      totalBytes: p?.totalBytes ?? 0,
    };
    const total = Math.max(1, this.state.totalBytes);
    if (!this.started) {
      this.started = true;
      this.bar.start(total, this.state.doneBytes);
    } else {
      this.bar.setTotal(total);
      this.bar.update(this.state.doneBytes);
    }
  }

  /** Draws the last state and ends the line. */
  stop(): void {
    if (this.started) this.bar.stop();
  }

  private render(width: number): string {
    if (!this.state) return '';
    return barLine({ ...this.state, ...this.rate.estimate(this.opts.now()) }, width);
  }
}
