/**
 * trainModel: reads the referenced purchase history, trains and evaluates
 * with the ML core on the native backend, and stores the candidate (tfjs
 * model + metadata + metrics + loss plot) in MinIO. Heartbeats carry the
 * progress (epoch, batch, loss) that the web UI shows; once per epoch the
 * workflow is signalled too, so its `status` query has it. A retried attempt
 * starts cleanly: the candidate prefix is per run and overwritten whole.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import * as tf from '@tensorflow/tfjs-node';
import { renderModelReport, trainRecommender, type RecommenderMetrics, type TrainingOptionsInput } from '../ml';
import { encodeDotProductWeights } from '../ml/dot-weights';
import { buildLinearMetadata } from '../ml/metadata';
import { trainLinearRecommender, type LinearMetrics } from '../ml/linear/linear-recommender';
import { describeSelection } from '../ml/linear/selection';
import type { CandidateMetrics } from '../workflows/gate';
import { scoreActiveOnSplit } from './active-score';
import { tfjsFiles, type TfjsModelArtifacts } from '../savedmodel/lineage';
import { trainingProgressSignal } from '../workflows/definitions';
import type { CandidateRef, DataRef, ModelMetrics, Objective, RunTrainingOptions } from '../workflows/types';
import { dataKeys, readHistory } from './data';
import type { ActivityDeps } from './deps';
import { sha256Hex } from '../digest/sha256';

export const CANDIDATE_FILES = {
  modelJson: 'model.json',
  weights: 'weights.bin',
  metadata: 'metadata.json',
  metrics: 'metrics.json',
  loss: 'loss.svg',
};
/** Candidate files of the linear (dot-product) family: header + the two tables. */
export const DOT_CANDIDATE_FILES = { header: 'dot-model.json', weights: 'dot-weights.bin' };

/** No objective given, or 'linear': the item-to-item default; 'implicit' and 'seed' keep the MLP. */
const isLinear = (o: RunTrainingOptions) => o.objective === undefined || o.objective === 'linear';

export function toTrainingInput(o: RunTrainingOptions): TrainingOptionsInput {
  return {
    // only the network objectives reach here (see isLinear); an unknown name fails the options' schema, not retried
    mode: o.objective as TrainingOptionsInput['mode'],
    ...(o.epochs !== undefined && { epochs: o.epochs }),
    ...(o.batchSize !== undefined && { batchSize: o.batchSize }),
    ...(o.embeddingDim !== undefined && { embeddingDim: o.embeddingDim }),
    ...(o.learningRate !== undefined && { learningRate: o.learningRate }),
    ...(o.negatives !== undefined && { negatives: o.negatives }),
    ...(o.evalUsers !== undefined && { maxEvalUsers: o.evalUsers }),
    ...(o.seed !== undefined && { seed: o.seed }),
  };
}

export function linearModelMetrics(m: LinearMetrics): ModelMetrics {
  const objective: Objective = 'linear';
  const e = m.evaluation;
  if (!e)
    return {
      objective,
      hitRate10: NaN,
      ndcg10: NaN,
      popularityHitRate10: NaN,
      popularityNdcg10: NaN,
      valLoss: NaN,
      rmse: NaN,
      evaluatedUsers: 0,
      protocol: m.notEvaluatedReason ?? '',
    };
  return {
    objective,
    hitRate10: e.hr10,
    ndcg10: e.ndcg10,
    popularityHitRate10: e.popularity.hr10,
    popularityNdcg10: e.popularity.ndcg10,
    valLoss: NaN,
    rmse: NaN,
    evaluatedUsers: e.users,
    protocol: e.protocol,
    ...(m.selection && { selection: describeSelection(m.selection) }),
  };
}

export function toModelMetrics(m: RecommenderMetrics): ModelMetrics {
  if (!m.evaluated) {
    return {
      objective: m.mode,
      hitRate10: NaN,
      ndcg10: NaN,
      popularityHitRate10: NaN,
      popularityNdcg10: NaN,
      valLoss: m.valLoss ?? NaN,
      rmse: NaN,
      evaluatedUsers: 0,
      protocol: m.notEvaluatedReason,
    };
  }
  return {
    objective: m.mode,
    hitRate10: m.hr10,
    ndcg10: m.ndcg10,
    popularityHitRate10: m.popularity.hr10,
    popularityNdcg10: m.popularity.ndcg10,
    valLoss: m.valLoss ?? m.heldOutLoss,
    rmse: m.rmse,
    evaluatedUsers: m.users,
    protocol: m.protocol,
  };
}

async function modelArtifacts(model: tf.LayersModel): Promise<TfjsModelArtifacts> {
  let saved: TfjsModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts as TfjsModelArtifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved) throw new Error('tfjs did not hand over the model artifacts');
  return saved;
}

export function trainActivities(deps: ActivityDeps) {
  const keys = dataKeys(deps);
  return {
    async trainModel(input: { data: DataRef; options: RunTrainingOptions; candidatePrefix: string }): Promise<CandidateRef> {
      const ctx = Context.current();
      const started = Date.now();
      const { history, sha256 } = await readHistory(deps, { ...keys, bucket: input.data.bucket, transactions: input.data.transactionsKey });
      if (sha256 !== input.data.sha256) {
        throw ApplicationFailure.nonRetryable(
          `purchase history changed since refreshData (sha256 ${sha256.slice(0, 12)}… ≠ ${input.data.sha256.slice(0, 12)}…); start a new run`,
          'BadInputError',
        );
      }
      const wf = ctx.info.workflowExecution;
      const workflow = deps.temporal && wf ? deps.temporal.workflow.getHandle(wf.workflowId, wf.runId) : undefined;
      if (isLinear(input.options)) {
        const linear = await trainLinearRecommender(
          history,
          {
            ...(input.options.seed !== undefined && { seed: input.options.seed }),
            ...(input.options.evalUsers !== undefined && { maxEvalUsers: input.options.evalUsers }),
          },
          {
            signal: ctx.cancellationSignal,
            onProgress: (p) => {
              if (p.kind === 'evaluate') ctx.heartbeat({ evaluating: true, scored: p.scored, users: p.users });
              else if (p.kind === 'epoch') ctx.heartbeat({ epoch: p.epoch, epochs: p.epochs, loss: p.loss });
            },
          },
        );
        const { header, data } = encodeDotProductWeights(linear.weights);
        const metadata = buildLinearMetadata(history, linear.metrics.options, linear.weights.dim, linear.split?.users.length ?? 0);
        const metrics: CandidateMetrics = linearModelMetrics(linear.metrics);
        if (linear.split) Object.assign(metrics, await scoreActiveOnSplit(deps, linear.split, (p) => ctx.heartbeat(p)));
        const bucket = deps.config.buckets.models;
        const put = (name: string, body: Buffer, type: string) =>
          deps.minio.putObject(bucket, `${input.candidatePrefix}/${name}`, body, undefined, { 'Content-Type': type });
        await put(DOT_CANDIDATE_FILES.weights, data, 'application/octet-stream');
        await put(DOT_CANDIDATE_FILES.header, header, 'application/json');
        await put(CANDIDATE_FILES.metadata, Buffer.from(`${JSON.stringify(metadata, null, 2)}\n`), 'application/json');
        await put(
          CANDIDATE_FILES.metrics,
          Buffer.from(`${JSON.stringify({ ...linear.metrics, sameSplit: metrics }, null, 2)}\n`),
          'application/json',
        );
        return {
          bucket,
          prefix: input.candidatePrefix,
          digest: sha256Hex(data),
          userRows: metadata.userRows,
          productRows: metadata.productRows,
          metrics,
          trainingSeconds: (Date.now() - started) / 1000,
        };
      }
      const trained = await trainRecommender(history, toTrainingInput(input.options), {
        signal: ctx.cancellationSignal,
        onProgress: (p) => {
          if (p.kind === 'batch') {
            ctx.heartbeat({ epoch: p.epoch, epochs: p.epochs, batch: p.batch, batches: p.batches, loss: p.loss });
          } else if (p.kind === 'epoch') {
            const progress = { epoch: p.epoch, epochs: p.epochs, loss: p.loss, valLoss: p.valLoss ?? undefined };
            ctx.heartbeat(progress);
            // best effort: the status query is a convenience, the heartbeat is the record
            workflow?.signal(trainingProgressSignal, progress).catch(() => undefined);
          } else {
            ctx.heartbeat({ evaluating: true, scored: p.scored, users: p.users });
          }
        },
      });
      try {
        const files = tfjsFiles(await modelArtifacts(trained.model));
        const report = renderModelReport(trained);
        const bucket = deps.config.buckets.models;
        const put = (name: string, body: Buffer, type: string) =>
          deps.minio.putObject(bucket, `${input.candidatePrefix}/${name}`, body, undefined, { 'Content-Type': type });
        await put(CANDIDATE_FILES.weights, files.weightsBin, 'application/octet-stream');
        await put(CANDIDATE_FILES.modelJson, files.modelJson, 'application/json');
        await put(CANDIDATE_FILES.metadata, report['metadata.json'], 'application/json');
        await put(CANDIDATE_FILES.metrics, report['metrics.json'], 'application/json');
        await put(CANDIDATE_FILES.loss, report['loss.svg'], 'image/svg+xml');
        return {
          bucket,
          prefix: input.candidatePrefix,
          digest: sha256Hex(files.weightsBin),
          userRows: trained.metadata.userRows,
          productRows: trained.metadata.productRows,
          metrics: toModelMetrics(trained.metrics),
          trainingSeconds: (Date.now() - started) / 1000,
        };
      } finally {
        trained.dispose();
      }
    },
  };
}
