/** `bulwark key …` as an operator runs it: create, fingerprint, paper export and import. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KeyFile, openKeyFile } from '../../shared/crypto/key-file.js';
import { runCli } from '../helpers/cli.js';

describe('bulwark key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-key-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const passphraseFile = join(dir, 'passphrase');
  writeFileSync(passphraseFile, 'a long enough passphrase\n');
  const keyPath = join(dir, 'key.json');
  const noTty = { BULWARK_KEY_PASSPHRASE: '' };

  it('creates a sealed key, mode 0600, and never overwrites it', async () => {
    const res = await runCli(['key', 'create', '--out', keyPath, '--passphrase-file', passphraseFile, '--json'], noTty);
    assert.equal(res.code, 0, res.stderr);
    const { fingerprint } = JSON.parse(res.stdout) as { fingerprint: string };
    assert.equal(statSync(keyPath).mode & 0o777, 0o600);
    const file = KeyFile.parse(JSON.parse(readFileSync(keyPath, 'utf8')));
    assert.equal(openKeyFile(file, 'a long enough passphrase').fingerprint, fingerprint);
    const again = await runCli(['key', 'create', '--out', keyPath, '--passphrase-file', passphraseFile], noTty);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /--out: .* exists; refusing to overwrite a key/);
    const fp = await runCli(['key', 'fingerprint', keyPath, '--check', '--passphrase-file', passphraseFile], noTty);
    assert.equal(fp.stdout.trim(), fingerprint);
  });

  it('refuses a wrong or short passphrase and a missing one off a terminal', async () => {
    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, 'not the passphrase at all\n');
    const res = await runCli(['key', 'fingerprint', keyPath, '--check', '--passphrase-file', wrong], noTty);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /the passphrase does not open key [0-9a-f]{32}/);
    const short = join(dir, 'short');
    writeFileSync(short, 'short\n');
    const created = await runCli(['key', 'create', '--out', join(dir, 'other.json'), '--passphrase-file', short], noTty);
    assert.equal(created.code, 2);
    assert.match(created.stderr, /passphrase: must be at least 8 characters/);
    const none = await runCli(['key', 'create', '--out', join(dir, 'other.json')], noTty);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--passphrase-file: is required when not on a terminal/);
  });

  it('exports a paper copy that imports back to the same key, and names a mistyped line', async () => {
    const paper = await runCli(['key', 'export', keyPath, '--paper'], noTty);
    assert.equal(paper.code, 0);
    const paperFile = join(dir, 'paper.txt');
    writeFileSync(paperFile, paper.stdout);
    const restored = join(dir, 'restored.json');
    const imported = await runCli(['key', 'import', '--paper', paperFile, '--out', restored], noTty);
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual(KeyFile.parse(JSON.parse(readFileSync(restored, 'utf8'))), KeyFile.parse(JSON.parse(readFileSync(keyPath, 'utf8'))));
    const lines = paper.stdout.split('\n');
    lines[2] = lines[2]!.replace(/^(02: )(.)/, (_m, p: string, c: string) => `${p}${c === '0' ? '1' : '0'}`);
    writeFileSync(paperFile, lines.join('\n'));
    const typo = await runCli(['key', 'import', '--paper', paperFile, '--out', join(dir, 'typo.json')], noTty);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /line 2: checksum does not match/);
  });
});
