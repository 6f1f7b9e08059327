import { pino, type Logger } from 'pino';

export type { Logger };

/** The root logger of a process: JSON lines on stderr, secrets redacted. */
export function createLogger(name: string, level: string = 'info'): Logger {
  return pino(
    {
      name,
      level,
      redact: { paths: ['*.token', '*.password', '*.passphrase', '*.key', 'token', 'password'], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
