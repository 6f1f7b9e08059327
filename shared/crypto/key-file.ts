/**
 * The key file: the datastore key material sealed under a passphrase. scrypt (N=2^15, r=8, p=1,
 * 32 MiB, ~0.1 s here) turns the passphrase into a wrapping key; AES-256-GCM seals the material
 * with the file's own parameters as associated data, so editing any field is detected.
 *
 *   { "format": "bulwark-key", "version": 1, "fingerprint", "createdAt",
 *     "kdf": { "name": "scrypt", "logN", "r", "p", "salt" }, "iv", "sealed" }   (base64 fields)
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { z } from 'zod';
import { AppError, CorruptDataError } from '../errors.js';
import { canonicalJson } from '../format/canonical-json.js';
import { KEY_MATERIAL_BYTES, keysFromMaterial, type DatastoreKeys } from './datastore-keys.js';

const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64');

export const KeyFile = z
  .object({
    format: z.literal('bulwark-key'),
    version: z.literal(1),
    fingerprint: z.string().regex(/^[0-9a-f]{32}$/),
    createdAt: z.iso.datetime(),
    kdf: z.object({
      name: z.literal('scrypt'),
      logN: z.number().int().min(14).max(22),
      r: z.number().int().min(1).max(32),
      p: z.number().int().min(1).max(16),
      salt: base64,
    }),
    iv: base64,
    sealed: base64,
  })
  .strict();
export type KeyFile = z.infer<typeof KeyFile>;

/** The passphrase does not open this key file. */
export class WrongPassphraseError extends AppError {
  constructor(fingerprint: string) {
    super('PERMISSION_DENIED', `the passphrase does not open key ${fingerprint}`, { details: { fingerprint } });
  }
}

/** Minimum passphrase length accepted when a key is created. */
export const MIN_PASSPHRASE_CHARS = 8;

function wrappingKey(passphrase: string, kdf: KeyFile['kdf']): Buffer {
  const N = 2 ** kdf.logN;
  return scryptSync(passphrase.normalize('NFC'), Buffer.from(kdf.salt, 'base64'), 32, { N, r: kdf.r, p: kdf.p, maxmem: 256 * N * kdf.r });
}

function associatedData(file: Omit<KeyFile, 'sealed'>): Buffer {
  return Buffer.from(canonicalJson(file), 'utf8');
}

/** Seals key material under a passphrase into a key file. */
export function sealKeyFile(material: Buffer, passphrase: string, createdAt: string, logN = 15): KeyFile {
  if (material.length !== KEY_MATERIAL_BYTES) throw new RangeError(`key material must be ${KEY_MATERIAL_BYTES} bytes`);
  const keys = keysFromMaterial(material);
  const header: Omit<KeyFile, 'sealed'> = {
    format: 'bulwark-key',
    version: 1,
    fingerprint: keys.fingerprint,
    createdAt,
    kdf: { name: 'scrypt', logN, r: 8, p: 1, salt: randomBytes(16).toString('base64') },
    iv: randomBytes(12).toString('base64'),
  };
  const cipher = createCipheriv('aes-256-gcm', wrappingKey(passphrase, header.kdf), Buffer.from(header.iv, 'base64'));
  cipher.setAAD(associatedData(header));
  const sealed = Buffer.concat([cipher.update(material), cipher.final(), cipher.getAuthTag()]);
  return { ...header, sealed: sealed.toString('base64') };
}

/** Opens a key file with its passphrase; a wrong passphrase or an edited file is refused. */
export function openKeyFile(file: KeyFile, passphrase: string): DatastoreKeys {
  const { sealed, ...header } = file;
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length !== KEY_MATERIAL_BYTES + 16) throw new CorruptDataError('key file', 'sealed material has the wrong length');
  const decipher = createDecipheriv('aes-256-gcm', wrappingKey(passphrase, header.kdf), Buffer.from(header.iv, 'base64'));
  decipher.setAAD(associatedData(header));
  decipher.setAuthTag(raw.subarray(KEY_MATERIAL_BYTES));
  let material: Buffer;
  try {
    material = Buffer.concat([decipher.update(raw.subarray(0, KEY_MATERIAL_BYTES)), decipher.final()]);
  } catch {
    throw new WrongPassphraseError(file.fingerprint);
  }
  const keys = keysFromMaterial(material);
  if (keys.fingerprint !== file.fingerprint) throw new CorruptDataError('key file', 'fingerprint does not match its key');
  return keys;
}
