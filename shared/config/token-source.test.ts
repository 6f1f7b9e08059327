import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../errors.js';
import { readTokenSource } from './token-source.js';

describe('readTokenSource', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-token-source-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const fails = (fn: () => unknown, message: RegExp) =>
    assert.throws(fn, (err: unknown) => err instanceof ConfigError && message.test(err.message));

  it('returns the inline token, the file content without its newline, or nothing', async () => {
    const file = join(dir, 't');
    await writeFile(file, 'bwk_fromfile\n');
    assert.equal(readTokenSource({ token: 'bwk_inline' }, 'cfg.json', 'peers.0.token'), 'bwk_inline');
    assert.equal(readTokenSource({ tokenFile: file }, 'cfg.json', 'peers.0.token'), 'bwk_fromfile');
    assert.equal(readTokenSource({}, 'cfg.json', 'peers.0.token'), undefined);
  });

  it('names the field of an unreadable file, an empty token, or one with spaces', async () => {
    fails(() => readTokenSource({ tokenFile: join(dir, 'missing') }, 'cfg.json', 'storageToken'), /^cfg\.json: storageTokenFile: cannot read .*missing \(ENOENT\)/);
    await writeFile(join(dir, 'empty'), '\n');
    fails(() => readTokenSource({ tokenFile: join(dir, 'empty') }, 'cfg.json', 'storageToken'), /storageTokenFile: the token is empty/);
    await writeFile(join(dir, 'two'), 'bwk_a\nbwk_b\n');
    fails(() => readTokenSource({ tokenFile: join(dir, 'two') }, 'cfg.json', 'storageToken'), /storageTokenFile: the token must not contain spaces or control characters/);
    fails(() => readTokenSource({ token: 'bwk a' }, 'cfg.json', 'peers.1.token'), /cfg\.json: peers\.1\.token: the token must not contain spaces/);
  });
});
