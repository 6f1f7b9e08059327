/**
 * `--json` on every command. The real CLI's command tree is read from `bulwark completion bash`
 * (made from commander's own tree, so every command any part registers is in it), and each
 * leaf command must offer `--json`. Then a sample of the commands that need no controller run
 * for real with `--json`: stdout parses as JSON and holds nothing else. (The commands that talk
 * to the controller are run with `--json` against a real deployment in cli-ux.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

interface CommandNode {
  readonly path: string;
  readonly subcommands: string[];
  readonly options: string[];
}

/** The command tree as the completion script lists it: one `"path") subs="..."; opts="..." ;;` line per command. */
function commandTree(script: string): CommandNode[] {
  const nodes: CommandNode[] = [];
  for (const m of script.matchAll(/^ {4}"([^"]*)"\) subs="([^"]*)"; opts="([^"]*)" ;;$/gm)) {
    const words = (s: string | undefined) => (s ?? '').split(' ').filter((w) => w !== '');
    nodes.push({ path: m[1] ?? '', subcommands: words(m[2]), options: words(m[3]) });
  }
  return nodes;
}

/** Runs the CLI with --json and returns stdout parsed; fails with everything printed when stdout is not JSON alone. */
async function jsonOf(args: readonly string[], env: Record<string, string> = {}): Promise<unknown> {
  const res = await runCli(args, env);
  assert.equal(res.code, 0, `bulwark ${args.join(' ')}: ${res.stderr}`);
  try {
    return JSON.parse(res.stdout) as unknown;
  } catch {
    assert.fail(`bulwark ${args.join(' ')} printed more than JSON on stdout:\n${res.stdout}`);
  }
}

describe('--json on every command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-cli-json-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('every leaf command of the CLI offers --json', async () => {
    const res = await runCli(['completion', 'bash']);
    assert.equal(res.code, 0, res.stderr);
    const tree = commandTree(res.stdout);
    const leaves = tree.filter((n) => n.path !== '' && n.subcommands.length === 0);
    assert.ok(leaves.length >= 30, `the tree was read (${leaves.length} leaf commands)`);
    for (const known of ['backup', 'jobs', 'snapshot create', 'key export', 'catalog import', 'completion', 'up']) {
      assert.ok(leaves.some((n) => n.path === known), `${known} is a leaf command`);
    }
    const missing = leaves.filter((n) => !n.options.includes('--json')).map((n) => n.path);
    assert.deepEqual(missing, [], `commands without --json: ${missing.join(', ')}`);
  });

  it('prints JSON and nothing else on stdout, for commands that need no controller', async () => {
    const completion = (await jsonOf(['completion', 'zsh', '--json'])) as { shell: string; script: string };
    assert.equal(completion.shell, 'zsh');
    assert.match(completion.script, /_bulwark_complete/);

    const token = (await jsonOf(['storage-token', 'create', '--json'])) as { token: string; tokenSha256: string };
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${token.token}\n`);
    assert.deepEqual(await jsonOf(['storage-token', 'hash', tokenFile, '--json']), { tokenSha256: token.tokenSha256 });

    const env = { BULWARK_KEY_PASSPHRASE: 'a passphrase long enough' };
    const keyFile = join(dir, 'key.json');
    const created = (await jsonOf(['key', 'create', '--out', keyFile, '--json'], env)) as { fingerprint: string };
    assert.deepEqual(await jsonOf(['key', 'fingerprint', keyFile, '--check', '--json'], env), { fingerprint: created.fingerprint, checked: true });
    const exported = (await jsonOf(['key', 'export', keyFile, '--json'])) as { fingerprint: string };
    assert.equal(exported.fingerprint, created.fingerprint);
    const paper = (await jsonOf(['key', 'export', keyFile, '--paper', '--json'])) as { paper: string };
    const paperFile = join(dir, 'paper.txt');
    writeFileSync(paperFile, paper.paper);
    const imported = (await jsonOf(['key', 'import', '--paper', paperFile, '--out', join(dir, 'again.json'), '--json'])) as { fingerprint: string };
    assert.equal(imported.fingerprint, created.fingerprint);
  });
});
