/**
 * trainModel: reads the referenced purchase history, trains and evaluates
 * with the ML core on the native backend, and stores the candidate (tfjs
 * model + metadata + metrics + loss plot) in MinIO. Heartbeats carry the
 * progress (epoch, batch, loss) that the web UI shows; once per epoch the
 * workflow is signalled too, so its `status` query has it. A retried attempt
 * starts cleanly: the candidate prefix is per run and overwritten whole.
 * The worker runs all of it in a child process (train-in-child.ts); this
 * module is what that child runs.
 */
import { FailureType } from '../failure-types';
import { ApplicationFailure, Context } from '@temporalio/activity';
import * as tf from '@tensorflow/tfjs-node';
import { renderModelReport, trainRecommender, type PurchaseHistory, type RecommenderMetrics, type TrainingOptionsInput } from '../ml';
import { encodeDotProductWeights } from '../ml/dot-weights';
import { buildLinearMetadata } from '../ml/metadata';
import { trainLinearRecommender, type LinearMetrics } from '../ml/linear/linear-recommender';
import { describeSelection } from '../ml/linear/selection';
import { describeRepeatBoost } from '../ml/linear/repeat-boost';
import { describeLowRankSelection } from '../ml/lowrank/lowrank-selection';
import type { CandidateMetrics } from '../workflows/gate';
import { scoreActiveOnSplit, type RepeatBoostRecord } from './active-score';
import type { HoldoutSplit } from '../ml/holdout';
import { tfjsFiles, type TfjsModelArtifacts } from '../savedmodel/tfjs-files';
import { trainingProgressSignal } from '../workflows/definitions';
import type { CandidateRef, DataRef, ModelMetrics, Objective, RunTrainingOptions, TrainingHeartbeat } from '../workflows/types';
import { dataKeys, readHistory } from './data';
import { mappingFailures } from './failures';
import type { ActivityDeps, TrainDeps } from './deps';
import { trainInChild } from './train-in-child';
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
    ...((m.selection || m.repeatBoost || m.lowRank?.selection) && {
      selection: [
        m.selection && describeSelection(m.selection),
        m.repeatBoost && describeRepeatBoost(m.repeatBoost),
        m.lowRank?.selection && describeLowRankSelection(m.lowRank.selection),
      ]
        .filter(Boolean)
        .join('; '),
    }),
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

export type TrainInput = { data: DataRef; options: RunTrainingOptions; candidatePrefix: string };

/**
 * Where training reports while it runs: `heartbeat` details are what the
 * web UI shows; `epoch` is a heartbeat that the workflow is signalled too
 * (its `status` query). In the training child these go to the parent over
 * IPC; in process they go to the activity's context.
 */
export interface TrainingReporter {
  heartbeat(detail: unknown): void;
  epoch(progress: TrainingHeartbeat): void;
  signal: AbortSignal;
}

/** The history refreshData referenced, refused if its bytes changed since (a new run must train on it). */
async function readReferencedHistory(deps: TrainDeps, data: DataRef): Promise<PurchaseHistory> {
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
async function trainLinear(
  deps: TrainDeps,
  input: TrainInput,
  history: PurchaseHistory,
  report: TrainingReporter,
  started: number,
): Promise<CandidateRef> {
  const linear = await trainLinearRecommender(
    history,
    {
      ...(input.options.seed !== undefined && { seed: input.options.seed }),
      ...(input.options.evalUsers !== undefined && { maxEvalUsers: input.options.evalUsers }),
    },
    {
      signal: report.signal,
      onProgress: (p) => {
        if (p.kind === 'evaluate') report.heartbeat({ evaluating: true, scored: p.scored, users: p.users });
        // closed-form steps: the selection's decompositions and λ, then the final fit (no loss to show)
        else if (p.kind === 'epoch')
          report.heartbeat({ epoch: p.epoch, epochs: p.epochs, stage: p.epoch < p.epochs ? 'selection' : 'fit' });
      },
    },
  );
  const { header, data } = encodeDotProductWeights(linear.weights);
  const chosen = linear.metrics.repeatBoost?.chosen;
  const metadata = {
    ...buildLinearMetadata(history, linear.metrics.options, linear.weights.dim, linear.split?.users.length ?? 0),
    // what the served scores add to a customer's own products: scoring this model as the active one takes it off (active-score.ts)
    ...(chosen && chosen.beta !== 0 && { repeatBoost: { beta: chosen.beta, alpha: chosen.alpha, heldOut: heldOutPairs(linear.split) } }),
  };
  const metrics: CandidateMetrics = linearModelMetrics(linear.metrics);
  if (linear.split) Object.assign(metrics, await scoreActiveOnSplit(deps, linear.split, (p) => report.heartbeat(p)));
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

/**
 * The history pairs the served user rows leave out: the served tables are
 * fitted on the evaluation's training part, so each evaluated customer's
 * held-out product is not in their row (and gets no repeat boost).
 */
function heldOutPairs(split: HoldoutSplit | undefined): RepeatBoostRecord['heldOut'] {
  return { users: Array.from(split?.users ?? []), products: Array.from(split?.products ?? []) };
}

/** The network family (seed, implicit): heartbeats per batch, progress signalled to the workflow per epoch. */
async function trainNetwork(
  deps: TrainDeps,
  input: TrainInput,
  history: PurchaseHistory,
  report: TrainingReporter,
  started: number,
): Promise<CandidateRef> {
  const trained = await trainRecommender(history, toTrainingInput(input.options), {
    signal: report.signal,
    onProgress: (p) => {
      if (p.kind === 'batch') {
        report.heartbeat({ epoch: p.epoch, epochs: p.epochs, batch: p.batch, batches: p.batches, loss: p.loss });
      } else if (p.kind === 'epoch') {
        report.epoch({ epoch: p.epoch, epochs: p.epochs, loss: p.loss, valLoss: p.valLoss ?? undefined });
      } else {
        report.heartbeat({ evaluating: true, scored: p.scored, users: p.users });
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

/**
 * One training, start to stored candidate, on this thread: what the training
 * child runs (src/training/child.ts). Failures come out mapped (toActivityFailure).
 */
export function trainCandidate(deps: TrainDeps, input: TrainInput, report: TrainingReporter): Promise<CandidateRef> {
  return mappingFailures(async () => {
    const started = Date.now();
    const history = await readReferencedHistory(deps, input.data);
    return isLinear(input.options)
      ? trainLinear(deps, input, history, report, started)
      : trainNetwork(deps, input, history, report, started);
  });
}

/** Reports to the running activity itself (the in-process path: the benchmark's anchor). */
export function activityReporter(deps: Pick<ActivityDeps, 'temporal'>): TrainingReporter {
  const ctx = Context.current();
  const wf = ctx.info.workflowExecution;
  const workflow = deps.temporal && wf ? deps.temporal.workflow.getHandle(wf.workflowId, wf.runId) : undefined;
  return {
    heartbeat: (detail) => ctx.heartbeat(detail),
    epoch: (progress) => {
      ctx.heartbeat(progress);
      // best effort: the status query is a convenience, the heartbeat is the record
      workflow?.signal(trainingProgressSignal, progress).catch(() => undefined);
    },
    signal: ctx.cancellationSignal,
  };
}

/** trainModel on the activity's own thread: kept as the anchor of `npm run bench:event-loop`, not hosted by the worker. */
export function trainModelInProcess(deps: ActivityDeps, input: TrainInput): Promise<CandidateRef> {
  return trainCandidate(deps, input, activityReporter(deps));
}

export function trainActivities(deps: ActivityDeps) {
  return {
    /**
     * Trains in a child process (./train-in-child.ts): TensorFlow's
     * synchronous work would otherwise hold this worker's event loop, which
     * also completes workflow tasks and sends heartbeats.
     */
    async trainModel(input: TrainInput): Promise<CandidateRef> {
      return trainInChild(deps, input, activityReporter(deps));
    },
  };
}
