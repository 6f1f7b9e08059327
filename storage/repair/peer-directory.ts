/**
 * The other sites' storages this storage may ask for good copies (repair) or sync with: from the
 * config's `peers` (site, optional address, the credential presented there), with addresses also
 * learned from the peers' heartbeats and from jobs (the controller knows where every storage
 * is). One long-lived client per peer, reopened when its address changes. A site with no known
 * address is skipped until one is learned.
 */
import type { Logger } from '../../shared/log.js';
import type { PeerStore } from '../replication/peer-store.js';

export interface PeerSpec {
  readonly site: string;
  /** host:port from the config; absent: learned. */
  readonly address?: string | undefined;
  /** The bearer token this storage presents at that peer; absent: none. */
  readonly token?: string | undefined;
}

/** Opens a client of a peer storage (gRPC in production). */
export type OpenPeer = (site: string, address: string, token: string | undefined) => PeerStore;

/** What repair needs: the peers to ask, in order. */
export interface PeerProvider {
  /** Peers with a known address, in config order, leaving out `excludeSites`. */
  list(excludeSites?: readonly string[]): PeerStore[];
}

interface Entry {
  readonly spec: PeerSpec;
  address: string | undefined;
  store: PeerStore | undefined;
}

export class PeerDirectory implements PeerProvider {
  private readonly entries = new Map<string, Entry>();

  constructor(
    /** This storage's own site: never a peer. */
    private readonly site: string,
    specs: readonly PeerSpec[],
    private readonly open: OpenPeer,
    private readonly log: Logger,
  ) {
    for (const spec of specs) {
      if (spec.site === site) continue;
      this.entries.set(spec.site, { spec, address: spec.address, store: undefined });
    }
  }

  /** The sites configured as peers. */
  get sites(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * A storage at `site` announced `address` (a heartbeat, a job's parameters). A configured
   * address wins; a site not configured as a peer is ignored (no credential for it).
   */
  learn(site: string, address: string): void {
    const entry = this.entries.get(site);
    if (!entry || entry.spec.address !== undefined || entry.address === address) return;
    this.log.info({ peer: site, address }, 'peer address learned');
    entry.store?.close();
    entry.store = undefined;
    entry.address = address;
  }

  /** The client of one peer, or undefined when its address is unknown or it is not a configured peer. */
  get(site: string): PeerStore | undefined {
    const entry = this.entries.get(site);
    if (!entry || entry.address === undefined) return undefined;
    entry.store ??= this.open(site, entry.address, entry.spec.token);
    return entry.store;
  }

  /** The credential configured for a peer site (for a sync job's own connection). */
  tokenOf(site: string): string | undefined {
    return this.entries.get(site)?.spec.token;
  }

  list(excludeSites: readonly string[] = []): PeerStore[] {
    const out: PeerStore[] = [];
    for (const site of this.entries.keys()) {
      if (excludeSites.includes(site)) continue;
      const store = this.get(site);
      if (store) out.push(store);
    }
    return out;
  }

  close(): void {
    for (const entry of this.entries.values()) {
      entry.store?.close();
      entry.store = undefined;
    }
  }
}
