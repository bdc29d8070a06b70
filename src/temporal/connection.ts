/** Temporal connections (client and worker) from configuration, with optional TLS. */
import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import type { Config } from '../config';

function tlsOptions(cfg: Config['temporal']): TLSConfig | undefined {
  if (!cfg.tls) return undefined;
  const read = (p?: string) => (p ? fs.readFileSync(p) : undefined);
  const crt = read(cfg.tls.certPath);
  const key = read(cfg.tls.keyPath);
  return {
    serverNameOverride: cfg.tls.serverName,
    serverRootCACertificate: read(cfg.tls.caPath),
    clientCertPair: crt && key ? { crt, key } : undefined,
  };
}

export function connectionOptions(cfg: Config['temporal']): { address: string; tls?: TLSConfig } {
  return { address: cfg.address, tls: tlsOptions(cfg) };
}

export async function connectClient(cfg: Config['temporal']): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(cfg));
  return new Client({ connection, namespace: cfg.namespace });
}
