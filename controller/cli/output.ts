/** How the CLI prints: tables for people, JSON (`--json`) for scripts. */
import Table from 'cli-table3';
import type { z } from 'zod';
import {
  BackupResult,
  GcResult,
  LockResult,
  PruneResult,
  RestoreResult,
  SyncResult,
  VerifyResult,
  type PruneDecision,
} from '../../shared/messages/results.js';
import type { AffectedRange__Output } from '../../shared/rpc/generated/bulwark/v1/AffectedRange.js';
import type { Alert__Output } from '../../shared/rpc/generated/bulwark/v1/Alert.js';
import type { Job__Output } from '../../shared/rpc/generated/bulwark/v1/Job.js';

/** Prints a value as indented JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints rows as a table, or `empty` when there are none. */
export function printTable(head: string[], rows: (string | number)[][], empty: string): void {
  if (rows.length === 0) {
    console.log(empty);
    return;
  }
  const table = new Table({ head, style: { head: [], border: [], compact: true } });
  table.push(...rows.map((r) => r.map(String)));
  console.log(table.toString());
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit] ?? ''}`;
}

/** An ISO time as "2026-01-01 12:00:00" (UTC), or "-". */
export function formatTime(iso: string): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** 192000 → "3m 12s": the two largest units, "0s" for nothing. */
export function formatDuration(ms: number): string {
  const units: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  if (ms < 1000) return ms <= 0 ? '0s' : `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0 || parts.length > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
    if (parts.length === 2) break;
  }
  return parts.filter((p, i) => i === 0 || !p.startsWith('0')).join(' ');
}

/** What a damaged or repaired object is: "chunk 3f2a9c0d11e4b7a2…", "index <backup>/<disk>", "manifest <backup>". */
export function objectText(o: { object: string; digest: string; backupId: string; disk: string }): string {
  if (o.object === 'chunk') return `chunk ${o.digest.slice(0, 16)}…`;
  if (o.object === 'index') return `index ${o.backupId}/${o.disk}`;
  return `manifest ${o.backupId}`;
}

/**
 * The affected ranges, one entry per VM disk: "vm1/disk0 bytes 0-1048575 (2 backups)". At most
 * `maxRanges` ranges per disk are spelled out.
 */
export function affectedTexts(ranges: readonly AffectedRange__Output[], maxRanges = 3): string[] {
  const byDisk = new Map<string, { spans: Map<string, [number, number]>; backups: Set<string> }>();
  for (const r of ranges) {
    const key = `${r.vm}/${r.disk}`;
    const entry = byDisk.get(key) ?? { spans: new Map<string, [number, number]>(), backups: new Set<string>() };
    entry.spans.set(`${r.offsetBytes}+${r.lengthBytes}`, [r.offsetBytes, r.lengthBytes]);
    entry.backups.add(r.backupId);
    byDisk.set(key, entry);
  }
  return [...byDisk].map(([disk, { spans, backups }]) => {
    const sorted = [...spans.values()].sort((a, b) => a[0] - b[0]);
    const shown = sorted
      .slice(0, maxRanges)
      .map(([offset, length]) => (length > 0 ? `${offset}-${offset + length - 1}` : String(offset)));
    const more = sorted.length > maxRanges ? ` +${sorted.length - maxRanges} more` : '';
    const count = `${backups.size} backup${backups.size === 1 ? '' : 's'}`;
    return `${disk} bytes ${shown.join(', ')}${more} (${count})`;
  });
}

/** An alert as a few lines: what, where, since when, what it affects, and its message. */
export function alertLines(a: Alert__Output): string[] {
  const peers = a.peersTried.map((p) => `${p.site}: ${p.error}`).join('; ') || 'no peer to ask';
  const head =
    a.state === 'open'
      ? `alert ${a.alertId} at site ${a.site}, raised ${formatTime(a.raisedAt)}`
      : `alert ${a.alertId} at site ${a.site}, raised ${formatTime(a.raisedAt)}, resolved ${formatTime(a.resolvedAt)}: ${a.resolution}`;
  return [
    head,
    `  ${objectText(a)} ${a.problem} (peers tried: ${peers})`,
    ...affectedTexts(a.affected).map((t) => `  affects ${t}`),
    ...(a.message ? [`  ${a.message}`] : []),
  ];
}

function parseJsonText(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A job as `--json` prints it: params and result as objects, absent values as null. */
export function jobJson(job: Job__Output): Record<string, unknown> {
  const orNull = (s: string) => (s === '' ? null : s);
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    site: job.site,
    worker: job.worker,
    vm: orNull(job.vm),
    attempt: job.attempt,
    createdAt: job.createdAt,
    startedAt: orNull(job.startedAt),
    finishedAt: orNull(job.finishedAt),
    error: orNull(job.error),
    progress: job.progress,
    params: parseJsonText(job.paramsJson),
    result: parseJsonText(job.resultJson),
    // scheduling
    policy: orNull(job.policy),
    priority: job.priority,
    dueAt: orNull(job.dueAt),
    notBefore: orNull(job.notBefore),
    startBy: orNull(job.startBy),
    maxAttempts: job.maxAttempts,
    publishedAt: orNull(job.publishedAt),
  };
}

/** One line: kind, id, state and where it runs. */
export function jobLine(job: Job__Output): string {
  const what = job.vm ? ` ${job.vm}` : '';
  return `${job.kind}${what} job ${job.id} ${job.state} at ${job.site}/${job.worker}`;
}

/** The job's fields and a readable summary of its result. */
export function printJob(job: Job__Output): void {
  const lines: [string, string][] = [
    ['job', job.id],
    ['kind', job.kind],
    ['state', job.state],
    ['worker', `${job.site}/${job.worker}`],
  ];
  if (job.vm) lines.push(['vm', job.vm]);
  lines.push(['attempt', job.maxAttempts > 1 ? `${job.attempt} of ${job.maxAttempts}` : String(job.attempt)]);
  if (job.policy) lines.push(['policy', job.policy]);
  lines.push(['priority', String(job.priority)]);
  if (job.dueAt) lines.push(['due', formatTime(job.dueAt)]);
  lines.push(['created', formatTime(job.createdAt)]);
  if (job.notBefore && !job.publishedAt) lines.push(['not before', formatTime(job.notBefore)]);
  if (job.startBy && !job.publishedAt && job.state === 'queued') lines.push(['start by', formatTime(job.startBy)]);
  if (job.publishedAt) lines.push(['published', formatTime(job.publishedAt)]);
  if (job.startedAt) lines.push(['started', formatTime(job.startedAt)]);
  if (job.finishedAt) lines.push(['finished', formatTime(job.finishedAt)]);
  if (job.progress && job.state === 'running') lines.push(['progress', progressText(job)]);
  if (job.error) lines.push(['error', job.error]);
  lines.push(...resultLines(job));
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) console.log(`${k.padEnd(width)}  ${v}`);
}

/** Why a queued job is not out yet: "due …", "not before …" (backoff, window), else empty. */
export function scheduleText(job: Job__Output): string {
  if (job.state !== 'queued' || job.publishedAt) return '';
  const parts: string[] = [];
  if (job.dueAt) parts.push(`due ${formatTime(job.dueAt)}`);
  if (job.notBefore) parts.push(`not before ${formatTime(job.notBefore)}`);
  if (job.attempt > 1) parts.push(`retry ${job.attempt} of ${job.maxAttempts}`);
  return parts.length > 0 ? parts.join(', ') : 'waiting for a dispatch slot';
}

/** "phase 42% (420 MiB of 1.0 GiB)". */
export function progressText(job: Job__Output): string {
  const p = job.progress;
  if (!p) return job.state;
  const pct = p.totalBytes > 0 ? Math.floor((p.doneBytes / p.totalBytes) * 100) : 0;
  return `${p.phase} ${pct}% (${formatBytes(p.doneBytes)} of ${formatBytes(p.totalBytes)})`;
}

function resultLines(job: Job__Output): [string, string][] {
  if (!job.resultJson) return [];
  const value = parseJsonText(job.resultJson);
  const parse = <S extends z.ZodType>(schema: S): z.output<S> | undefined => {
    const r = schema.safeParse(value);
    return r.success ? r.data : undefined;
  };
  switch (job.kind) {
    case 'backup': {
      const r = parse(BackupResult);
      if (!r) break;
      return [
        ['backup', `${r.backup.backupId} (${r.backup.mode}${r.alreadyCommitted ? ', already committed' : ''})`],
        ['site', r.backup.site],
        ['disks', r.backup.disks.map((d) => `${d.name} ${formatBytes(d.sizeBytes)}`).join(', ')],
        ['read', formatBytes(r.bytesRead)],
        ['chunks', `${r.chunksSent} sent of ${r.chunksTotal} (${r.chunksZero} zero)`],
        ['sent', formatBytes(r.bytesSent)],
        ['duration', `${(r.durationMs / 1000).toFixed(1)} s`],
      ];
    }
    case 'restore': {
      const r = parse(RestoreResult);
      if (!r) break;
      if (r.verifyOnly) {
        return [
          ['deep verify', `${r.backupId} at site ${r.site}: every chunk decrypted and checked with the key, nothing written`],
          ['read', `${formatBytes(r.bytesWritten)} (${r.chunksFetched} chunks fetched)`],
          ['duration', `${(r.durationMs / 1000).toFixed(1)} s`],
        ];
      }
      return [
        ['backup', `${r.backupId} from site ${r.site}`],
        ['target', r.targetDir],
        ...r.disks.map((d): [string, string] => ['disk', `${d.name} → ${d.path} (${formatBytes(d.sizeBytes)})`]),
        ['written', formatBytes(r.bytesWritten)],
        ['chunks', `${r.chunksFetched} fetched`],
        ['duration', `${(r.durationMs / 1000).toFixed(1)} s`],
      ];
    }
    case 'sync': {
      const r = parse(SyncResult);
      if (!r) break;
      const lines: [string, string][] = [
        ['sync', `${r.sourceSite} → ${r.site} (${r.mode})`],
        ['copied', `${r.copied.length} backup(s): ${r.copied.map((b) => b.backupId).join(', ') || '-'}`],
        ['present', `${r.backupsAlreadyPresent} backup(s) already there`],
        ['chunks', `${r.chunksCopied} copied (${formatBytes(r.bytesCopied)})`],
      ];
      if (r.backupsPrunedAtReplica > 0) lines.push(['pruned', `${r.backupsPrunedAtReplica} backup(s) pruned at the replica: not copied again`]);
      if (r.resumes > 0) lines.push(['resumed', `${r.resumes} time(s) after the link failed`]);
      for (const f of r.failed) lines.push(['not copied', `${f.backupId} (${f.vm}): ${f.error}`]);
      lines.push(['duration', `${(r.durationMs / 1000).toFixed(1)} s`]);
      return lines;
    }
    case 'verify': {
      const r = parse(VerifyResult);
      if (!r) break;
      const lines: [string, string][] = [
        ['site', r.site],
        ['checked', `${r.backupsChecked} backup(s), ${r.chunksChecked} chunk(s), ${formatBytes(r.bytesChecked)}`],
        ['damaged', `${r.chunks.length} chunk(s), ${r.damagedFiles.length} file(s)`],
        ['repaired', String(r.repaired)],
        ['unrepaired', String(r.unrepaired)],
      ];
      if (r.verifiedAt) lines.push(['verified at', formatTime(r.verifiedAt)]);
      if (r.skippedBackupIds.length > 0) {
        lines.push(['skipped', `${r.skippedBackupIds.length} backup(s) verified recently (--force checks them too)`]);
      }
      for (const c of r.chunks) {
        lines.push(['chunk', `${c.digest.slice(0, 16)}… ${c.problem}: ${c.outcome}${c.peer ? ` from ${c.peer}` : ''}`]);
      }
      for (const f of r.damagedFiles) lines.push(['file', `${f.backupId} ${f.file}: ${f.problem}`]);
      lines.push(['duration', `${(r.durationMs / 1000).toFixed(1)} s`]);
      return lines;
    }
    case 'prune': {
      const r = parse(PruneResult);
      if (!r) break;
      return [
        ['site', `${r.site}${r.dryRun ? ' (dry run: nothing removed)' : ''}`],
        ['kept', `${r.kept.length} backup(s)`],
        [r.dryRun ? 'would remove' : 'removed', `${r.removed.length} backup(s): ${r.removed.map((d) => d.backupId).join(', ') || '-'}`],
        ['duration', `${(r.durationMs / 1000).toFixed(1)} s`],
      ];
    }
    case 'gc': {
      const r = parse(GcResult);
      if (!r) break;
      return [
        ['site', `${r.site}${r.dryRun ? ' (dry run: nothing removed)' : ''}`],
        ['chunks', `${r.chunksScanned} scanned, ${r.chunksReferenced} referenced, ${r.chunksInGrace} unreferenced within the grace period`],
        [r.dryRun ? 'would remove' : 'removed', `${r.chunksRemoved} chunk(s), ${formatBytes(r.bytesReclaimed)}`],
        ['duration', `${(r.durationMs / 1000).toFixed(1)} s`],
      ];
    }
    case 'lock': {
      const r = parse(LockResult);
      if (!r) break;
      return [['locked', `${r.backupId} at site ${r.site} until ${formatTime(r.lockedUntil)}`]];
    }
    default:
      break;
  }
  return [['result', job.resultJson]];
}

/**
 * A prune's decisions as a table: every backup it looked at, newest first per VM, with "remove"
 * or the rules that keep it; then one summary line.
 */
export function printPruneDecisions(job: Job__Output): void {
  const parsed = PruneResult.safeParse(parseJsonText(job.resultJson));
  if (!parsed.success) {
    printJob(job);
    return;
  }
  const r = parsed.data;
  const removeWord = r.dryRun ? 'remove' : 'removed';
  const rows: [PruneDecision, string][] = [
    ...r.kept.map((d): [PruneDecision, string] => [d, d.keptBy.join(', ')]),
    ...r.removed.map((d): [PruneDecision, string] => [d, removeWord]),
  ];
  rows.sort(([a], [b]) => a.vm.localeCompare(b.vm) || b.createdAt.localeCompare(a.createdAt) || b.backupId.localeCompare(a.backupId));
  printTable(
    ['BACKUP', 'VM', 'CREATED', r.dryRun ? 'DECISION' : 'OUTCOME'],
    rows.map(([d, decision]) => [d.backupId, d.vm, formatTime(d.createdAt), decision]),
    'no backups to consider',
  );
  const total = r.kept.length + r.removed.length;
  console.log(
    r.dryRun
      ? `dry run at site ${r.site}: ${r.removed.length} of ${total} backup(s) would be removed; nothing was removed`
      : `site ${r.site}: ${r.removed.length} of ${total} backup(s) removed (job ${job.id})`,
  );
}
