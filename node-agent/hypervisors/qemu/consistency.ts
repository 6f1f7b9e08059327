/**
 * Application consistency for a qemu VM's backup instant (config: consistency-config.ts).
 *
 * Around the ONE QMP transaction that fixes the instant (`fixInstant`), mode 'application' runs:
 * the pre-snapshot hook, then guest-fsfreeze-freeze through qemu-ga (when a guest agent is
 * configured), the transaction, guest-fsfreeze-thaw, then the post-snapshot hook. The thaw comes in
 * a finally (also when the transaction fails), and the post-snapshot hook runs whenever the
 * sequence began, so whatever the pre hook locked gets unlocked. The freeze window is the freeze's
 * return to the thaw's return: only the transaction runs inside it.
 *
 * A failed pre-snapshot hook or freeze either aborts (typed error, before the transaction: QEMU is
 * left as the fleecing session leaves a failed open) or, under onFailure 'continue', skips the rest
 * of the quiescing and takes the instant crash-consistent; the returned note says which and why.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../../../shared/errors.js';
import type { ViewConsistency } from '../hypervisor.js';
import type { ConsistencyHook, QemuConsistencyConfig } from './consistency-config.js';
import { ConsistencyHookError, GuestFreezeError } from './consistency-errors.js';
import { describeHookFailure, runHook } from './consistency-hooks.js';
import { QgaClient } from './qga-client.js';

export interface ConsistentInstantOptions {
  readonly vm: string;
  readonly config: QemuConsistencyConfig;
  /** The VM's logger. */
  readonly log: Logger;
}

type HookName = 'pre-snapshot' | 'post-snapshot';

/**
 * Runs `fixInstant` (the transaction) quiesced as the config asks and says what consistency it
 * got. Throws ConsistencyHookError / GuestFreezeError under onFailure 'abort' (fixInstant not
 * run), or fixInstant's own error (after thaw and post hook).
 */
export async function takeConsistentInstant(options: ConsistentInstantOptions, fixInstant: () => Promise<void>): Promise<ViewConsistency> {
  const { vm, config, log } = options;
  if (config.mode === 'crash') {
    await fixInstant();
    return { level: 'crash', note: null };
  }
  const done: string[] = [];
  const after: string[] = [];
  let fallback: string | null = null;
  let freeze: GuestFreeze | undefined;
  let taken = false;
  let froze = false;
  try {
    if (config.preSnapshot !== undefined) {
      const failure = await runLoggedHook(vm, 'pre-snapshot', config.preSnapshot, {}, log);
      if (failure === null) {
        done.push('pre-snapshot hook ok');
      } else if (config.onFailure === 'abort') {
        throw new ConsistencyHookError(vm, config.preSnapshot.where, failure.reason, failure.timedOut);
      } else {
        fallback = `pre-snapshot hook failed: ${failure.reason}`;
      }
    }
    if (fallback === null && config.guestAgent !== undefined) {
      freeze = new GuestFreeze(vm, config.guestAgent.socket, config.guestAgent.timeoutMs, config.freezeTimeoutMs, log);
      const failure = await freeze.freeze();
      if (failure === null) {
        froze = true;
      } else {
        // A freeze that timed out may still land in the guest: thaw before anything else.
        const thawFailure = await freeze.thaw();
        if (thawFailure !== null) after.push(thawFailure);
        if (config.onFailure === 'abort') throw new GuestFreezeError(vm, config.guestAgent.socket, failure.reason, failure.cause);
        fallback = `qemu-ga fs-freeze failed: ${failure.reason}`;
      }
    }
    await fixInstant();
    taken = true;
  } finally {
    if (freeze?.needsThaw === true) {
      const thawFailure = await freeze.thaw();
      if (thawFailure !== null) after.push(thawFailure);
    }
    await freeze?.close();
    if (config.postSnapshot !== undefined) {
      const env = { BULWARK_SNAPSHOT: taken ? 'taken' : 'failed', BULWARK_CONSISTENCY: fallback === null && taken ? 'application' : 'crash' };
      const failure = await runLoggedHook(vm, 'post-snapshot', config.postSnapshot, env, log);
      after.push(failure === null ? 'post-snapshot hook ok' : `post-snapshot hook failed: ${failure.reason}`);
    }
  }
  if (fallback !== null) return { level: 'crash', note: [fallback, 'continued crash-consistent', ...after].join('; ') };
  if (froze && freeze !== undefined) {
    const window = freeze.frozenMs === null ? '' : ` for ${freeze.frozenMs} ms`;
    done.unshift(`qemu-ga froze ${plural(freeze.frozenCount, 'filesystem')}${window}`);
  }
  return { level: 'application', note: [...done, ...after].join('; ') };
}

/** Runs a hook and logs how it went; null on success, else why it failed. */
async function runLoggedHook(
  vm: string,
  name: HookName,
  hook: ConsistencyHook,
  env: Readonly<Record<string, string>>,
  log: Logger,
): Promise<{ reason: string; timedOut: boolean } | null> {
  const outcome = await runHook(hook, { BULWARK_VM: vm, BULWARK_HOOK: name, ...env });
  if (outcome.ok) {
    log.info({ hook: name, where: hook.where, durationMs: outcome.durationMs }, 'consistency hook ok');
    return null;
  }
  const reason = describeHookFailure(outcome, hook.timeoutMs);
  log.warn(
    { hook: name, where: hook.where, durationMs: outcome.durationMs, exitCode: outcome.exitCode, signal: outcome.signal, timedOut: outcome.timedOut, reason },
    'consistency hook failed',
  );
  return { reason, timedOut: outcome.timedOut };
}

/** One freeze/thaw of a guest through its qemu-ga; never throws, failures are returned. */
class GuestFreeze {
  frozenCount = 0;
  /** From the freeze's return to the thaw's return, once thawed. */
  frozenMs: number | null = null;
  private client: QgaClient | undefined;
  /** A freeze was sent (it may have landed even when it failed), and no thaw has succeeded since. */
  private sent = false;
  private thawTried = false;
  private frozenAt = 0;

  constructor(
    private readonly vm: string,
    private readonly socket: string,
    private readonly timeoutMs: number,
    private readonly freezeTimeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** A freeze was sent and no thaw tried yet. */
  get needsThaw(): boolean {
    return this.sent && !this.thawTried;
  }

  async freeze(): Promise<{ reason: string; cause: unknown } | null> {
    try {
      this.client = await this.connect();
    } catch (err) {
      this.log.warn({ err, socket: this.socket }, 'guest agent unreachable');
      return { reason: errorMessage(err), cause: err };
    }
    const started = performance.now();
    this.sent = true;
    try {
      this.frozenCount = await this.client.fsfreezeFreeze({ timeoutMs: this.freezeTimeoutMs });
    } catch (err) {
      this.log.warn({ err, socket: this.socket, durationMs: ms(performance.now() - started) }, 'guest fs-freeze failed');
      return { reason: errorMessage(err), cause: err };
    }
    this.frozenAt = performance.now();
    this.log.info({ filesystems: this.frozenCount, freezeMs: ms(this.frozenAt - started) }, 'guest filesystems frozen');
    if (this.frozenCount === 0) return { reason: 'the guest agent froze no filesystem', cause: undefined };
    return null;
  }

  /** Thaws, once more on a new connection if the first try fails; null on success, else a note. */
  async thaw(): Promise<string | null> {
    if (!this.sent) return null;
    this.thawTried = true;
    let lastError: unknown;
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        if (this.client === undefined || !this.client.connected) this.client = await this.connect();
        const started = performance.now();
        await this.client.fsfreezeThaw({ timeoutMs: this.timeoutMs });
        this.sent = false;
        const now = performance.now();
        if (this.frozenAt > 0) this.frozenMs = ms(now - this.frozenAt);
        this.log.info({ frozenMs: this.frozenMs, thawMs: ms(now - started) }, 'guest filesystems thawed');
        return null;
      } catch (err) {
        lastError = err;
        this.log.warn({ err, attempt, socket: this.socket }, 'guest fs-thaw failed');
        await this.client?.close();
        this.client = undefined;
      }
    }
    this.log.error({ err: lastError, vm: this.vm, socket: this.socket }, 'guest fs-thaw failed twice: the guest may still be frozen');
    return `qemu-ga thaw FAILED (the guest may still be frozen): ${errorMessage(lastError)}`;
  }

  async close(): Promise<void> {
    await this.client?.close();
    this.client = undefined;
  }

  private connect(): Promise<QgaClient> {
    return QgaClient.connect(this.socket, { timeoutMs: this.timeoutMs, commandTimeoutMs: this.timeoutMs, logger: this.log });
  }
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function ms(value: number): number {
  return Math.round(value);
}
