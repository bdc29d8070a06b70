/**
 * Online evaluators on the real Kafka whose MinIO connections go through a
 * proxy the test can hold (holding-proxy.ts): the lag and health tests'
 * common set-up.
 */
import { loadConfig } from '../../src/config';
import { startOnlineEvaluator, type OnlineEvaluator } from '../../src/evaluation/evaluator';
import { TOPIC_ROLES } from '../../src/evaluation/join-state';
import { silentLog } from '../../src/process/json-log';
import { holdingProxy, type HoldingProxy } from './holding-proxy';
import type { EvaluatorRig } from './rig';
import type { Traffic } from './traffic';

/** The proxy in front of the rig's MinIO and a starter of evaluators behind it (each consuming when returned); `cleanups` gets their closes. */
export async function heldEvaluators(
  r: EvaluatorRig,
  cleanups: (() => Promise<void>)[],
): Promise<{ proxy: HoldingProxy; start: () => Promise<OnlineEvaluator> }> {
  const minio = new URL(r.env.MINIO_ENDPOINT ?? 'http://127.0.0.1:9000');
  const proxy = await holdingProxy(minio.hostname, Number(minio.port || 80));
  cleanups.push(proxy.close);
  const config = loadConfig({ ...r.env, MINIO_ENDPOINT: proxy.endpoint });
  const start = async () => {
    const e = await startOnlineEvaluator({ config, port: 0, defaultMetrics: false, log: silentLog });
    cleanups.push(() => e.close());
    await e.whenConsuming();
    return e;
  };
  return { proxy, start };
}

/** Each role's messages sent as one topic after the other. */
export async function sendByRole(r: EvaluatorRig, traffic: Traffic): Promise<void> {
  for (const role of TOPIC_ROLES) await r.send(role, traffic[role]);
}
