/**
 * `bulwark completion bash` from the real CLI, loaded into a real bash: command, subcommand and
 * option names complete; an unknown shell is refused with exit 2, naming the argument.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

describe('bulwark completion', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-completion-'));
  const script = join(dir, 'bulwark.bash');
  before(async () => {
    const res = await runCli(['completion', 'bash']);
    assert.equal(res.code, 0, res.stderr);
    writeFileSync(script, res.stdout);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** What bash offers for the words typed so far (the last one is being completed). */
  function complete(...words: string[]): string[] {
    const array = ['bulwark', ...words].map((w) => `'${w}'`).join(' ');
    const res = spawnSync('bash', ['-c', `source '${script}'; COMP_WORDS=(${array}); COMP_CWORD=${words.length}; _bulwark_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], {
      encoding: 'utf8',
    });
    assert.equal(res.status, 0, res.stderr);
    return res.stdout.split('\n').filter((l) => l !== '').sort();
  }

  it('completes commands, subcommands and options from the CLI itself', () => {
    assert.deepEqual(complete('bac'), ['backup', 'backups']);
    assert.deepEqual(complete('re'), ['repairs', 'replication', 'restore']);
    assert.deepEqual(complete('snapshot', 'r'), ['remove', 'revert']);
    assert.deepEqual(complete('backup', 'vm1', '--m'), ['--mode']);
    assert.ok(complete('sync', '--').includes('--rate'));
    assert.deepEqual(complete('--con'), ['--controller']);
  });

  it('refuses an unknown shell, naming the argument', async () => {
    const res = await runCli(['completion', 'fish']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /shell: must be bash or zsh/);
  });
});
