/**
 * The slot's one implementation of TF Serving's API, which the REST and the
 * gRPC front ends both call (as TF Serving's http_rest_api_handler and its
 * gRPC services share one implementation): finding the servable for a model
 * name and version, the version status list, the signature for metadata,
 * predict through the batcher, and the metrics of each call. The front ends
 * only decode requests and encode answers; errors carry TF Serving's codes,
 * which each front end maps to its own (HTTP status, gRPC status).
 */
import { PredictBatcher, type BatchingOptions } from './batcher';
import type { ModelManager } from './manager';
import type { Loaded, Signature, VersionStatus } from './servable';
import { BadRequestError } from './predict-request';
import { scoreColumns } from './scoring';
import type { SlotMetrics } from './slot-metrics';
import { modelStatusNotFound, notFound } from './tf-serving-json';

export type ServingCode = 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'INTERNAL';

/** A failure with TF Serving's error code (and, for REST, 413 when a body is over the limit). */
export class ServingError extends Error {
  override name = 'ServingError';
  constructor(
    readonly code: ServingCode,
    message: string,
  ) {
    super(message);
  }
}

export type Api = 'rest' | 'grpc';

/** The id columns of a request, decoded against the servable's signature (throws BadRequestError when malformed). */
export type DecodeColumns = (signature: Signature) => { columns: Record<string, Int32Array>; size: number };

export interface Prediction {
  version: number;
  signature: Signature;
  scores: Float32Array;
}

export class PredictionService {
  private readonly batcher: PredictBatcher<Loaded>;

  constructor(
    readonly name: string,
    private readonly manager: ModelManager,
    private readonly metrics: SlotMetrics,
    batching: BatchingOptions,
  ) {
    this.batcher = new PredictBatcher<Loaded>(batching);
  }

  /** The AVAILABLE servable for `name` and `version` (latest when absent); NOT_FOUND otherwise. */
  servable(name: string, version?: number): Loaded {
    const servable = name === this.name ? this.manager.servable(version) : undefined;
    if (!servable) throw new ServingError('NOT_FOUND', notFound(name, version));
    return servable;
  }

  /** Every version's status (or one version's); NOT_FOUND when there is none. */
  statuses(name: string, version?: number): VersionStatus[] {
    const all = name !== this.name ? [] : version === undefined ? this.manager.statusList() : [this.manager.status(version)];
    const statuses = all.filter((s): s is VersionStatus => s !== undefined);
    if (statuses.length === 0) throw new ServingError('NOT_FOUND', modelStatusNotFound(name, version));
    return statuses;
  }

  /** Scores one predict call (batched with concurrent ones); accounts it in the metrics whatever happens. */
  async predict(api: Api, name: string, version: number | undefined, decode: DecodeColumns): Promise<Prediction> {
    const started = process.hrtime.bigint();
    let outcome = 'ok';
    try {
      const servable = this.servable(name, version);
      const { columns, size } = decode(servable.signature);
      const scores = await this.batcher.score(servable, (c, n) => scoreColumns(servable.model, c, n), columns, size);
      this.metrics.predictRows.inc({ api }, size);
      return { version: servable.version, signature: servable.signature, scores };
    } catch (error) {
      outcome = outcomeOf(error);
      throw error;
    } finally {
      this.metrics.predictCalls.inc({ api, outcome });
      this.metrics.predictSeconds.observe({ api }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /** Accounts a call refused before it reached a servable (e.g. a method other than predict). */
  refused(api: Api, error: unknown): void {
    this.metrics.predictCalls.inc({ api, outcome: outcomeOf(error) });
  }

  /** Combined session runs so far and the calls in them (calls/runs = the mean batch). */
  batchingStats(): { runs: number; calls: number } {
    return { ...this.batcher.stats };
  }
}

/** The metrics' outcome label of a failed call. */
function outcomeOf(error: unknown): string {
  if (error instanceof ServingError)
    return error.code === 'NOT_FOUND' ? 'not_found' : error.code === 'INVALID_ARGUMENT' ? 'invalid' : 'error';
  if (error instanceof BadRequestError) return error.status === 404 ? 'not_found' : 'invalid';
  return 'error';
}
