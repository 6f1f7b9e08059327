/**
 * Loads the datastore key the agent holds: the key file (shared/crypto/key-file.ts) opened with the
 * passphrase file, read once at start (one trailing newline dropped). Any problem is a ConfigError
 * naming the field, so the daemon refuses to start (exit code 2); a wrong passphrase names the key's
 * fingerprint.
 */
import { readFile } from 'node:fs/promises';
import type { DatastoreKeys } from '../../shared/crypto/datastore-keys.js';
import { KeyFile, openKeyFile, WrongPassphraseError } from '../../shared/crypto/key-file.js';
import { ConfigError, errorMessage } from '../../shared/errors.js';

export interface EncryptionConfig {
  readonly keyFile: string;
  readonly passphraseFile: string;
}

/** The agent's keys, or null when its config has no `encryption`. */
export async function loadAgentKeys(source: string, encryption: EncryptionConfig | undefined): Promise<DatastoreKeys | null> {
  if (!encryption) return null;
  const keyText = await readFile(encryption.keyFile, 'utf8').catch((err: unknown) => {
    throw new ConfigError(source, 'encryption.keyFile', `cannot read ${encryption.keyFile}: ${errorMessage(err)}`);
  });
  let json: unknown;
  try {
    json = JSON.parse(keyText);
  } catch {
    throw new ConfigError(source, 'encryption.keyFile', `${encryption.keyFile} is not a key file (not JSON)`);
  }
  const file = KeyFile.safeParse(json);
  if (!file.success) {
    const issue = file.error.issues[0];
    throw new ConfigError(source, 'encryption.keyFile', `${encryption.keyFile} is not a key file (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''})`);
  }
  const passphraseText = await readFile(encryption.passphraseFile, 'utf8').catch((err: unknown) => {
    throw new ConfigError(source, 'encryption.passphraseFile', `cannot read ${encryption.passphraseFile}: ${errorMessage(err)}`);
  });
  const passphrase = passphraseText.replace(/\r?\n$/, '');
  try {
    return openKeyFile(file.data, passphrase);
  } catch (err) {
    if (err instanceof WrongPassphraseError) {
      throw new ConfigError(source, 'encryption.passphraseFile', `the passphrase does not open key ${file.data.fingerprint} (${encryption.keyFile})`);
    }
    throw new ConfigError(source, 'encryption.keyFile', `${encryption.keyFile}: ${errorMessage(err)}`);
  }
}
