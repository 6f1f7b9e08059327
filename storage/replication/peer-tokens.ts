/**
 * The credential this storage presents to each peer site (config `peers[].token` or
 * `peers[].tokenFile`): read once at start, so a missing file stops the daemon with a message
 * naming the field instead of failing the first sync or repair.
 */
import { readTokenSource } from '../../shared/config/token-source.js';
import type { StorageConfig } from '../config.js';

/** Site → token, for the peers that have one (the others are called without a token). */
export function loadPeerTokens(peers: StorageConfig['peers'], source: string): ReadonlyMap<string, string> {
  const tokens = new Map<string, string>();
  peers.forEach((peer, i) => {
    const token = readTokenSource(peer, source, `peers.${i}.token`);
    if (token !== undefined) tokens.set(peer.site, token);
  });
  return tokens;
}
