/**
 * The CLI as an operator sees it, with real processes (the embedded deployment of `bulwark up`):
 * `bulwark backup <vm> --wait` on a terminal (a pseudo-terminal from util-linux `script`) draws
 * the progress bar on stderr with bytes, rate and ETA and ends with the job's state; without a
 * terminal, the restore of that backup prints the plain lines of before on stdout and no bar,
 * and restores it byte for byte; `--progress bar` forces the bar onto a pipe, `--progress none`
 * shows nothing but the result. Errors carry a `hint:` saying what to do next: a closed port
 * (exit 3), an unknown backup or VM (exit 1, the listing command), a bad BULWARK_PROGRESS
 * (exit 2). `--json` output of the commands that talk to the controller is JSON alone on
 * stdout, even with the bar forced.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../controller/cli/up/nats-server-process.js';
import { repoRoot } from '../../controller/cli/up/managed-process.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startTestDeployment } from '../helpers/embedded.js';
import { fileSha256 } from '../helpers/files.js';

/** Big enough that a backup takes a few seconds and reports progress several times (about once a second). */
const DISK_MIB = Number(process.env.BULWARK_TEST_UX_DISK_MIB ?? 384);

/** Runs the CLI in a pseudo-terminal: stdout and stderr both go to the terminal, read here as one text. */
function runCliInTerminal(args: readonly string[], env: Record<string, string>, timeoutMs = 240_000): Promise<CliResult> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, '--import', 'tsx', `${repoRoot}controller/cli/main.ts`, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bulwark ${args.join(' ')} in a terminal did not finish within ${timeoutMs} ms\n${stdout}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The terminal's text as lines: each redraw of the bar (which starts with a cursor move to column 1) is one line. */
function frames(output: string): string[] {
  const plain = output
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[\d*G/g, '\n')
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '');
  return plain.split(/\r\n|\r|\n/).map((l) => l.trim()).filter((l) => l !== '');
}

const BAR_FRAME = /^backup vm1 read \[[█░]+\] +\d+% [\d.]+ (B|KiB|MiB)\/[\d.]+ MiB {2}(-- B\/s|[\d.]+ (B|KiB|MiB|GiB)\/s) {2}ETA (--|\d+[hms]( \d+[ms])?)$/;

describe('the CLI for operators: progress, and errors that say what to do', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;

  before(async () => {
    ctx = await startTestDeployment([{ name: 'vm1', disks: [{ name: 'disk0', sizeMib: DISK_MIB }] }]);
  });
  after(async () => {
    await ctx?.cleanup();
  });

  it('draws a bar with bytes, rate and ETA on a terminal, plain lines without one, and the backup restores byte for byte', async () => {
    const { deployment, env } = ctx;
    const disk = join(deployment.dataDir, 'vms', 'vm1', 'disk0.img');
    const source = await fileSha256(disk);

    const term = await runCliInTerminal(['backup', 'vm1', '--mode', 'full', '--wait'], env);
    assert.equal(term.code, 0, term.stdout);
    const lines = frames(term.stdout);
    const bars = lines.filter((l) => BAR_FRAME.test(l));
    assert.ok(bars.length > 0, `bar frames while reading:\n${lines.join('\n')}`);
    const withRate = bars.filter((l) => /[\d.]+ (KiB|MiB|GiB)\/s {2}ETA \d/.test(l));
    assert.ok(withRate.length > 0, `a frame with a rate and an ETA:\n${bars.join('\n')}`);
    assert.ok(
      lines.some((l) => /^backup vm1 commit (\[█+\] )?100% [\d.]+ MiB\/[\d.]+ MiB .* succeeded$/.test(l)),
      `the last frame: all bytes and the final state:\n${lines.join('\n')}`,
    );
    assert.ok(lines.some((l) => /^state +succeeded$/.test(l)), 'then the result, as before');
    assert.ok(!lines.some((l) => / running at a\/agent-1: read /.test(l)), 'no plain lines on a terminal');
    const backupId = /^backup +(\S+) \(full\)$/m.exec(lines.join('\n'))?.[1];
    assert.ok(backupId, 'the backup id in the result');

    // Without a terminal: the plain lines on stdout, nothing of the bar anywhere. The restore
    // brings the backup back byte for byte.
    const restoreDir = join(deployment.dataDir, 'restore-ux');
    const piped = await runCli(['restore', backupId, '--to', restoreDir, '--wait'], env);
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, /^restore vm1 job \S+ running at a\/agent-1: restore \d+% \(/m);
    assert.match(piped.stdout, /^state +succeeded$/m);
    assert.match(piped.stdout, new RegExp(`^backup +${backupId} from site a$`, 'm'));
    assert.doesNotMatch(piped.stdout + piped.stderr, /[█░]|ETA/);
    assert.equal(await fileSha256(join(restoreDir, 'disk0.img')), source, 'restored byte for byte');
    const restoreJob = /^job +(\S+)$/m.exec(piped.stdout)?.[1] ?? '';

    // --progress bar forces the bar onto a pipe (stderr, a line per redraw); stdout keeps the result alone.
    const forced = await runCli(['--progress', 'bar', 'job', restoreJob, '--wait'], env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /^restore vm1 restore (\[█+\] )?100% [\d.]+ MiB\/[\d.]+ MiB .* succeeded$/m);
    assert.doesNotMatch(forced.stdout, /[█░]|running at/);
    assert.match(forced.stdout, /^state +succeeded$/m);

    // --progress none (here through the environment): only the result; --watch follows as --wait does.
    const quiet = await runCli(['job', restoreJob, '--wait'], { ...env, BULWARK_PROGRESS: 'none' });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stdout, / at a\/agent-1/);
    assert.match(quiet.stdout, /^state +succeeded$/m);
    assert.equal(quiet.stderr, '');
    const plain = await runCli(['job', restoreJob, '--watch'], env);
    assert.match(plain.stdout, new RegExp(`^restore vm1 job ${restoreJob} succeeded at a/agent-1$`, 'm'));
  });

  it('says what to do next: unknown backup or VM (exit 1), a bad BULWARK_PROGRESS (exit 2)', async () => {
    const { env } = ctx;
    const backup = await runCli(['restore', 'NO-SUCH-BACKUP', '--to', join(ctx.deployment.dataDir, 'never')], env);
    assert.equal(backup.code, 1, backup.stderr);
    assert.match(backup.stderr, /^bulwark: backup NO-SUCH-BACKUP not found\n {2}hint: `bulwark backups` lists the backups/);
    const vm = await runCli(['backup', 'no-such-vm'], env);
    assert.equal(vm.code, 1, vm.stderr);
    assert.match(vm.stderr, /VM no-such-vm not found\n {2}hint: `bulwark vms` lists the VMs/);
    // Refused before the controller is even called (else this would be exit 3): no job is started.
    const bad = await runCli(['backup', 'vm1', '--wait', '--controller', '127.0.0.1:1'], { ...env, BULWARK_PROGRESS: 'fancy' });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /BULWARK_PROGRESS: must be one of auto, bar, plain, none\n {2}hint: fix BULWARK_PROGRESS/);
    const flag = await runCli(['--progress', 'fancy', 'jobs'], env);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--progress <mode>.*must be one of auto, bar, plain, none/);
  });

  it('--json: stdout holds JSON alone for the commands that talk to the controller, progress or not', async () => {
    const { env } = ctx;
    const jsonOf = async (args: string[], extra: Record<string, string> = {}): Promise<unknown> => {
      const res = await runCli([...args, '--json'], { ...env, ...extra });
      assert.equal(res.code, 0, `bulwark ${args.join(' ')}: ${res.stderr}`);
      try {
        return JSON.parse(res.stdout) as unknown;
      } catch {
        return assert.fail(`bulwark ${args.join(' ')} --json printed more than JSON on stdout:\n${res.stdout}`);
      }
    };
    const [newest] = (await jsonOf(['jobs', '--limit', '1'])) as { id: string }[];
    // Even with the bar forced, --json shows no progress.
    const job = (await jsonOf(['job', newest?.id ?? '', '--wait'], { BULWARK_PROGRESS: 'bar' })) as { id: string; state: string };
    assert.equal(job.state, 'succeeded');
    for (const args of [['vms'], ['backups', '--vm', 'vm1'], ['replication']]) {
      assert.notEqual(await jsonOf(args), undefined);
    }
  });

  it('a CLI pointed at a closed port says the controller cannot be reached and how to fix it, exit 3', async () => {
    const port = await freePort();
    const res = await runCli(['vms', '--controller', `127.0.0.1:${port}`]);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, new RegExp(`^bulwark: cannot reach the controller at 127\\.0\\.0\\.1:${port} \\(address from --controller\\): is \`bulwark up\` running\\?\n`));
    assert.match(res.stderr, /\n {2}hint: start one with `bulwark up`, or point the CLI at the running one: --controller <host:port>, BULWARK_CONTROLLER, or "controller" in client\.json/);
    assert.equal(res.stdout, '');
  });
});
