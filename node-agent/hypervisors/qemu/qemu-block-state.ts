/**
 * What a QEMU process holds, read over QMP, and the rules that find a VM's disks and our own
 * objects in it.
 *
 * Disk discovery: a VM (qemu-system) lists its devices in `query-block`; every device with an
 * inserted medium is a disk, named by its BlockBackend name, else its qdev id, else its node name.
 * qemu-storage-daemon has no devices: there a disk is a *top format node*, a node whose driver is
 * an image format (qcow2, raw, ...) that is not the `file`/`backing` child of another format node,
 * ignoring our own nodes and filters (so a disk under an open view still counts); it is named by
 * its node name. A bare protocol node (driver `file`) is not a disk: put a `raw` node over it.
 * Bitmaps and the fleecing job always attach to the disk's format node, found by following the
 * `file` child of filter nodes (throttle, copy-before-write) down from the device's node.
 *
 * Ours: everything the driver creates in QEMU is named `bulwark-...` (fleece nodes, jobs, exports,
 * dirty bitmaps `bulwark-<checkpoint ULID>`), so a crashed run's leftovers can be found.
 */
import { z } from 'zod';
import type { QmpClient } from './qmp-client.js';

/** Prefix of every node, job, export and bitmap the driver creates. */
export const OURS_PREFIX = 'bulwark-';

const CHECKPOINT_BITMAP = /^bulwark-([0-9A-HJKMNP-TV-Z]{26})$/;

/** The dirty bitmap name of a checkpoint. */
export function checkpointBitmap(checkpoint: string): string {
  return `${OURS_PREFIX}${checkpoint}`;
}

/** The checkpoint id of one of our bitmaps, or null for any other bitmap. */
export function checkpointOf(bitmapName: string): string | null {
  return CHECKPOINT_BITMAP.exec(bitmapName)?.[1] ?? null;
}

/** Image format drivers: a node with one of these holds a disk's contents and can carry bitmaps. */
const FORMAT_DRIVERS = new Set([
  'qcow2', 'raw', 'qed', 'qcow', 'vmdk', 'vdi', 'vhdx', 'vpc', 'luks', 'parallels', 'bochs', 'cloop', 'dmg',
]);

/** Whether a node of this driver can store persistent bitmaps (raw and the others cannot). */
export function canPersistBitmaps(drv: string): boolean {
  return drv === 'qcow2';
}

const DirtyBitmapInfo = z.object({
  name: z.string(),
  recording: z.boolean(),
  busy: z.boolean(),
  persistent: z.boolean(),
  count: z.number(),
  granularity: z.number(),
  inconsistent: z.boolean().optional(),
});
export type DirtyBitmapInfo = z.infer<typeof DirtyBitmapInfo>;
// Jobs add anonymous bitmaps (no name) to the nodes they work on; they are not ours to see.
const AnyBitmap = DirtyBitmapInfo.extend({ name: z.string().optional() });

const NamedBlockNodes = z.array(
  z.object({
    'node-name': z.string(),
    drv: z.string(),
    file: z.string(),
    image: z.object({ 'virtual-size': z.number() }),
    'dirty-bitmaps': z.array(AnyBitmap).optional(),
  }),
);

const BlockGraph = z.object({
  nodes: z.array(z.object({ id: z.number(), name: z.string(), type: z.string() })),
  edges: z.array(z.object({ parent: z.number(), child: z.number(), name: z.string() })),
});

const BlockDevices = z.array(
  z.object({
    device: z.string(),
    qdev: z.string().optional(),
    inserted: z.object({ 'node-name': z.string() }).optional(),
  }),
);

const BlockExports = z.array(z.object({ id: z.string(), 'node-name': z.string(), 'shutting-down': z.boolean() }));

const BlockJobs = z.array(z.object({ device: z.string(), type: z.string() }));

/** One block node (query-named-block-nodes). */
export interface BlockNode {
  readonly nodeName: string;
  readonly drv: string;
  /** The image file name QEMU reports (for our overlays: the overlay's path). */
  readonly filename: string;
  readonly virtualSizeBytes: number;
  readonly bitmaps: readonly DirtyBitmapInfo[];
}

/** A disk of the VM. */
export interface DiscoveredDisk {
  readonly name: string;
  /** The format node: bitmaps, the fleecing job and the overlay's backing attach here. */
  readonly node: BlockNode;
}

/** A snapshot of the block layer of one QEMU process. */
export interface BlockState {
  readonly nodes: ReadonlyMap<string, BlockNode>;
  /** Child edges of each block node by node name: edge name ('file', 'backing', ...) and child node name. */
  readonly children: ReadonlyMap<string, readonly { readonly edge: string; readonly child: string }[]>;
  /** Block-node parents of each block node, by node name. */
  readonly parents: ReadonlyMap<string, readonly string[]>;
  readonly devices: z.infer<typeof BlockDevices>;
  readonly exports: z.infer<typeof BlockExports>;
  /** Block job ids. */
  readonly jobs: readonly string[];
}

/** Reads nodes, graph, devices, exports and jobs (five queries on one connection). */
export async function readBlockState(qmp: QmpClient): Promise<BlockState> {
  const list = await qmp.execute('query-named-block-nodes', { flat: true }, { returns: NamedBlockNodes });
  // x-debug-query-block-graph is the only query that names a node's children (QEMU >= 4.0).
  const graph = await qmp.execute('x-debug-query-block-graph', undefined, { returns: BlockGraph });
  const devices = await qmp.execute('query-block', undefined, { returns: BlockDevices });
  const exports = await qmp.execute('query-block-exports', undefined, { returns: BlockExports });
  const jobs = await qmp.execute('query-block-jobs', undefined, { returns: BlockJobs });

  const nodes = new Map<string, BlockNode>();
  for (const n of list) {
    nodes.set(n['node-name'], {
      nodeName: n['node-name'],
      drv: n.drv,
      filename: n.file,
      virtualSizeBytes: n.image['virtual-size'],
      bitmaps: (n['dirty-bitmaps'] ?? []).flatMap((b) => (b.name === undefined ? [] : [{ ...b, name: b.name }])),
    });
  }
  const driverNodeName = new Map<number, string>();
  for (const g of graph.nodes) if (g.type === 'block-driver') driverNodeName.set(g.id, g.name);
  const children = new Map<string, { edge: string; child: string }[]>();
  const parents = new Map<string, string[]>();
  for (const e of graph.edges) {
    const parent = driverNodeName.get(e.parent);
    const child = driverNodeName.get(e.child);
    if (parent === undefined || child === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), { edge: e.name, child }]);
    parents.set(child, [...(parents.get(child) ?? []), parent]);
  }
  return { nodes, children, parents, devices, exports, jobs: jobs.map((j) => j.device) };
}

/** Whether a node, job or export name is one of ours. */
export function isOurs(name: string): boolean {
  return name.startsWith(OURS_PREFIX);
}

/** The VM's disks by the rule in the header: devices with a medium, else top format nodes. */
export function findDisks(state: BlockState): DiscoveredDisk[] {
  const found: { name: string; node: BlockNode }[] = [];
  const withMedium = state.devices.filter((d) => d.inserted !== undefined);
  if (withMedium.length > 0) {
    for (const device of withMedium) {
      const top = device.inserted?.['node-name'];
      const node = top === undefined ? undefined : formatNodeUnder(state, top);
      if (node === undefined) continue;
      found.push({ name: deviceDiskName(device.device, device.qdev, node.nodeName), node });
    }
  } else {
    const tops = [...state.nodes.values()]
      .filter((n) => FORMAT_DRIVERS.has(n.drv) && !isOurs(n.nodeName))
      .filter((n) => !(state.parents.get(n.nodeName) ?? []).some((p) => isUserFormatNode(state, p)))
      .sort((a, b) => (a.nodeName < b.nodeName ? -1 : a.nodeName > b.nodeName ? 1 : 0));
    for (const node of tops) found.push({ name: safeName(node.nodeName), node });
  }
  return uniqueNames(found);
}

function isUserFormatNode(state: BlockState, nodeName: string): boolean {
  const node = state.nodes.get(nodeName);
  return node !== undefined && FORMAT_DRIVERS.has(node.drv) && !isOurs(nodeName);
}

/** Follows the `file` child of filter nodes down to the first format node (or the last node). */
function formatNodeUnder(state: BlockState, nodeName: string): BlockNode | undefined {
  let node = state.nodes.get(nodeName);
  for (let depth = 0; node !== undefined && !FORMAT_DRIVERS.has(node.drv) && depth < 16; depth++) {
    const file = (state.children.get(node.nodeName) ?? []).find((c) => c.edge === 'file');
    if (file === undefined) break;
    node = state.nodes.get(file.child);
  }
  return node;
}

function deviceDiskName(device: string, qdev: string | undefined, nodeName: string): string {
  if (device !== '') return safeName(device);
  if (qdev !== undefined && qdev !== '') {
    if (!qdev.includes('/')) return safeName(qdev);
    const id = /^\/machine\/peripheral\/([^/]+)/.exec(qdev)?.[1];
    if (id !== undefined) return safeName(id);
  }
  return safeName(nodeName);
}

/** A disk name must be one path component of letters, digits, '.', '_', '-' (shared/ids.ts ObjectName). */
function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[^A-Za-z0-9]+/, '');
  return (cleaned === '' ? 'disk' : cleaned).slice(0, 128);
}

function uniqueNames(disks: { name: string; node: BlockNode }[]): DiscoveredDisk[] {
  const seen = new Set<string>();
  return disks.map((d) => {
    let name = d.name;
    for (let n = 2; seen.has(name); n++) name = `${d.name}-${n}`;
    seen.add(name);
    return { name, node: d.node };
  });
}

/** Our checkpoint bitmaps on a node, oldest first (ULIDs sort by time). */
export function checkpointBitmaps(node: BlockNode): DirtyBitmapInfo[] {
  return node.bitmaps.filter((b) => checkpointOf(b.name) !== null).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
