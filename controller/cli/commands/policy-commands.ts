/**
 * `bulwark policy create|edit|show|list|delete|assign`: protection policies as data
 * (docs/OPERATORS.md "Policies"). A policy is built from flags (or `--file policy.json`, flags
 * then override its fields) and sent as JSON; the controller validates it with the zod Policy
 * and names a bad field. `edit` reads the policy, changes only what its flags give and writes it
 * back only if nobody changed it in between (`if_updated_at`).
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { ValidationError } from '../../../shared/errors.js';
import type { PolicyEntry__Output } from '../../../shared/rpc/generated/bulwark/v1/PolicyEntry.js';
import { withController } from '../cli-context.js';
import {
  parseConsistencyMode,
  parseCron,
  parseDir,
  parseDuration,
  parseKeepCount,
  parseMode,
  parseNamePattern,
  parsePolicyName,
  parseQuiesceFailure,
  parseSite,
  parseTimeZone,
  parseVmName,
  parseVmTag,
  parseWindow,
  wholeNumberParser,
  zodParser,
} from '../option-parsers.js';
import { z } from 'zod';
import { formatDuration, formatTime, printJson, printTable } from '../output.js';

type Json = Record<string, unknown>;

/** The flags create and edit share; `false` is a `--no-x` (edit: clear the field). */
interface PolicyFlags {
  action?: 'backup' | 'snapshot';
  snapshotKeep?: number;
  schedule?: string[];
  timezone?: string;
  window?: { start: string; end: string } | false;
  spread?: number;
  mode?: 'auto' | 'full' | 'incremental';
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  retention?: false;
  rpo?: number | false;
  consistency?: 'crash' | 'application';
  onQuiesceFailure?: 'abort' | 'continue';
  site?: string | false;
  replica?: string[];
  vm?: string[];
  pattern?: string[];
  tag?: string[];
  priority?: number;
  maxAttempts?: number;
  retryBackoff?: number;
  retryMaxBackoff?: number;
  description?: string;
  file?: string;
  json?: boolean;
}

interface CreateFlags extends PolicyFlags {
  disabled?: boolean;
}

interface EditFlags extends PolicyFlags {
  enable?: boolean;
  disable?: boolean;
}

const parseAction = zodParser(z.enum(['backup', 'snapshot'], { error: 'must be backup or snapshot' }));

const collect =
  <T>(parse: (value: string) => T) =>
  (value: string, previous: T[] | undefined): T[] => [...(previous ?? []), parse(value)];

const KEEP_FLAGS = [
  ['keepLast', 'last'],
  ['keepHourly', 'hourly'],
  ['keepDaily', 'daily'],
  ['keepWeekly', 'weekly'],
  ['keepMonthly', 'monthly'],
  ['keepYearly', 'yearly'],
] as const;

/** Adds the flags that set a policy's fields (create: `forEdit` false). */
function policyFlags(cmd: Command, forEdit: boolean): Command {
  const replaces = forEdit ? ' (replaces the current list)' : '';
  cmd
    .option('--action <action>', 'backup (default) or snapshot: a hypervisor snapshot of each covered VM at each due time (snapshot management)', parseAction)
    .option('--snapshot-keep <n>', 'with --action snapshot (required there): keep the n newest bulwark snapshots of each VM, 1-1000', wholeNumberParser(1, 1000))
    .option('--schedule <cron>', `a cron expression (5 fields, minute first; or 6, seconds first); repeat for several${replaces}`, collect(parseCron))
    .option('--timezone <tz>', 'IANA time zone of the schedule and window (default UTC)', parseTimeZone)
    .option('--window <HH:MM-HH:MM>', 'start window: due jobs start only inside it, e.g. 22:00-06:00 (end before start spans midnight)', parseWindow)
    .option('--spread <duration>', "start a due time's jobs over this long, each VM at its own fixed offset (e.g. 15m; 0s: all at once; at most 12h)", parseDuration)
    .option('--mode <mode>', 'auto (incremental when a parent exists; default), full or incremental', parseMode)
    .option('--keep-last <n>', 'retention: keep the n newest backups', parseKeepCount)
    .option('--keep-hourly <n>', 'retention: the newest of each of the last n hours', parseKeepCount)
    .option('--keep-daily <n>', 'retention: the newest of each of the last n days', parseKeepCount)
    .option('--keep-weekly <n>', 'retention: the newest of each of the last n ISO weeks', parseKeepCount)
    .option('--keep-monthly <n>', 'retention: the newest of each of the last n months', parseKeepCount)
    .option('--keep-yearly <n>', 'retention: the newest of each of the last n years', parseKeepCount)
    .option('--rpo <duration>', 'recovery point objective: the newest good copy must be younger (24h, 90m; at least 1m)', parseDuration)
    .option('--consistency <mode>', 'crash (default) or application (the VM agent config must quiesce the guest)', parseConsistencyMode)
    .option('--on-quiesce-failure <action>', 'with application consistency: abort (default) or continue crash-consistent', parseQuiesceFailure)
    .option('--site <site>', "site whose storage receives the backups (default: each VM's own site)", parseSite)
    .option('--replica <site>', `a site that must hold a copy too; repeat for several${replaces}`, collect(parseSite))
    .option('--vm <vm>', `cover this VM; repeat for several${replaces}`, collect(parseVmName))
    .option('--pattern <glob>', `cover VMs whose name matches (* any run, ? one character); repeat${replaces}`, collect(parseNamePattern))
    .option('--tag <tag>', `cover VMs carrying this tag (set in their agent config); repeat${replaces}`, collect(parseVmTag))
    .option('--priority <n>', '0-100, higher first when jobs wait for a slot (default 50)', wholeNumberParser(0, 100))
    .option('--max-attempts <n>', 'attempts of a failing job in all, 1-20 (default 3)', wholeNumberParser(1, 20))
    .option('--retry-backoff <duration>', 'wait before the first retry, doubling after (default 1m; at least 1s)', parseDuration)
    .option('--retry-max-backoff <duration>', 'longest wait between retries (default 1h)', parseDuration)
    .option('--description <text>', 'free text, up to 500 characters')
    .option('--file <policy.json>', forEdit ? 'replace the whole policy with this JSON file (other flags then change it further)' : 'the policy as JSON (flags then override its fields)', parseDir)
    .option('--json', 'print JSON');
  if (forEdit) {
    cmd
      .option('--no-window', 'remove the start window')
      .option('--no-rpo', 'remove the RPO target')
      .option('--no-site', "back up to each VM's own site")
      .option('--no-retention', 'remove every retention rule')
      .option('--enable', 'enable the policy')
      .option('--disable', 'disable the policy (it makes no jobs; its RPO is still watched)');
  } else {
    cmd.option('--disabled', 'create it disabled');
  }
  return cmd;
}

async function readPolicyFile(path: string): Promise<Json> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ValidationError('--file', `cannot read ${path} (${err instanceof Error ? err.message : String(err)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ValidationError('--file', `${path} is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError('--file', `${path} must hold a JSON object (a policy)`);
  return value as Json;
}

const objectAt = (policy: Json, key: string): Json => {
  const value = policy[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...(value as Json) } : {};
};

/** The policy with the flags applied; the controller validates the result. */
function applyFlags(base: Json, f: PolicyFlags): Json {
  const p: Json = { ...base };
  if (f.action !== undefined) p.action = f.action;
  if (f.snapshotKeep !== undefined) p.snapshotKeep = f.snapshotKeep;
  // Back to a backup policy: the snapshot count no longer applies.
  else if (f.action === 'backup') delete p.snapshotKeep;
  const schedule = objectAt(p, 'schedule');
  if (f.schedule !== undefined) schedule.cron = f.schedule;
  if (f.timezone !== undefined) schedule.timezone = f.timezone;
  if (f.window === false) delete schedule.window;
  else if (f.window !== undefined) schedule.window = f.window;
  if (f.spread !== undefined) schedule.spreadMs = f.spread;
  if (f.mode !== undefined) schedule.mode = f.mode;
  if (Object.keys(schedule).length > 0 || 'schedule' in p) p.schedule = schedule;

  if (f.retention === false) delete p.retention;
  const keeps = KEEP_FLAGS.filter(([flag]) => f[flag] !== undefined);
  if (keeps.length > 0) {
    const retention = objectAt(p, 'retention');
    for (const [flag, rule] of keeps) retention[rule] = f[flag];
    p.retention = retention;
  }

  if (f.rpo === false) delete p.rpoMs;
  else if (f.rpo !== undefined) p.rpoMs = f.rpo;

  if (f.consistency !== undefined || f.onQuiesceFailure !== undefined) {
    const consistency = objectAt(p, 'consistency');
    if (f.consistency !== undefined) consistency.mode = f.consistency;
    if (f.onQuiesceFailure !== undefined) consistency.onFailure = f.onQuiesceFailure;
    p.consistency = consistency;
  }

  if (f.site === false) delete p.storageSite;
  else if (f.site !== undefined) p.storageSite = f.site;
  if (f.replica !== undefined) p.replicaSites = f.replica;

  if (f.vm !== undefined || f.pattern !== undefined || f.tag !== undefined) {
    const selector = objectAt(p, 'selector');
    if (f.vm !== undefined) selector.vms = f.vm;
    if (f.pattern !== undefined) selector.namePatterns = f.pattern;
    if (f.tag !== undefined) selector.tags = f.tag;
    p.selector = selector;
  }

  if (f.priority !== undefined) p.priority = f.priority;
  if (f.maxAttempts !== undefined || f.retryBackoff !== undefined || f.retryMaxBackoff !== undefined) {
    const retry = objectAt(p, 'retry');
    if (f.maxAttempts !== undefined) retry.maxAttempts = f.maxAttempts;
    if (f.retryBackoff !== undefined) retry.initialBackoffMs = f.retryBackoff;
    if (f.retryMaxBackoff !== undefined) retry.maxBackoffMs = f.retryMaxBackoff;
    p.retry = retry;
  }
  if (f.description !== undefined) p.description = f.description;
  return p;
}

/** A policy entry as `--json` prints it. */
function entryJson(e: PolicyEntry__Output): Json {
  return { policy: JSON.parse(e.policyJson) as unknown, createdAt: e.createdAt, updatedAt: e.updatedAt, coveredVms: e.coveredVms, nextDue: e.nextDue };
}

interface PolicyShape {
  name: string;
  description: string;
  enabled: boolean;
  action?: 'backup' | 'snapshot';
  snapshotKeep?: number;
  schedule: { cron: string[]; timezone: string; window?: { start: string; end: string }; spreadMs?: number; mode: string };
  retention?: Record<string, number>;
  rpoMs?: number;
  consistency: { mode: string; onFailure: string };
  storageSite?: string;
  replicaSites: string[];
  selector: { vms: string[]; namePatterns: string[]; tags: string[] };
  priority: number;
  retry: { maxAttempts: number; initialBackoffMs: number; maxBackoffMs: number };
}

const policyOf = (e: PolicyEntry__Output): PolicyShape => JSON.parse(e.policyJson) as PolicyShape;

function printPolicy(e: PolicyEntry__Output): void {
  const p = policyOf(e);
  const retention = p.retention ? Object.entries(p.retention).map(([rule, n]) => `${rule} ${n}`).join(', ') : 'none (backups are never pruned by this policy)';
  const selector = [
    ...p.selector.vms.map((v) => `vm ${v}`),
    ...p.selector.namePatterns.map((v) => `pattern ${v}`),
    ...p.selector.tags.map((v) => `tag ${v}`),
  ];
  const lines: [string, string][] = [
    ['policy', `${p.name}${p.enabled ? '' : ' (disabled)'}`],
    ['description', p.description || '-'],
    ['action', p.action === 'snapshot' ? `snapshot (keeps the ${p.snapshotKeep ?? '?'} newest bulwark snapshots of each VM)` : 'backup'],
    ['schedule', `${p.schedule.cron.join(' | ')} (${p.schedule.timezone}), mode ${p.schedule.mode}`],
    ['window', p.schedule.window ? `${p.schedule.window.start}-${p.schedule.window.end}` : 'none (any time)'],
    ['spread', p.schedule.spreadMs ? `${formatDuration(p.schedule.spreadMs)} (each VM at its own offset)` : 'none (all at the due time)'],
    ['retention', retention],
    ['rpo', p.rpoMs === undefined ? 'none' : formatDuration(p.rpoMs)],
    ['consistency', `${p.consistency.mode}${p.consistency.mode === 'application' ? `, on quiesce failure ${p.consistency.onFailure}` : ''}`],
    ['storage site', p.storageSite ?? "each VM's own"],
    ['replicas', p.replicaSites.length ? p.replicaSites.join(', ') : 'none'],
    ['selects', selector.length ? selector.join(', ') : 'nothing (assign VMs, patterns or tags)'],
    ['priority', String(p.priority)],
    ['retry', `${p.retry.maxAttempts} attempts, backoff ${formatDuration(p.retry.initialBackoffMs)} doubling to ${formatDuration(p.retry.maxBackoffMs)}`],
    ['created', formatTime(e.createdAt)],
    ['updated', formatTime(e.updatedAt)],
    ['covers', e.coveredVms.length ? `${e.coveredVms.length} VM(s): ${e.coveredVms.join(', ')}` : 'no VM now'],
    ['next due', e.nextDue.length ? e.nextDue.map(formatTime).join(', ') : p.enabled ? '-' : 'never while disabled'],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) console.log(`${k.padEnd(width)}  ${v}`);
}

function requireName(policy: Json, name: string | undefined, where: string): string {
  const value = name ?? policy.name;
  if (typeof value !== 'string' || value === '') throw new ValidationError(where, 'give the policy a name (the <name> argument or "name" in --file)');
  return value;
}

/** Registers `bulwark policy`. */
export function registerPolicyCommands(program: Command): void {
  const cmd = program
    .command('policy')
    .description('protection policies: when to back up which VMs, where to, how long to keep them, the RPO (docs/OPERATORS.md "Policies")');

  policyFlags(
    cmd
      .command('create')
      .description('store a new policy, from flags or --file (at least one --schedule)')
      .argument('[name]', 'the policy name (lower-case letters, digits, "-"); or "name" in --file', parsePolicyName),
    false,
  ).action(async (name: string | undefined, opts: CreateFlags, command: Command) => {
    if (opts.file === undefined && opts.schedule === undefined) {
      throw new ValidationError('--schedule', 'give at least one cron expression, e.g. --schedule "0 2 * * *" (or the whole policy with --file)');
    }
    const base = opts.file !== undefined ? await readPolicyFile(opts.file) : {};
    const policy = applyFlags(base, opts);
    if (name !== undefined && typeof base.name === 'string' && base.name !== name) {
      throw new ValidationError('name', `the argument ${name} differs from "name" in --file (${base.name}); give one of them`);
    }
    policy.name = requireName(policy, name, 'name');
    if (opts.disabled === true) policy.enabled = false;
    await withController(command, async (api) => {
      const entry = await api.createPolicy(JSON.stringify(policy));
      if (opts.json) {
        printJson(entryJson(entry));
        return;
      }
      console.log(`policy ${entry.name} created; covers ${entry.coveredVms.length} VM(s) now; next due ${entry.nextDue[0] ? formatTime(entry.nextDue[0]) : '-'}`);
    });
  });

  policyFlags(
    cmd
      .command('edit')
      .description('change a policy: only the fields whose flags are given (lists given by flags replace the current ones; use `policy assign` to add to the selector)')
      .argument('<name>', 'the policy', parsePolicyName),
    true,
  ).action(async (name: string, opts: EditFlags, command: Command) => {
    if (opts.enable === true && opts.disable === true) throw new ValidationError('--enable | --disable', 'give one of them, not both');
    await withController(command, async (api) => {
      const current = await api.getPolicy(name);
      const base = opts.file !== undefined ? await readPolicyFile(opts.file) : (JSON.parse(current.policyJson) as Json);
      if (typeof base.name === 'string' && base.name !== name) {
        throw new ValidationError('name', `--file names policy ${base.name}, not ${name}; a policy cannot be renamed (create a new one, then delete this one)`);
      }
      const policy = applyFlags(base, opts);
      policy.name = name;
      if (opts.enable === true) policy.enabled = true;
      if (opts.disable === true) policy.enabled = false;
      const entry = await api.updatePolicy({ policyJson: JSON.stringify(policy), ifUpdatedAt: current.updatedAt });
      if (opts.json) {
        printJson(entryJson(entry));
        return;
      }
      console.log(`policy ${entry.name} updated; covers ${entry.coveredVms.length} VM(s) now; next due ${entry.nextDue[0] ? formatTime(entry.nextDue[0]) : '-'}`);
    });
  });

  cmd
    .command('show')
    .description('print a policy, the VMs it covers now and its next due times')
    .argument('<name>', 'the policy', parsePolicyName)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }, command: Command) => {
      await withController(command, async (api) => {
        const entry = await api.getPolicy(name);
        if (opts.json) printJson(entryJson(entry));
        else printPolicy(entry);
      });
    });

  cmd
    .command('list')
    .description('list the policies: schedule, RPO, how many VMs each covers, when next due')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      await withController(command, async (api) => {
        const { policies } = await api.listPolicies();
        if (opts.json) {
          printJson(policies.map(entryJson));
          return;
        }
        printTable(
          ['NAME', 'ENABLED', 'ACTION', 'SCHEDULE', 'RPO', 'COVERS', 'NEXT DUE'],
          policies.map((e) => {
            const p = policyOf(e);
            return [
              e.name,
              p.enabled ? 'yes' : 'no',
              p.action === 'snapshot' ? `snapshot keep ${p.snapshotKeep ?? '?'}` : 'backup',
              `${p.schedule.cron.join(' | ')}${p.schedule.timezone === 'UTC' ? '' : ` (${p.schedule.timezone})`}`,
              p.rpoMs === undefined ? '-' : formatDuration(p.rpoMs),
              `${e.coveredVms.length} VM(s)`,
              e.nextDue[0] ? formatTime(e.nextDue[0]) : '-',
            ];
          }),
          'no policies yet (`bulwark policy create <name> --schedule "0 2 * * *" --tag <tag>` makes one)',
        );
      });
    });

  cmd
    .command('delete')
    .description('remove a policy; the jobs it made and its backups stay (prune them with `bulwark prune`)')
    .argument('<name>', 'the policy', parsePolicyName)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }, command: Command) => {
      await withController(command, async (api) => {
        await api.deletePolicy(name);
        if (opts.json) printJson({ name, deleted: true });
        else console.log(`policy ${name} deleted; its jobs and backups stay`);
      });
    });

  cmd
    .command('assign')
    .description("add VMs, name patterns or tags to a policy's selector (--remove: take them out)")
    .argument('<name>', 'the policy', parsePolicyName)
    .option('--vm <vm>', 'a VM; repeat for several', collect(parseVmName))
    .option('--pattern <glob>', 'a VM name pattern (* any run, ? one character); repeat for several', collect(parseNamePattern))
    .option('--tag <tag>', 'a VM tag; repeat for several', collect(parseVmTag))
    .option('--remove', 'remove them instead of adding')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { vm?: string[]; pattern?: string[]; tag?: string[]; remove?: boolean; json?: boolean }, command: Command) => {
      const vms = opts.vm ?? [];
      const namePatterns = opts.pattern ?? [];
      const tags = opts.tag ?? [];
      if (vms.length + namePatterns.length + tags.length === 0) throw new ValidationError('--vm | --pattern | --tag', 'give at least one VM, pattern or tag');
      await withController(command, async (api) => {
        const entry = await api.assignPolicy({ name, vms, namePatterns, tags, remove: opts.remove === true });
        if (opts.json) {
          printJson(entryJson(entry));
          return;
        }
        const p = policyOf(entry);
        console.log(
          `policy ${entry.name} selects ${[...p.selector.vms.map((v) => `vm ${v}`), ...p.selector.namePatterns.map((v) => `pattern ${v}`), ...p.selector.tags.map((v) => `tag ${v}`)].join(', ') || 'nothing'}; covers ${entry.coveredVms.length} VM(s): ${entry.coveredVms.join(', ') || '-'}`,
        );
      });
    });
}
