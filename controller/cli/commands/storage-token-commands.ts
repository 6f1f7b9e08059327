/**
 * `bulwark storage-token …`: makes the bearer tokens clients present to a storage's BlockStore
 * API (docs/ACCESS.md), on the operator's machine only: the token goes to the client (agent
 * `storageToken`/`storageTokenFile`, a peer storage's `peers[].token`/`tokenFile`) and its
 * SHA-256 into the storage's `access.clients` with a role. Named apart from the controller's API
 * tokens.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { bearerTokenSha256, createBearerToken } from '../../../shared/crypto/bearer-token.js';
import { ValidationError } from '../../../shared/errors.js';
import { writeFileAtomic } from '../../../shared/fs/atomic-file.js';
import { parseDir } from '../option-parsers.js';
import { printJson } from '../output.js';

/** Registers `bulwark storage-token`. */
export function registerStorageTokenCommands(program: Command): void {
  const cmd = program.command('storage-token').description('make storage access tokens (roles agent, peer-read, peer-push; see docs/ACCESS.md)');

  cmd
    .command('create')
    .description('print a new token and the sha256 a storage lists for it in access.clients')
    .option('--out <file>', 'write the token to this file (mode 0600, refuses to overwrite) instead of printing it', parseDir)
    .option('--json', 'print JSON')
    .action(async (opts: { out?: string; json?: boolean }) => {
      const token = createBearerToken();
      const tokenSha256 = bearerTokenSha256(token);
      if (opts.out !== undefined) {
        if (existsSync(opts.out)) throw new ValidationError('--out', `${opts.out} exists; refusing to overwrite a token`);
        await writeFileAtomic(opts.out, Buffer.from(`${token}\n`), { mode: 0o600 });
      }
      if (opts.json) {
        printJson(opts.out === undefined ? { token, tokenSha256 } : { tokenFile: opts.out, tokenSha256 });
        return;
      }
      console.log(opts.out === undefined ? `token   ${token}` : `token   written to ${opts.out}`);
      console.log(`sha256  ${tokenSha256}`);
      console.log('\nGive the token to the client; add to the storage config:');
      console.log(`  "access": { "clients": [{ "name": "<client>", "role": "agent | peer-read | peer-push", "tokenSha256": "${tokenSha256}" }] }`);
    });

  cmd
    .command('hash')
    .description('print the sha256 of an existing token, read from a file')
    .argument('<token-file>', 'the file holding the token', parseDir)
    .option('--json', 'print JSON')
    .action(async (tokenFile: string, opts: { json?: boolean }) => {
      const token = (await readFile(tokenFile, 'utf8')).replace(/\r?\n$/, '');
      if (token === '' || /\s/.test(token)) throw new ValidationError('token-file', 'must hold one token, without spaces');
      const tokenSha256 = bearerTokenSha256(token);
      if (opts.json) printJson({ tokenSha256 });
      else console.log(tokenSha256);
    });
}
