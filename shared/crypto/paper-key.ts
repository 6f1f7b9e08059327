/**
 * A key file on paper: its canonical JSON as numbered hex lines, each with a short checksum so
 * a mistyped line is named on import, and a final line with the checksum of the whole. The key
 * material stays sealed under the passphrase: the paper copy is as safe as the file.
 *
 *   bulwark key 0123…(fingerprint)
 *   01: 7b22 6372 6561 …  (16 bytes)  9f
 *   …
 *   sum: 1a2b3c4d5e6f7a8b
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../errors.js';
import { canonicalJson } from '../format/canonical-json.js';
import { KeyFile } from './key-file.js';

const BYTES_PER_LINE = 16;

function lineSum(lineNo: number, bytes: Buffer): string {
  return createHash('sha256').update(`${lineNo}:`).update(bytes).digest('hex').slice(0, 2);
}

function wholeSum(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/** The paper form of a key file. */
export function keyFileToPaper(file: KeyFile): string {
  const bytes = Buffer.from(canonicalJson(file), 'utf8');
  const lines = [`bulwark key ${file.fingerprint}`];
  for (let off = 0, n = 1; off < bytes.length; off += BYTES_PER_LINE, n++) {
    const part = bytes.subarray(off, off + BYTES_PER_LINE);
    const groups = part.toString('hex').match(/.{1,4}/g) ?? [];
    lines.push(`${String(n).padStart(2, '0')}: ${groups.join(' ').padEnd(39)}  ${lineSum(n, part)}`);
  }
  lines.push(`sum: ${wholeSum(bytes)}`);
  return `${lines.join('\n')}\n`;
}

/** Reads a paper copy back into a key file; a mistyped line is named. */
export function keyFileFromPaper(text: string): KeyFile {
  const parts: Buffer[] = [];
  let sum: string | undefined;
  let expected = 1;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('bulwark key')) continue;
    const total = /^sum:\s*([0-9a-f]{16})$/i.exec(line);
    if (total) {
      sum = total[1]?.toLowerCase();
      continue;
    }
    const m = /^(\d+):\s*([0-9a-fA-F ]+?)\s+([0-9a-fA-F]{2})$/.exec(line);
    if (!m) throw new ValidationError(`line ${expected}`, 'is not "NN: hex groups  checksum"');
    const lineNo = Number(m[1]);
    if (lineNo !== expected) throw new ValidationError(`line ${lineNo}`, `out of order: expected line ${expected}`);
    const hex = (m[2] ?? '').replace(/\s+/g, '');
    if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new ValidationError(`line ${lineNo}`, 'has an odd number of hex digits');
    const bytes = Buffer.from(hex, 'hex');
    if (lineSum(lineNo, bytes) !== (m[3] ?? '').toLowerCase()) {
      throw new ValidationError(`line ${lineNo}`, 'checksum does not match: a digit was mistyped');
    }
    parts.push(bytes);
    expected++;
  }
  const bytes = Buffer.concat(parts);
  if (sum === undefined) throw new ValidationError('sum', 'the final "sum:" line is missing');
  if (wholeSum(bytes) !== sum) throw new ValidationError('sum', 'does not match: a line is missing or repeated');
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ValidationError('key', 'the lines do not form a key file');
  }
  const parsed = KeyFile.safeParse(value);
  if (!parsed.success) throw new ValidationError('key', 'the lines do not form a key file');
  return parsed.data;
}
