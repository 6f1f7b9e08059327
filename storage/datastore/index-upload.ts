import { ValidationError } from '../../shared/errors.js';
import { DIGEST_BYTES, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { chunkCountFor, encodeFixedIndex, fixedIndexFileSha256, type FixedIndex } from '../../shared/format/fixed-index.js';
import type { BackupSession, IndexedDisk } from './backup-session.js';

type StoreIndex = (disk: string, file: Buffer, described: IndexedDisk, index: FixedIndex) => Promise<void>;

interface DiskParts {
  readonly sizeBytes: number;
  readonly chunkCount: number;
  readonly parts: Buffer[];
  nextChunk: number;
}

/**
 * One PutIndex stream: parts of the digest lists of a session's disks, each part starting where
 * the previous one ended. `finish` checks every disk it saw is complete and stores its .fidx.
 */
export class IndexUpload {
  private readonly disks = new Map<string, DiskParts>();

  constructor(
    private readonly session: BackupSession,
    private readonly store: StoreIndex,
  ) {}

  /** What the manifest needs to know of an index file. */
  static describe(index: FixedIndex, file: Uint8Array): IndexedDisk {
    let zeroChunks = 0;
    for (let i = 0; i < index.chunkCount; i++) {
      if (isZeroDigest(index.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES))) zeroChunks++;
    }
    return { chunkCount: index.chunkCount, zeroChunks, sha256: fixedIndexFileSha256(file) };
  }

  /** Adds the digests of chunks firstChunk.. of one disk. */
  addPart(disk: string, firstChunk: number, digests: Buffer): void {
    let state = this.disks.get(disk);
    if (!state) {
      const spec = this.session.disks.find((d) => d.name === disk);
      if (!spec) throw new ValidationError('disk', `not a disk of session ${this.session.sessionId}: ${disk}`);
      state = {
        sizeBytes: spec.sizeBytes,
        chunkCount: chunkCountFor(spec.sizeBytes, this.session.chunkSizeBytes),
        parts: [],
        nextChunk: 0,
      };
      this.disks.set(disk, state);
    }
    if (firstChunk !== state.nextChunk) {
      throw new ValidationError('first_chunk', `disk ${disk}: expected ${state.nextChunk}, got ${firstChunk}`);
    }
    if (digests.length % DIGEST_BYTES !== 0) {
      throw new ValidationError('digests', `length ${digests.length} is not a multiple of ${DIGEST_BYTES}`);
    }
    const count = digests.length / DIGEST_BYTES;
    if (state.nextChunk + count > state.chunkCount) {
      throw new ValidationError('digests', `disk ${disk} has ${state.chunkCount} chunks; got ${state.nextChunk + count}`);
    }
    state.parts.push(Buffer.from(digests));
    state.nextChunk += count;
  }

  /** Stores every disk's complete index; returns the chunks indexed in this stream. */
  async finish(): Promise<number> {
    let total = 0;
    for (const [disk, state] of this.disks) {
      if (state.nextChunk !== state.chunkCount) {
        throw new ValidationError('digests', `disk ${disk} has ${state.chunkCount} chunks; got ${state.nextChunk}`);
      }
    }
    for (const [disk, state] of this.disks) {
      const body = Buffer.concat(state.parts);
      const file = encodeFixedIndex(this.session.chunkSizeBytes, state.sizeBytes, body);
      const index: FixedIndex = {
        chunkSizeBytes: this.session.chunkSizeBytes,
        diskSizeBytes: state.sizeBytes,
        chunkCount: state.chunkCount,
        digests: body,
      };
      await this.store(disk, file, IndexUpload.describe(index, file), index);
      total += state.chunkCount;
    }
    return total;
  }
}
