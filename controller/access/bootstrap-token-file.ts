/**
 * Writes the bootstrap admin token to the file `access.bootstrapTokenFile` names: its directory
 * is made (mode 0700) when missing, and the file is replaced atomically with mode 0600, so a
 * reader never sees half a token and nobody else on the host can read it.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../shared/fs/atomic-file.js';

/** Writes `secret` (and a newline) to `path`, atomically, mode 0600. */
export async function writeBootstrapTokenFile(path: string, secret: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, Buffer.from(`${secret}\n`), { mode: 0o600 });
}
