/**
 * Temporal connections (client and worker) from configuration: the address
 * and namespace the project resolved, with TLS, API key and gRPC metadata
 * from Temporal's own client profile (@temporalio/envconfig), so a
 * `temporal.toml` profile or TEMPORAL_TLS_* / TEMPORAL_API_KEY variables work
 * here exactly as they do for the temporal CLI.
 */
import { Client, Connection } from '@temporalio/client';
import { toClientOptions, type ClientConnectConfig } from '@temporalio/envconfig';
import type { Config } from '../config';

export function connectionOptions(cfg: Config['temporal']): ClientConnectConfig['connectionOptions'] {
  return toClientOptions({ ...cfg.profile, address: cfg.address, namespace: cfg.namespace }).connectionOptions;
}

export async function connectClient(cfg: Config['temporal']): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(cfg));
  return new Client({ connection, namespace: cfg.namespace });
}
