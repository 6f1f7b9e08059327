/**
 * The `consistency` setting of a qemu VM in the agent's config (the orchestration is in
 * consistency.ts). Mode 'crash' (the default) takes the instant as a power cut would leave the
 * disks. Mode 'application' quiesces the guest for the instant: a pre-snapshot hook, then a
 * filesystem freeze through the QEMU guest agent (qemu-ga) on `guestAgent.socket`, then the
 * transaction, then thaw and a post-snapshot hook. A hook runs on the agent host (`where: 'host'`,
 * an argv run without a shell) or in the guest over SSH (`where: 'guest-ssh'`, a command line for
 * the remote shell, strict host key checking against `knownHostsFile`). `onFailure` says what a
 * failed pre-snapshot hook or freeze does: 'abort' the backup, or 'continue' crash-consistent.
 */
import { z } from 'zod';

const AbsolutePath = z.string().startsWith('/', 'must be an absolute path');

/** sockaddr_un.sun_path holds 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

const TimeoutMs = z.number().int().min(100, 'must be at least 100 ms').max(3_600_000, 'must be at most 1 hour');

const HostHook = z.strictObject({
  where: z.literal('host'),
  /** argv: the program, then its arguments (no shell). */
  command: z.array(z.string()).min(1, 'must name the program').refine((argv) => (argv[0] ?? '') !== '', 'the program must not be empty'),
  timeoutMs: TimeoutMs,
});

// ssh would read a leading '-' as an option (hosts and users here reach its argv).
const SshWord = z
  .string()
  .min(1, 'must not be empty')
  .regex(/^[^-\s@]/, 'must not start with "-", "@" or a space')
  .regex(/^\S+$/, 'must not contain spaces');

const GuestSshHook = z.strictObject({
  where: z.literal('guest-ssh'),
  host: SshWord,
  port: z.number().int().min(1).max(65_535),
  user: SshWord.regex(/^[^@]+$/, 'must not contain "@"'),
  identityFile: AbsolutePath,
  knownHostsFile: AbsolutePath,
  /** The name the host key is listed under in knownHostsFile, when not `[host]:port` (ssh's HostKeyAlias). */
  hostKeyAlias: SshWord.optional(),
  /** A command line for the remote user's shell. */
  command: z.string().min(1, 'must not be empty'),
  timeoutMs: TimeoutMs,
});

/** A pre- or post-snapshot command. */
export const ConsistencyHook = z.discriminatedUnion('where', [HostHook, GuestSshHook]);
export type ConsistencyHook = z.output<typeof ConsistencyHook>;
export type HostHook = z.output<typeof HostHook>;
export type GuestSshHook = z.output<typeof GuestSshHook>;

/** How a qemu VM's backup instant is made consistent. */
export const QemuConsistencyConfig = z
  .strictObject({
    mode: z.enum(['crash', 'application']).default('crash'),
    guestAgent: z
      .strictObject({
        /** The unix socket of the VM's `org.qemu.guest_agent.0` chardev. */
        socket: AbsolutePath.refine(
          (p) => Buffer.byteLength(p) <= MAX_SOCKET_PATH_BYTES,
          `must be at most ${MAX_SOCKET_PATH_BYTES} bytes (a unix socket path)`,
        ),
        /** Deadline of the connect (guest-sync) and of the thaw. */
        timeoutMs: TimeoutMs.default(10_000),
      })
      .optional(),
    preSnapshot: ConsistencyHook.optional(),
    postSnapshot: ConsistencyHook.optional(),
    onFailure: z.enum(['abort', 'continue']).default('abort'),
    /** Deadline of guest-fsfreeze-freeze (the guest flushes its dirty pages first). */
    freezeTimeoutMs: TimeoutMs.default(30_000),
  })
  .superRefine((c, ctx) => {
    if (c.mode === 'crash') {
      // A hook or agent that would silently not run is worse than a refusal.
      for (const field of ['guestAgent', 'preSnapshot', 'postSnapshot'] as const) {
        if (c[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'needs mode "application" (mode "crash" quiesces nothing)' });
      }
    } else if (c.guestAgent === undefined && c.preSnapshot === undefined) {
      ctx.addIssue({ code: 'custom', path: ['mode'], message: '"application" needs guestAgent or preSnapshot (something that quiesces the guest)' });
    }
  });
export type QemuConsistencyConfig = z.output<typeof QemuConsistencyConfig>;
