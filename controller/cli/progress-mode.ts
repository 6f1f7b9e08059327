/**
 * How `--wait` shows a job's progress: `bar` (a redrawn bar on stderr: phase, bytes done and
 * total, rate, ETA), `plain` (a line on stdout per state or phase change, what scripts and logs
 * want), `none`, or `auto`: the bar when stderr is a terminal, plain lines otherwise. `--json`
 * never shows progress: stdout is the JSON alone. Chosen by `--progress`, else
 * $BULWARK_PROGRESS, else auto.
 */
import { z } from 'zod';
import { ConfigError } from '../../shared/errors.js';
import { zodParser } from './option-parsers.js';

export const ProgressMode = z.enum(['auto', 'bar', 'plain', 'none'], { error: 'must be one of auto, bar, plain, none' });
export type ProgressMode = z.infer<typeof ProgressMode>;

/** What the follower does once `auto` is decided. */
export type ProgressView = 'bar' | 'plain' | 'none';

/** The `--progress <mode>` option's parser. */
export const parseProgressMode = zodParser(ProgressMode);

export interface ProgressModeInput {
  /** `--progress`, when given. */
  readonly flag?: ProgressMode | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly json: boolean;
  readonly stderrIsTty: boolean;
}

/** `--progress`, else $BULWARK_PROGRESS, else auto; a bad $BULWARK_PROGRESS is a ConfigError naming it (exit 2). */
export function progressModeFrom(input: Pick<ProgressModeInput, 'flag' | 'env'>): ProgressMode {
  if (input.flag !== undefined) return input.flag;
  const fromEnv = input.env.BULWARK_PROGRESS;
  if (fromEnv === undefined || fromEnv === '') return 'auto';
  const parsed = ProgressMode.safeParse(fromEnv);
  if (!parsed.success) throw new ConfigError('BULWARK_PROGRESS', '', 'must be one of auto, bar, plain, none');
  return parsed.data;
}

/** Decides the view. */
export function resolveProgressView(input: ProgressModeInput): ProgressView {
  const mode = progressModeFrom(input);
  if (input.json) return 'none';
  if (mode === 'auto') return input.stderrIsTty ? 'bar' : 'plain';
  return mode;
}
