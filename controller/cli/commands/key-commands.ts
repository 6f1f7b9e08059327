/**
 * `bulwark key …`: the datastore key, handled on the operator's machine only (it never goes to
 * the controller or to storage). create, fingerprint, export (JSON or a paper copy), import.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { systemClock } from '../../../shared/clock.js';
import { ConfigError, ValidationError } from '../../../shared/errors.js';
import { loadConfigFile } from '../../../shared/config/load-config.js';
import { generateKeyMaterial } from '../../../shared/crypto/datastore-keys.js';
import { KeyFile, MIN_PASSPHRASE_CHARS, openKeyFile, sealKeyFile } from '../../../shared/crypto/key-file.js';
import { keyFileFromPaper, keyFileToPaper } from '../../../shared/crypto/paper-key.js';
import { writeFileAtomic } from '../../../shared/fs/atomic-file.js';
import { parseDir } from '../option-parsers.js';
import { printJson } from '../output.js';

/** Where a passphrase comes from: a file, BULWARK_KEY_PASSPHRASE, or the terminal. */
async function readPassphrase(file: string | undefined, confirm: boolean): Promise<string> {
  if (file) return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  const fromEnv = process.env.BULWARK_KEY_PASSPHRASE;
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) {
    throw new ValidationError('--passphrase-file', 'is required when not on a terminal (or set BULWARK_KEY_PASSPHRASE)');
  }
  const first = await prompt('passphrase: ');
  if (confirm && (await prompt('passphrase again: ')) !== first) throw new ValidationError('passphrase', 'the two entries differ');
  return first;
}

function prompt(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

function loadKeyFile(path: string): KeyFile {
  return loadConfigFile(KeyFile, path);
}

async function writeKeyFile(path: string, file: KeyFile): Promise<void> {
  if (existsSync(path)) throw new ValidationError('--out', `${path} exists; refusing to overwrite a key`);
  await writeFileAtomic(path, Buffer.from(`${JSON.stringify(file, null, 2)}\n`), { mode: 0o600 });
}

/** Registers `bulwark key`. */
export function registerKeyCommands(program: Command): void {
  const key = program.command('key').description('create and keep the datastore encryption key (never sent to the controller or storage)');

  key
    .command('create')
    .description('create a new key, sealed under a passphrase (scrypt), and print its fingerprint')
    .requiredOption('--out <file>', 'where to write the key file (refuses to overwrite)', parseDir)
    .option('--passphrase-file <file>', 'read the passphrase from a file (else BULWARK_KEY_PASSPHRASE, else the terminal)', parseDir)
    .option('--json', 'print JSON')
    .action(async (opts: { out: string; passphraseFile?: string; json?: boolean }) => {
      const passphrase = await readPassphrase(opts.passphraseFile, true);
      if (passphrase.length < MIN_PASSPHRASE_CHARS) {
        throw new ValidationError('passphrase', `must be at least ${MIN_PASSPHRASE_CHARS} characters`);
      }
      const file = sealKeyFile(generateKeyMaterial(), passphrase, systemClock.nowIso());
      await writeKeyFile(opts.out, file);
      if (opts.json) printJson({ file: opts.out, fingerprint: file.fingerprint, createdAt: file.createdAt });
      else {
        console.log(`key ${file.fingerprint} written to ${opts.out}`);
        console.log('Keep a copy away from the backups (`bulwark key export --paper`): without it and its passphrase, no backup can be read.');
      }
    });

  key
    .command('fingerprint')
    .description("print a key's fingerprint; with --check, open it with its passphrase first")
    .argument('<file>', 'the key file', parseDir)
    .option('--check', 'prove the passphrase opens the key')
    .option('--passphrase-file <file>', 'read the passphrase from a file', parseDir)
    .option('--json', 'print JSON')
    .action(async (path: string, opts: { check?: boolean; passphraseFile?: string; json?: boolean }) => {
      const file = loadKeyFile(path);
      if (opts.check) openKeyFile(file, await readPassphrase(opts.passphraseFile, false));
      if (opts.json) printJson({ fingerprint: file.fingerprint, checked: opts.check === true });
      else console.log(file.fingerprint);
    });

  key
    .command('export')
    .description('print the key file (still sealed by its passphrase), as JSON or as a paper copy')
    .argument('<file>', 'the key file', parseDir)
    .option('--paper', 'numbered hex lines with checksums, for printing')
    .option('--json', 'print JSON: the key file itself, or {"paper": "<the paper copy>"} with --paper')
    .action((path: string, opts: { paper?: boolean; json?: boolean }) => {
      const file = loadKeyFile(path);
      if (opts.paper && opts.json) printJson({ paper: keyFileToPaper(file) });
      else process.stdout.write(opts.paper ? keyFileToPaper(file) : `${JSON.stringify(file, null, 2)}\n`);
    });

  key
    .command('import')
    .description('rebuild a key file from a paper copy (checks every line)')
    .requiredOption('--paper <file>', 'the typed-in paper copy', parseDir)
    .requiredOption('--out <file>', 'where to write the key file (refuses to overwrite)', parseDir)
    .option('--json', 'print JSON')
    .action(async (opts: { paper: string; out: string; json?: boolean }) => {
      let text: string;
      try {
        text = await readFile(opts.paper, 'utf8');
      } catch (err) {
        throw new ConfigError(opts.paper, '', 'cannot read the file', { cause: err });
      }
      const file = keyFileFromPaper(text);
      await writeKeyFile(opts.out, file);
      if (opts.json) printJson({ file: opts.out, fingerprint: file.fingerprint, createdAt: file.createdAt });
      else console.log(`key ${file.fingerprint} written to ${opts.out}`);
    });
}
