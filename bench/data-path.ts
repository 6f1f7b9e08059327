/**
 * `npm run bench`: Bulwark, restic and borg side by side, in one run, on one seeded image (see
 * bench-image.ts): full backup, incremental after a 2% scattered change, restore of the latest
 * backup (checked byte for byte), stored bytes and peak RSS of every process. Everything lives
 * in one temp dir, removed at the end unless --keep.
 *
 *   npm run bench -- [--json] [--size-mib 2048] [--tools bulwark,restic,borg] [--seed 1] [--runs 1] [--keep]
 *                    [--unencrypted]   (Bulwark without a key: shows what encryption costs)
 *                    [--cbt-size-mib 4096]  (changed-block tracking vs hashing, cbt-bench.ts; 0: skip)
 *                    [--replication-size-mib 256]  (site sync: wire bytes, rate-limit accuracy, replication.ts; 0: skip)
 *                    [--repair-chunks 1000]  (heal N damaged 1 MiB chunks on the read path, scrub MB/s, repair-bench.ts; 0: skip)
 *                    [--scale-vms 10000 --scale-agents 200 --scale-seconds 60 --scale-rate 100 --agents-per-group 20
 *                     --scale-job snapshot|backup --scale-driver api|policy --scale-spread-ms 1000]  (dispatch at scale with simulated agents, scale-bench.ts; --scale-vms 0: skip)
 *                    [--scale-burst-seconds 60]  (then the same drive with each second's jobs all due at one instant: `scaleBurst`; 0: skip)
 *
 * Progress goes to stderr; stdout carries the table and the JSON (with --json: the JSON only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createBenchImage } from './bench-image.js';
import { computeRatios, mergeRuns, resultTable, TOOL_NAMES, type ToolName, type ToolRun } from './bench-report.js';
import { benchBulwark } from './bulwark-bench.js';
import { benchCbt } from './cbt-bench.js';
import { runChecked } from './measure.js';
import { benchBorg, benchRestic, ensurePeers } from './peer-bench.js';
import { benchRepair } from './repair-bench.js';
import { benchReplication } from './replication.js';
import { benchScale, ScaleOptions, scaleFlags, scaleOptionsOf } from './scale-bench.js';

const MIB = 1024 * 1024;
const round2 = (n: number) => Math.round(n * 100) / 100;

const Options = z.object({
  json: z.boolean(),
  keep: z.boolean(),
  unencrypted: z.boolean(),
  sizeMib: z.coerce.number().int('--size-mib: must be a whole number').min(16, '--size-mib: at least 16'),
  runs: z.coerce.number().int('--runs: must be a whole number').min(1, '--runs: at least 1').max(9, '--runs: at most 9'),
  seed: z.coerce.number().int('--seed: must be a whole number').nonnegative('--seed: must be 0 or more'),
  cbtSizeMib: z.coerce.number().int('--cbt-size-mib: must be a whole number').refine((n) => n === 0 || n >= 16, '--cbt-size-mib: 0 (skip) or at least 16'),
  replicationSizeMib: z.coerce.number().int('--replication-size-mib: must be a whole number').refine((n) => n === 0 || n >= 16, '--replication-size-mib: 0 (skip) or at least 16'),
  repairChunks: z.coerce.number().int('--repair-chunks: must be a whole number').min(0, '--repair-chunks: 0 (skip) or more').max(100_000, '--repair-chunks: at most 100000'),
  tools: z
    .string()
    .transform((s) => s.split(',').map((t) => t.trim()).filter((t) => t.length > 0))
    .pipe(z.array(z.enum(TOOL_NAMES as [ToolName, ...ToolName[]], { message: `--tools: each must be one of ${TOOL_NAMES.join(', ')}` })).min(1, '--tools: name at least one')),
});

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    unencrypted: { type: 'boolean', default: false },
    'size-mib': { type: 'string', default: '2048' },
    seed: { type: 'string', default: '1' },
    runs: { type: 'string', default: '1' },
    tools: { type: 'string', default: TOOL_NAMES.join(',') },
    'cbt-size-mib': { type: 'string', default: '4096' },
    'replication-size-mib': { type: 'string', default: '256' },
    'repair-chunks': { type: 'string', default: '1000' },
    ...scaleFlags,
    'scale-burst-seconds': { type: 'string', default: '60' },
  },
});
const parsed = Options.safeParse({ json: values.json, keep: values.keep, unencrypted: values.unencrypted, sizeMib: values['size-mib'], seed: values.seed, runs: values.runs, tools: values.tools, cbtSizeMib: values['cbt-size-mib'], replicationSizeMib: values['replication-size-mib'], repairChunks: values['repair-chunks'] });
if (!parsed.success) {
  console.error(`bench: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  process.exit(2);
}
const opts = parsed.data;
const scaleParsed = ScaleOptions.safeParse(scaleOptionsOf(values));
if (!scaleParsed.success) {
  console.error(`bench: ${scaleParsed.error.issues.map((i) => i.message).join('; ')}`);
  process.exit(2);
}
const tools = TOOL_NAMES.filter((t) => opts.tools.includes(t));
const started = Date.now();
const say = (line: string) => console.error(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);

const installCommand = ensurePeers(tools, say);
if (installCommand !== undefined) {
  console.error(`bench: restic, borg and /usr/bin/time are needed for --tools ${tools.join(',')}. As root, run:\n  ${installCommand}`);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-'));
const cleanup = () => {
  if (opts.keep) console.error(`bench: kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}

const loadAtStart = loadavg()[0] ?? 0;
if (loadAtStart > cpus().length / 2) {
  say(`warning: the machine is busy (1-minute load average ${loadAtStart.toFixed(2)} on ${cpus().length} CPUs): figures will be slower and noisier`);
}

try {
  say(`generating the ${opts.sizeMib} MiB image (seed ${opts.seed}) in ${dir}`);
  const image = await createBenchImage(dir, opts.sizeMib * MIB, opts.seed);
  // With --runs > 1 the tools take turns, so a burst of other load spreads over all of them.
  const benchOf: Record<ToolName, (toolDir: string) => Promise<ToolRun>> = {
    bulwark: (toolDir) => benchBulwark(toolDir, image, say, !opts.unencrypted),
    restic: (toolDir) => benchRestic(toolDir, image, say),
    borg: (toolDir) => benchBorg(toolDir, image, say),
  };
  const perTool = new Map<ToolName, ToolRun[]>(tools.map((t) => [t, []]));
  for (let run = 1; run <= opts.runs; run++) {
    if (opts.runs > 1) say(`run ${run} of ${opts.runs}`);
    for (const tool of tools) {
      const toolDir = join(dir, opts.runs > 1 ? `${tool}-${run}` : tool);
      perTool.get(tool)?.push(await benchOf[tool](toolDir));
      if (!opts.keep) rmSync(toolDir, { recursive: true, force: true });
    }
  }
  const cbt = opts.cbtSizeMib > 0 && tools.includes('bulwark') ? await benchCbt(join(dir, 'cbt'), opts.cbtSizeMib, say) : undefined;
  const replication =
    opts.replicationSizeMib > 0 && tools.includes('bulwark') ? await benchReplication(join(dir, 'replication'), opts.replicationSizeMib, opts.seed, say) : undefined;
  const repair = opts.repairChunks > 0 && tools.includes('bulwark') ? await benchRepair(join(dir, 'repair'), opts.repairChunks, say) : undefined;
  const scaleOptions = scaleOptionsOf(values);
  const scale = scaleOptions.vms > 0 && tools.includes('bulwark') ? await benchScale(join(dir, 'scale'), scaleOptions, say) : undefined;
  // The burst shape: each second's jobs all due at the same instant (a policy with no spread).
  const burstSeconds = Number(values['scale-burst-seconds']);
  const scaleBurst =
    scale && scaleOptions.driver === 'policy' && burstSeconds > 0
      ? await benchScale(join(dir, 'scale-burst'), { ...scaleOptions, seconds: burstSeconds, spreadMs: 0 }, say)
      : undefined;
  const runs = tools.map((tool) => mergeRuns(image.sizeBytes, perTool.get(tool) ?? []));
  const results = runs.flatMap((r) => r.results);
  const report = {
    bench: 'data-path',
    runs: opts.runs,
    image: {
      bytes: image.sizeBytes,
      seed: image.seed,
      allocatedBytes: image.allocatedBytes,
      regionsMiB: image.layout.regions,
      changedBytes: image.changedBytes,
      sha256: image.sha256,
      changedSha256: image.changedSha256,
    },
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      memoryBytes: totalmem(),
      kernel: release(),
      node: process.version,
      filesystem: (await runChecked('stat', ['-f', '-c', '%T', dir])).trim(),
      // Other work on the machine skews every figure; a quiet machine reads near 0 here.
      loadAverage1m: { atStart: round2(loadAtStart), atEnd: round2(loadavg()[0] ?? 0) },
    },
    tools: Object.fromEntries(runs.map((r) => [r.tool, { version: r.version, ...r.settings }])),
    results,
    ratios: computeRatios(results),
    allRestoresIdentical: results.filter((r) => r.scenario === 'restore').every((r) => r.identical === true),
    ...(cbt ? { cbt } : {}),
    ...(replication ? { replication } : {}),
    ...(repair ? { repair } : {}),
    ...(scale ? { scale } : {}),
    ...(scaleBurst ? { scaleBurst } : {}),
  };
  if (opts.json) {
    console.log(JSON.stringify(report));
  } else {
    console.log(resultTable(results));
    console.log(`ratios (speed: peer's seconds / Bulwark's; stored: Bulwark's bytes / peer's): ${JSON.stringify(report.ratios)}`);
    console.log(JSON.stringify(report, null, 2));
  }
  for (const r of results) {
    if (r.identical === false) console.error(`bench: ${r.tool} restored WRONG DATA: its image differs from the one backed up`);
  }
  // A peer that restores wrong data is reported; Bulwark doing so fails the run.
  if (results.some((r) => r.tool === 'bulwark' && r.identical === false)) process.exitCode = 1;
  if (repair && !repair.heal.allIdentical) {
    console.error('bench: the repair run served WRONG DATA after healing');
    process.exitCode = 1;
  }
  if (replication && !replication.restoredIdentical) {
    console.error('bench: a replica restored WRONG DATA after site sync');
    process.exitCode = 1;
  }
  if ((scale && !scale.restoredIdentical) || (scaleBurst && !scaleBurst.restoredIdentical)) {
    console.error('bench: the scale run restored WRONG DATA for its sample VM');
    process.exitCode = 1;
  }
  if (cbt?.results.some((r) => !r.restoredIdentical)) {
    console.error('bench: a changed-block-tracking run restored WRONG DATA');
    process.exitCode = 1;
  }
} catch (err) {
  if (!opts.keep) console.error('bench: failed; run again with --keep to keep the temp dir and the daemons\' logs');
  throw err;
} finally {
  cleanup();
  say('done');
}
