/**
 * The shape every daemon's main.ts shares: parse `--config <file>`, build the process, stop it
 * cleanly on SIGTERM/SIGINT, and map failures to exit codes (2: bad configuration, 1: other).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, ValidationError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';

/** A started daemon. */
export interface RunningDaemon {
  /** What the daemon tells the world once it is ready (written to the ready file). */
  readonly ready: Record<string, unknown>;
  stop(): Promise<void>;
}

/** Runs a daemon until a signal; never returns normally. */
export function runDaemon(name: string, start: (configPath: string | undefined, log: Logger) => Promise<RunningDaemon>): void {
  const log = createLogger(name, process.env.BULWARK_LOG_LEVEL ?? 'info');
  let args: { config?: string | undefined; 'ready-file'?: string | undefined };
  try {
    args = parseArgs({
      options: { config: { type: 'string' }, 'ready-file': { type: 'string' } },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${name}: ${(err as Error).message}\nusage: ${name} [--config <file>] [--ready-file <file>]\n`);
    process.exit(2);
  }
  start(args.config, log).then(
    (daemon) => {
      if (args['ready-file']) writeFileSync(args['ready-file'], JSON.stringify({ pid: process.pid, ...daemon.ready }));
      log.info(daemon.ready, `${name} ready`);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, `${name} stopping`);
        const force = setTimeout(() => process.exit(1), 15_000);
        force.unref();
        daemon.stop().then(
          () => {
            log.flush();
            process.exit(0);
          },
          (err: unknown) => {
            log.error({ err }, 'stop failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    },
    (err: unknown) => {
      if (err instanceof ConfigError || err instanceof ValidationError) {
        process.stderr.write(`${name}: bad configuration: ${err.message}\n`);
        process.exit(2);
      }
      log.fatal({ err }, `${name} failed to start`);
      log.flush();
      process.stderr.write(`${name}: failed to start: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
