/**
 * trainModel: reads the referenced purchase history, trains and evaluates
 * with the ML core on the native backend, and stores the candidate (tfjs
 * model + metadata + metrics + loss plot) in MinIO. Heartbeats carry the
 * progress (epoch, batch, loss) that the web UI shows; once per epoch the
 * workflow is signalled too, so its `status` query has it. A retried attempt
 * starts cleanly: the candidate prefix is per run and overwritten whole.
 */
import { FailureType } from '../failure-types';
import { ApplicationFailure, Context } from '@temporalio/activity';
import * as tf from '@tensorflow/tfjs-node';
import { renderModelReport, trainRecommender, type PurchaseHistory, type RecommenderMetrics, type TrainingOptionsInput } from '../ml';
import { encodeDotProductWeights } from '../ml/dot-weights';
import { buildLinearMetadata } from '../ml/metadata';
import { trainLinearRecommender, type LinearMetrics } from '../ml/linear/linear-recommender';
import { describeSelection } from '../ml/linear/selection';
import type { CandidateMetrics } from '../workflows/gate';
import { scoreActiveOnSplit } from './active-score';
import { tfjsFiles, type TfjsModelArtifacts } from '../savedmodel/tfjs-files';
import { trainingProgressSignal } from '../workflows/definitions';
import type { CandidateRef, DataRef, ModelMetrics, Objective, RunTrainingOptions } from '../workflows/types';
import { dataKeys, readHistory } from './data';
import { mappingFailures } from './failures';
import type { ActivityDeps } from './deps';
import { sha256Hex } from '../digest/sha256';
import { CANDIDATE_FILES, DOT_CANDIDATE_FILES, writeCandidate } from '../store/candidates';

const jsonFile = (value: unknown): Buffer => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);

/** What a candidate was trained on, kept in its metadata (and so its lineage): the data trigger counts new purchases from it. */
const withHistory = (metadata: object, data: DataRef) => ({
  ...metadata,
  history: { bucket: data.bucket, key: data.transactionsKey, sha256: data.sha256 },
});

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

type TrainInput = { data: DataRef; options: RunTrainingOptions; candidatePrefix: string };

/** The history refreshData referenced, refused if its bytes changed since (a new run must train on it). */
async function readReferencedHistory(deps: ActivityDeps, data: DataRef): Promise<PurchaseHistory> {
  const { history, sha256 } = await readHistory(deps, { ...dataKeys(deps), bucket: data.bucket, transactions: data.transactionsKey });
  if (sha256 !== data.sha256) {
    throw ApplicationFailure.nonRetryable(
      `purchase history changed since refreshData (sha256 ${sha256.slice(0, 12)}… ≠ ${data.sha256.slice(0, 12)}…); start a new run`,
      FailureType.BadInput,
    );
  }
  return history;
}

/** The linear default: trained, scored against the active model on the same split, stored as dot-product tables. */
async function trainLinear(deps: ActivityDeps, input: TrainInput, history: PurchaseHistory, started: number): Promise<CandidateRef> {
  const ctx = Context.current();
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
        // closed-form steps: the selection's decompositions and λ, then the final fit (no loss to show)
        else if (p.kind === 'epoch') ctx.heartbeat({ epoch: p.epoch, epochs: p.epochs, stage: p.epoch < p.epochs ? 'selection' : 'fit' });
      },
    },
  );
  const { header, data } = encodeDotProductWeights(linear.weights);
  const metadata = buildLinearMetadata(history, linear.metrics.options, linear.weights.dim, linear.split?.users.length ?? 0);
  const metrics: CandidateMetrics = linearModelMetrics(linear.metrics);
  if (linear.split) Object.assign(metrics, await scoreActiveOnSplit(deps, linear.split, (p) => ctx.heartbeat(p)));
  const bucket = deps.config.buckets.models;
  await writeCandidate(deps.minio, bucket, input.candidatePrefix, [
    { name: DOT_CANDIDATE_FILES.weights, body: data, contentType: 'application/octet-stream' },
    { name: DOT_CANDIDATE_FILES.header, body: header, contentType: 'application/json' },
    { name: CANDIDATE_FILES.metadata, body: jsonFile(withHistory(metadata, input.data)), contentType: 'application/json' },
    { name: CANDIDATE_FILES.metrics, body: jsonFile({ ...linear.metrics, sameSplit: metrics }), contentType: 'application/json' },
  ]);
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

/** The network family (seed, implicit): heartbeats per batch, progress signalled to the workflow per epoch. */
async function trainNetwork(deps: ActivityDeps, input: TrainInput, history: PurchaseHistory, started: number): Promise<CandidateRef> {
  const ctx = Context.current();
  const wf = ctx.info.workflowExecution;
  const workflow = deps.temporal && wf ? deps.temporal.workflow.getHandle(wf.workflowId, wf.runId) : undefined;
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
    await writeCandidate(deps.minio, bucket, input.candidatePrefix, [
      { name: CANDIDATE_FILES.weights, body: files.weightsBin, contentType: 'application/octet-stream' },
      { name: CANDIDATE_FILES.modelJson, body: files.modelJson, contentType: 'application/json' },
      {
        name: CANDIDATE_FILES.metadata,
        body: jsonFile(withHistory(JSON.parse(report['metadata.json'].toString('utf8')) as object, input.data)),
        contentType: 'application/json',
      },
      { name: CANDIDATE_FILES.metrics, body: report['metrics.json'], contentType: 'application/json' },
      { name: CANDIDATE_FILES.loss, body: report['loss.svg'], contentType: 'image/svg+xml' },
    ]);
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
}

export function trainActivities(deps: ActivityDeps) {
  return {
    async trainModel(input: TrainInput): Promise<CandidateRef> {
      return mappingFailures(async () => {
        const started = Date.now();
        const history = await readReferencedHistory(deps, input.data);
        return isLinear(input.options) ? trainLinear(deps, input, history, started) : trainNetwork(deps, input, history, started);
      });
    },
  };
}
