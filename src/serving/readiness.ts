/**
 * Readiness of a slot for one version, as the seed's model publisher should
 * have checked it: TF Serving answers HTTP 200 while a version is still
 * LOADING, so only the body counts — the version listed with state AVAILABLE
 * and error code OK — followed by one smoke prediction that must be finite
 * and shaped [1, 1] — on every replica of the slot, since its Service spreads
 * calls over them all (issue 24, item 5). By TF Serving's REST API (default) or its gRPC API
 * (ModelService.GetModelStatus + PredictionService.Predict).
 */
import { FailureType } from '../failure-types';
import * as grpc from '@grpc/grpc-js';
import { loadServingProtos } from '../savedmodel/serving-protos';
import { backoffCeiling, sleep, type BackoffPolicy } from './backoff';
import { serviceDefinition } from './slot/grpc-api';
import { SIGNATURE_NAME } from '../savedmodel/serving-contract';
import { modelUrl, predictUrlFor } from '../messaging/predict-url';
import type { Replica } from './replicas';

export interface ReadinessCheck {
  baseUrl: string;
  /** 'rest' (default) or 'grpc' (needs grpcAddress) */
  api?: 'rest' | 'grpc';
  /** host:port of the slot's gRPC API */
  grpcAddress?: string;
  slot: string;
  version: number;
  /** epoch ms; give up after this */
  deadlineMs: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /**
   * every replica to check, resolved again on each poll (src/serving/replicas.ts);
   * default: the one at baseUrl / grpcAddress
   */
  replicas?: () => Promise<Replica[]>;
  /** called after every poll (heartbeats), may throw to abort */
  onPoll?: (poll: { polls: number; state: string; detail: string }) => void;
  signal?: AbortSignal;
}

export class ReadinessDeadlineError extends Error {
  override name = FailureType.ReadinessDeadline;
}

/** The slot tried and failed to load the version: waiting longer cannot help. */
export class VersionLoadFailedError extends Error {
  override name = FailureType.VersionLoadFailed;
}

interface StatusBody {
  model_version_status?: { version: string; state: string; status?: { error_code?: string; error_message?: string } }[];
}

async function getJson(url: string, init: RequestInit, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text: it goes into the error message
  }
  return { status: res.status, body };
}

/** One poll: the state of `version` as the slot reports it, or why it can't be read. */
export async function pollVersionState(baseUrl: string, slot: string, version: number): Promise<{ state: string; detail: string }> {
  try {
    const { status, body } = await getJson(modelUrl(baseUrl, slot, version), {}, 5000);
    if (status === 404) return { state: 'NOT_FOUND', detail: JSON.stringify(body) };
    if (status !== 200) return { state: 'ERROR', detail: `HTTP ${status}: ${JSON.stringify(body)}` };
    const entry = (body as StatusBody).model_version_status?.find((s) => s.version === String(version));
    if (!entry) return { state: 'NOT_LISTED', detail: JSON.stringify(body) };
    const code = entry.status?.error_code ?? 'OK';
    if (code !== 'OK') return { state: `FAILED`, detail: `${entry.state} ${code}: ${entry.status?.error_message ?? ''}` };
    return { state: entry.state, detail: '' };
  } catch (err) {
    return { state: 'UNREACHABLE', detail: (err as Error).message };
  }
}

export async function smokePredict(baseUrl: string, slot: string, version: number): Promise<number> {
  const url = predictUrlFor(baseUrl, slot, version);
  const { status, body } = await getJson(
    url,
    { method: 'POST', body: JSON.stringify({ signature_name: SIGNATURE_NAME, instances: [{ users: [0], products: [0] }] }) },
    10_000,
  );
  if (status !== 200) throw new Error(`smoke prediction: HTTP ${status} from ${url}: ${JSON.stringify(body)}`);
  const predictions = (body as { predictions?: unknown }).predictions;
  if (!Array.isArray(predictions) || predictions.length !== 1 || !Array.isArray(predictions[0]) || predictions[0].length !== 1) {
    throw new Error(`smoke prediction: expected predictions of shape [1,1], got ${JSON.stringify(body).slice(0, 200)}`);
  }
  const value = predictions[0][0] as unknown;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`smoke prediction is not finite: ${String(value)}`);
  return value;
}

const STATE_NAMES: Record<number, string> = { 0: 'UNKNOWN', 10: 'START', 20: 'LOADING', 30: 'AVAILABLE', 40: 'UNLOADING', 50: 'END' };

type UnaryCall = (
  request: object,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: unknown) => void,
) => void;

/** A TF Serving gRPC client for one slot address: ModelService and PredictionService. */
export class TfServingGrpcClient {
  private readonly models: grpc.Client;
  private readonly predictions: grpc.Client;

  constructor(address: string) {
    const { ModelService, PredictionService } = loadServingProtos();
    const credentials = grpc.credentials.createInsecure();
    this.models = new (grpc.makeGenericClientConstructor(serviceDefinition(ModelService), 'ModelService'))(address, credentials);
    this.predictions = new (grpc.makeGenericClientConstructor(serviceDefinition(PredictionService), 'PredictionService'))(
      address,
      credentials,
      {
        'grpc.max_receive_message_length': -1,
      },
    );
  }

  private call(client: grpc.Client, method: string, request: object, timeoutMs: number): Promise<unknown> {
    const fn = (client as unknown as Record<string, UnaryCall>)[method].bind(client);
    return new Promise((resolve, reject) =>
      fn(request, { deadline: Date.now() + timeoutMs }, (err, response) => (err ? reject(err) : resolve(response))),
    );
  }

  getModelStatus(name: string, version?: number, timeoutMs = 5000) {
    return this.call(
      this.models,
      'GetModelStatus',
      { modelSpec: { name, ...(version === undefined ? {} : { version: { value: version } }) } },
      timeoutMs,
    ) as Promise<{
      modelVersionStatus?: { version?: number; state?: number; status?: { errorCode?: number; errorMessage?: string } }[];
    }>;
  }

  predict(request: object, timeoutMs = 10_000) {
    return this.call(this.predictions, 'Predict', request, timeoutMs) as Promise<{
      outputs?: Record<string, { tensorShape?: { dim?: { size?: number }[] }; tensorContent?: Uint8Array; floatVal?: number[] }>;
    }>;
  }

  close(): void {
    this.models.close();
    this.predictions.close();
  }
}

/** One poll by gRPC GetModelStatus, in the same terms as pollVersionState. */
export async function pollVersionStateGrpc(
  client: TfServingGrpcClient,
  slot: string,
  version: number,
): Promise<{ state: string; detail: string }> {
  try {
    const response = await client.getModelStatus(slot, version);
    const entry = response.modelVersionStatus?.find((s) => s.version === version);
    if (!entry) return { state: 'NOT_LISTED', detail: JSON.stringify(response) };
    const state = STATE_NAMES[entry.state ?? 0] ?? `STATE_${entry.state}`;
    const code = entry.status?.errorCode ?? 0;
    if (code !== 0) return { state: 'FAILED', detail: `${state} error code ${code}: ${entry.status?.errorMessage ?? ''}` };
    return { state, detail: '' };
  } catch (err) {
    const e = err as grpc.ServiceError;
    if (e.code === grpc.status.NOT_FOUND) return { state: 'NOT_FOUND', detail: e.details };
    if (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED) return { state: 'UNREACHABLE', detail: e.message };
    return { state: 'ERROR', detail: e.message };
  }
}

export async function smokePredictGrpc(client: TfServingGrpcClient, slot: string, version: number): Promise<number> {
  const ids = { dtype: 3 /* DT_INT32 */, tensorShape: { dim: [{ size: 1 }, { size: 1 }] }, intVal: [0] };
  const response = await client.predict({
    modelSpec: { name: slot, version: { value: version }, signatureName: SIGNATURE_NAME },
    inputs: { users: ids, products: ids },
  });
  const out = response.outputs?.predictions;
  const dims = (out?.tensorShape?.dim ?? []).map((d) => d.size ?? 0);
  if (!out || dims.length !== 2 || dims[0] !== 1 || dims[1] !== 1)
    throw new Error(`smoke prediction (gRPC): expected predictions of shape [1,1], got ${JSON.stringify(dims)}`);
  const content = out.tensorContent && out.tensorContent.length === 4 ? Buffer.from(out.tensorContent).readFloatLE(0) : out.floatVal?.[0];
  if (typeof content !== 'number' || !Number.isFinite(content))
    throw new Error(`smoke prediction (gRPC) is not finite: ${String(content)}`);
  return content;
}

/** Why a wait was cut short: the signal's reason (the activity's cancellation) when it is an Error. */
function abortReason(signal: AbortSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new Error('aborted');
}

type State = { state: string; detail: string };

/** Polls every replica once; AVAILABLE only when each is, else the first replica that is not (named). */
async function pollReplicas(
  replicas: readonly Replica[],
  check: ReadinessCheck,
  clientOf: ((r: Replica) => TfServingGrpcClient) | undefined,
): Promise<State> {
  if (replicas.length === 0) return { state: 'NO_REPLICAS', detail: 'no replica address resolved' };
  const states = await Promise.all(
    replicas.map((r) =>
      clientOf ? pollVersionStateGrpc(clientOf(r), check.slot, check.version) : pollVersionState(r.baseUrl, check.slot, check.version),
    ),
  );
  const i = states.findIndex((s) => s.state !== 'AVAILABLE');
  if (i < 0) return { state: 'AVAILABLE', detail: replicas.length > 1 ? `${replicas.length} replicas` : '' };
  const where = replicas.length > 1 ? `replica ${replicas[i].baseUrl}` : '';
  return { state: states[i].state, detail: [where, states[i].detail].filter(Boolean).join(': ') };
}

/** One gRPC client per replica address, kept for the whole wait. */
function grpcClientFor(clients: Map<string, TfServingGrpcClient>, address: string): TfServingGrpcClient {
  let client = clients.get(address);
  if (!client) clients.set(address, (client = new TfServingGrpcClient(address)));
  return client;
}

/** The replicas to check now (resolved again every poll: the set changes as pods come and go). */
async function currentReplicas(check: ReadinessCheck): Promise<Replica[] | State> {
  if (!check.replicas) return [{ baseUrl: check.baseUrl, grpcAddress: check.grpcAddress ?? '' }];
  try {
    return await check.replicas();
  } catch (err) {
    return { state: 'UNREACHABLE', detail: `resolving the replicas: ${(err as Error).message}` };
  }
}

/**
 * Polls every replica with exponential back-off until each reports the
 * version AVAILABLE, then smoke-predicts on each; returns the predict URL
 * (the slot's Service address, which spreads calls over those replicas).
 */
export async function waitUntilServing(check: ReadinessCheck): Promise<{ predictUrl: string; polls: number; smokePrediction: number }> {
  const backoff: BackoffPolicy = { initialMs: check.initialDelayMs ?? 250, maxMs: check.maxDelayMs ?? 5000 };
  let polls = 0;
  let last: State = { state: 'NOT_POLLED', detail: '' };
  if (check.api === 'grpc' && !check.grpcAddress) throw new Error(`readiness by gRPC needs the gRPC address of slot ${check.slot}`);
  const clients = new Map<string, TfServingGrpcClient>();
  const clientOf = check.api === 'grpc' ? (r: Replica) => grpcClientFor(clients, r.grpcAddress) : undefined;
  try {
    let replicas: Replica[] = [];
    for (;;) {
      const resolved = await currentReplicas(check);
      replicas = Array.isArray(resolved) ? resolved : [];
      last = Array.isArray(resolved) ? await pollReplicas(resolved, check, clientOf) : resolved;
      polls += 1;
      check.onPoll?.({ polls, ...last });
      if (last.state === 'AVAILABLE') break;
      if (last.state === 'FAILED' || last.state === 'END') {
        throw new VersionLoadFailedError(`slot ${check.slot} could not load version ${check.version}: ${last.detail || last.state}`);
      }
      const left = check.deadlineMs - Date.now();
      if (left <= 0) {
        throw new ReadinessDeadlineError(
          `slot ${check.slot} did not report version ${check.version} AVAILABLE before the deadline (${polls} polls; last: ${last.state}${last.detail ? ` ${last.detail}` : ''})`,
        );
      }
      // one poller per slot, so no jitter: the delays double from initialDelayMs to maxDelayMs
      if (!(await sleep(Math.min(backoffCeiling(polls - 1, backoff), left), check.signal))) throw abortReason(check.signal);
    }
    let smokePrediction = Number.NaN;
    for (const r of replicas) {
      smokePrediction = clientOf
        ? await smokePredictGrpc(clientOf(r), check.slot, check.version)
        : await smokePredict(r.baseUrl, check.slot, check.version);
    }
    return { predictUrl: predictUrlFor(check.baseUrl, check.slot, check.version), polls, smokePrediction };
  } finally {
    for (const c of clients.values()) c.close();
  }
}
