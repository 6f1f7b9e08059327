/**
 * virsh, run without a shell (execFile) against one libvirt URI, and the little of its output and
 * XML the libvirt driver needs: disk lists, sizes, checkpoint names, the running backup job's
 * exports. Domains and checkpoints are always passed as option values (`--domain X`), so a name
 * starting with "-" is never taken for an option. virsh's messages are read in the C locale.
 */
import { execFile } from 'node:child_process';
import { NotFoundError } from '../../../shared/errors.js';
import { LibvirtCommandError, LibvirtUnavailableError } from './libvirt-errors.js';

const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** A disk device of a domain, from `domblklist --details`. */
export interface DomainDisk {
  /** The target device name (vda, sdb): the name of the disk in backups and of its NBD export. */
  readonly target: string;
  /** 'file', 'block', 'network', 'volume'. */
  readonly type: string;
  /** The source path or name, or null (empty drive). */
  readonly source: string | null;
}

/** One disk of a running backup job, from `backup-dumpxml`. */
export interface BackupJobDisk {
  readonly name: string;
  readonly backup: boolean;
  readonly exportName: string | null;
  readonly exportBitmap: string | null;
  readonly scratchFile: string | null;
}

/** The running backup job of a domain, from `backup-dumpxml`. */
export interface BackupJobInfo {
  readonly mode: string | null;
  readonly incremental: string | null;
  readonly host: string | null;
  readonly port: number | null;
  readonly disks: readonly BackupJobDisk[];
}

/** Runs virsh commands against one libvirt URI. */
export class Virsh {
  constructor(
    readonly uri: string,
    private readonly timeoutMs: number,
  ) {}

  /** Runs `virsh -q -c <uri> <args>` and returns its stdout; libvirt's errors become typed errors. */
  run(args: readonly string[]): Promise<string> {
    const command = args[0] ?? '';
    return new Promise((resolve, reject) => {
      execFile(
        'virsh',
        ['-q', '-c', this.uri, ...args],
        { timeout: this.timeoutMs, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
        (err, stdout, stderr) => {
          if (!err) {
            resolve(stdout);
            return;
          }
          reject(this.errorOf(command, args, err, stderr));
        },
      );
    });
  }

  /** The disk devices of a domain (cdroms, floppies and luns left out), in libvirt's order. */
  async disks(domain: string): Promise<DomainDisk[]> {
    return parseDomblklist(await this.run(['domblklist', '--domain', domain, '--details']));
  }

  /** A disk's virtual size in bytes. */
  async capacityBytes(domain: string, target: string): Promise<number> {
    const out = await this.run(['domblkinfo', '--domain', domain, '--device', target]);
    const m = /^Capacity:\s+(\d+)\s*$/m.exec(out);
    if (!m?.[1]) throw new LibvirtCommandError('domblkinfo', `no capacity in the output: ${out.trim().slice(0, 200)}`);
    return Number(m[1]);
  }

  /** The names of the domain's checkpoints (sorted by name). */
  async checkpoints(domain: string): Promise<string[]> {
    const out = await this.run(['checkpoint-list', '--domain', domain, '--name']);
    return out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
      .sort();
  }

  /** The domain's running backup job, or null when it has none. */
  async backupJob(domain: string): Promise<BackupJobInfo | null> {
    try {
      return parseBackupXml(await this.run(['backup-dumpxml', '--domain', domain]));
    } catch (err) {
      if (err instanceof LibvirtCommandError && /no domain backup job/i.test(err.libvirtMessage)) return null;
      throw err;
    }
  }

  private errorOf(command: string, args: readonly string[], err: Error, stderr: string): Error {
    const message = libvirtMessageOf(stderr) || err.message;
    if ('code' in err && err.code === 'ENOENT') return new LibvirtUnavailableError(this.uri, 'virsh is not installed (Debian package libvirt-clients)', { cause: err });
    if (/failed to connect to the hypervisor/i.test(message)) return new LibvirtUnavailableError(this.uri, message, { cause: err });
    if (/failed to get domain|Domain not found/i.test(message)) {
      const i = args.indexOf('--domain');
      return new NotFoundError('libvirt domain', args[i + 1] ?? '?');
    }
    const timedOut = 'killed' in err && err.killed === true;
    return new LibvirtCommandError(command, timedOut ? `no answer within ${this.timeoutMs} ms` : message, { cause: err, timedOut });
  }
}

/** libvirt's error lines ("error: ...") without the prefix, joined. */
export function libvirtMessageOf(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => l.replace(/^error:\s*/, ''))
    .join(': ');
}

/** Parses `virsh -q domblklist --details`: "Type Device Target Source" rows; keeps `disk` devices. */
export function parseDomblklist(out: string): DomainDisk[] {
  const disks: DomainDisk[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, type = '', device = '', target = '', rest = ''] = m;
    // Without -q a header and a dashed rule come first.
    if (device !== 'disk' || type === 'Type') continue;
    const source = rest.trim();
    disks.push({ target, type, source: source === '' || source === '-' ? null : source });
  }
  return disks;
}

/** Parses `virsh backup-dumpxml` (only the attributes the driver reads). */
export function parseBackupXml(xml: string): BackupJobInfo {
  const root = attributesOf(/<domainbackup\b([^>]*)>/.exec(xml)?.[1] ?? '');
  const server = attributesOf(/<server\b([^>]*)\/?>/.exec(xml)?.[1] ?? '');
  const incremental = /<incremental>([^<]*)<\/incremental>/.exec(xml)?.[1];
  const disks: BackupJobDisk[] = [];
  for (const m of xml.matchAll(/<disk\b([^>]*?)(\/>|>([\s\S]*?)<\/disk>)/g)) {
    const a = attributesOf(m[1] ?? '');
    const scratch = attributesOf(/<scratch\b([^>]*)\/?>/.exec(m[3] ?? '')?.[1] ?? '');
    const name = a.get('name');
    if (name === undefined) continue;
    disks.push({
      name,
      backup: a.get('backup') !== 'no',
      exportName: a.get('exportname') ?? null,
      exportBitmap: a.get('exportbitmap') ?? null,
      scratchFile: scratch.get('file') ?? null,
    });
  }
  const port = server.get('port');
  return {
    mode: root.get('mode') ?? null,
    incremental: incremental === undefined ? null : unescapeXml(incremental),
    host: server.get('name') ?? null,
    port: port === undefined ? null : Number(port),
    disks,
  };
}

function attributesOf(text: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const m of text.matchAll(/([\w:-]+)\s*=\s*(?:'([^']*)'|"([^"]*)")/g)) {
    if (m[1] !== undefined) attrs.set(m[1], unescapeXml(m[2] ?? m[3] ?? ''));
  }
  return attrs;
}

/** Escapes text for an XML attribute or element. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>'"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|apos|quot|#(\d+)|#x([0-9a-fA-F]+));/g, (all, name: string, dec?: string, hex?: string) => {
    if (dec !== undefined) return String.fromCodePoint(Number(dec));
    if (hex !== undefined) return String.fromCodePoint(parseInt(hex, 16));
    return ({ amp: '&', lt: '<', gt: '>', apos: "'", quot: '"' } as Record<string, string>)[name] ?? all;
  });
}

/** The `<domainbackup mode='pull'>` document of a backup-begin. */
export function pullBackupXml(options: {
  readonly incremental: string | null;
  readonly host: string;
  readonly port: number;
  readonly disks: readonly { readonly target: string; readonly scratchFile: string }[];
}): string {
  const lines = ["<domainbackup mode='pull'>"];
  if (options.incremental !== null) lines.push(`  <incremental>${escapeXml(options.incremental)}</incremental>`);
  lines.push(`  <server transport='tcp' name='${escapeXml(options.host)}' port='${options.port}'/>`, '  <disks>');
  for (const d of options.disks) {
    lines.push(
      `    <disk name='${escapeXml(d.target)}' backup='yes' type='file'>`,
      `      <driver type='qcow2'/>`,
      `      <scratch file='${escapeXml(d.scratchFile)}'/>`,
      '    </disk>',
    );
  }
  lines.push('  </disks>', '</domainbackup>', '');
  return lines.join('\n');
}

/** The `<domaincheckpoint>` document of a new checkpoint (every disk that can have one gets a bitmap). */
export function checkpointXml(name: string, description: string): string {
  return `<domaincheckpoint>\n  <name>${escapeXml(name)}</name>\n  <description>${escapeXml(description)}</description>\n</domaincheckpoint>\n`;
}
