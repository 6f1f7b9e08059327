import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { DIGEST_BYTES } from '../../shared/format/chunk-digest.js';

const RECORD_BYTES = DIGEST_BYTES + 4;

/**
 * Digests that garbage collection must not sweep while their holder lives: an open session
 * (every chunk written or reported present through it, and every digest of its uploaded
 * indexes) or a site sync importing a backup. Held in memory, and for a session also appended
 * to sessions/<id>/chunks.log so the hold survives a restart.
 */
export class ChunkHold {
  readonly digests = new Set<string>();
  private unsaved: string[] = [];
  private saving: Promise<void> = Promise.resolve();
  released = false;

  constructor(private readonly logFile?: string) {}

  /** Holds a digest (hex) and queues it for the session's chunk log. */
  add(hex: string): void {
    if (this.digests.has(hex)) return;
    this.digests.add(hex);
    if (this.logFile !== undefined) this.unsaved.push(hex);
  }

  /** Holds digests that another durable record already names (the session's .fidx files). */
  cover(hexes: Iterable<string>): void {
    for (const hex of hexes) this.digests.add(hex);
  }

  has(hex: string): boolean {
    return this.digests.has(hex);
  }

  /**
   * Appends the digests added since the last call to the chunk log. No fsync: the log must
   * survive a process crash (the page cache does), and a power loss that drops its tail can only
   * make the session's commit fail with ChunkMissingError (the commit re-checks every chunk),
   * never make a backup with a hole. An fsync here cost ~40 ms per FindMissing call.
   */
  persist(): Promise<void> {
    const next = this.saving.then(() => this.appendUnsaved());
    this.saving = next.catch(() => undefined);
    return next;
  }

  private async appendUnsaved(): Promise<void> {
    if (this.logFile === undefined || this.unsaved.length === 0 || this.released) return;
    const batch = this.unsaved;
    this.unsaved = [];
    const out = Buffer.allocUnsafe(batch.length * RECORD_BYTES);
    batch.forEach((hex, i) => {
      const at = i * RECORD_BYTES;
      out.write(hex, at, DIGEST_BYTES, 'hex');
      out.writeUInt32LE(crc32(out.subarray(at, at + DIGEST_BYTES)), at + DIGEST_BYTES);
    });
    let handle;
    try {
      handle = await open(this.logFile, 'a', 0o640);
    } catch (err) {
      // The session ended meanwhile (commit or abort removed its directory): nothing to hold.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && this.released) return;
      throw err;
    }
    try {
      await handle.write(out);
    } finally {
      await handle.close();
    }
  }

  /** The digests of a chunk log file; records torn or damaged by a crash are skipped. */
  static parseLog(file: Buffer): string[] {
    const out: string[] = [];
    for (let at = 0; at + RECORD_BYTES <= file.length; at += RECORD_BYTES) {
      const digest = file.subarray(at, at + DIGEST_BYTES);
      if (file.readUInt32LE(at + DIGEST_BYTES) === crc32(digest)) out.push(digest.toString('hex'));
    }
    return out;
  }
}
