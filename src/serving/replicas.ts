/**
 * Every replica of a slot, for the readiness check (issue 24, item 5): a
 * Service spreads predict calls over all replicas, so the URL may be
 * published only once each of them serves the version. With
 * SLOT_REPLICAS_HOST (in Kubernetes a headless Service: one A record per
 * ready replica) each address is checked on the slot's ports; without it the
 * slot's own address is the one replica (the local stack, Compose).
 */
import { lookup } from 'node:dns/promises';
import type { SlotConfig } from '../config';

/** One replica's REST base URL and gRPC address. */
export interface Replica {
  baseUrl: string;
  grpcAddress: string;
}

export type ResolveAll = (host: string) => Promise<{ address: string; family: number }[]>;

const resolveAll: ResolveAll = (host) => lookup(host, { all: true });

/** The addresses behind `host` as replicas of `slot` (its ports, each address once; IPv6 in brackets). */
export async function slotReplicas(
  slot: SlotConfig,
  replicasHost: string | undefined,
  resolve: ResolveAll = resolveAll,
): Promise<Replica[]> {
  if (!replicasHost) return [{ baseUrl: slot.baseUrl, grpcAddress: slot.grpcAddress }];
  const addresses = [...new Set((await resolve(replicasHost)).map((a) => (a.family === 6 ? `[${a.address}]` : a.address)))];
  return addresses.sort().map((host) => ({ baseUrl: `http://${host}:${slot.port}`, grpcAddress: `${host}:${slot.grpcPort}` }));
}
