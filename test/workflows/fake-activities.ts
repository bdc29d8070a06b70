/**
 * In-memory stand-ins for the activities, to test the workflow's own logic
 * (ordering, gate, clean-up, retries, waiting) on Temporal's time-skipping
 * test server (./harness.ts) and to record histories on the dev server
 * (record-histories.ts). The real activities are tested against real
 * MinIO/Kafka elsewhere.
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { trainingOptionsSchema } from '../../src/ml/network/options';
import { mappingFailures } from '../../src/activities/failures';
import { FailureType } from '../../src/failure-types';
import type { ServingActivities, TrainingActivities } from '../../src/workflows/activity-interfaces';
import type { CandidateRef, DeploymentState, ModelMetrics } from '../../src/workflows/types';
import { emptyVersion } from '../../src/evaluation/figures';
import { summariseOnline } from '../../src/evaluation/online-summary';

export function metrics(hitRate10: number): ModelMetrics {
  return {
    objective: 'implicit',
    hitRate10,
    ndcg10: hitRate10 / 2,
    popularityHitRate10: 0.1,
    popularityNdcg10: 0.05,
    valLoss: 0.3,
    rmse: 0.5,
    evaluatedUsers: 100,
    protocol: 'test',
  };
}

export interface FakeWorld {
  calls: string[];
  published: Map<string, string>;
  state: DeploymentState;
  removed: { slot: string; version: number }[];
  candidateHitRate: number;
  readiness: 'ok' | 'deadline';
  failPublishOnce: boolean;
  trainingDelayMs: number;
  publishDelayMs: number;
  /** exportSavedModel takes this long and ignores a cancel (an export that finishes after the run was cancelled) */
  exportDelayMs: number;
  /** trainModel checks its options with the ML core's real schema (a ZodError for an unknown objective) */
  checkTrainingOptions: boolean;
  /** applyRetention skips its run as if this deploy held the lock */
  retentionHeldBy?: string;
  /** another run holds the deploy lock for this long (server time) after the first attempt to take it */
  lockHeldForMs: number;
  /** server time of each attempt to take the deploy lock */
  lockAttemptsAtMs: number[];
  /** the readiness activity fails retryably on every attempt (e.g. the serving worker cannot reach the slot) */
  readinessUnreachable: boolean;
  /** server time of each readiness attempt */
  readinessAttemptsAtMs: number[];
  /** what each readiness attempt was asked (its limit) */
  readinessInputs: Parameters<ServingActivities['waitForStandbyReady']>[0][];
  /** the lease generation each registry call carried (getDeploymentState, commitActiveSlot) */
  registryFences: (number | undefined)[];
  /** the server's clock: the time-skipping server's skipped time, not the wall clock */
  clock: () => Promise<number>;
  /** followed purchases the online evaluator joined to the active version's answers (hits: a third) */
  onlineFollowed: number;
  /** refreshData says the data trigger started the run, with this reason */
  dataTrigger?: string;
}

export function fakeWorld(partial: Partial<FakeWorld> = {}): FakeWorld {
  return {
    onlineFollowed: 0,
    calls: [],
    published: new Map(),
    state: { active: null, standbySlot: 'recommender', maxVersion: 0, history: [] },
    removed: [],
    candidateHitRate: 0.3,
    readiness: 'ok',
    failPublishOnce: false,
    trainingDelayMs: 0,
    publishDelayMs: 0,
    exportDelayMs: 0,
    checkTrainingOptions: false,
    lockHeldForMs: 0,
    lockAttemptsAtMs: [],
    readinessUnreachable: false,
    readinessAttemptsAtMs: [],
    readinessInputs: [],
    registryFences: [],
    clock: async () => Date.now(),
    ...partial,
  };
}

export function fakeTrainingActivities(world: FakeWorld): TrainingActivities {
  return {
    async refreshData() {
      world.calls.push('refreshData');
      return {
        bucket: 'data',
        transactionsKey: 'recommender/transactions.csv',
        usersKey: 'recommender/users.csv',
        sha256: 'abc',
        rows: 10,
        badLines: 0,
        badLineSamples: [],
        customers: 5,
        products: 5,
        purchases: 20,
        ...(world.dataTrigger && { trigger: world.dataTrigger }),
      };
    },
    async trainModel({ candidatePrefix, options }) {
      world.calls.push('trainModel');
      if (world.checkTrainingOptions) await mappingFailures(async () => trainingOptionsSchema.parse({ mode: options.objective }));
      if (world.trainingDelayMs) {
        const { Context } = await import('@temporalio/activity');
        const ctx = Context.current();
        const end = Date.now() + world.trainingDelayMs;
        while (Date.now() < end) {
          ctx.heartbeat({ epoch: 1, epochs: 1 });
          await ctx.sleep(100);
        }
      }
      const candidate: CandidateRef = {
        bucket: 'models',
        prefix: candidatePrefix,
        digest: 'd1',
        userRows: 5,
        productRows: 5,
        metrics: metrics(world.candidateHitRate),
        trainingSeconds: 1,
      };
      return candidate;
    },
    async getDeploymentState(input) {
      world.calls.push('getDeploymentState');
      world.registryFences.push(input?.leaseGeneration);
      return world.state;
    },
    async getOnlineFigures({ slot, version }) {
      world.calls.push(`getOnlineFigures ${slot}/${version}`);
      return summariseOnline({
        ...emptyVersion(slot, version),
        followed: world.onlineFollowed,
        hits: Math.floor(world.onlineFollowed / 3),
      });
    },
    async exportSavedModel({ slot, version }) {
      world.calls.push(`exportSavedModel ${slot}/${version}`);
      if (world.exportDelayMs) await new Promise((r) => setTimeout(r, world.exportDelayMs));
      return { slot, version, bucket: 'models', prefix: `${slot}/${version}/`, digest: 'x', bytes: 1, seconds: 0.1 };
    },
    async publishModelUrl({ key, url: given, slot, version }) {
      world.calls.push(`publishModelUrl ${key}`);
      // the real activity builds the URL from the configured slot; histories may still pass one
      const url = given ?? `http://fake-slot/v1/models/${slot}/versions/${version}:predict`;
      if (world.publishDelayMs) await new Promise((r) => setTimeout(r, world.publishDelayMs));
      const first = !world.published.has(key);
      if (first) world.published.set(key, url);
      if (world.failPublishOnce) {
        world.failPublishOnce = false;
        // the record went out but the acknowledgement was lost: the retry must not publish again
        throw new Error('simulated lost acknowledgement');
      }
      return { key, url, published: first, partition: 0, offset: '0' };
    },
    async commitActiveSlot({ slot, version, url, metrics: m, kind, leaseGeneration }) {
      world.calls.push(`commitActiveSlot ${slot}/${version}`);
      world.registryFences.push(leaseGeneration);
      const d = { slot, version, url, metrics: m, kind, workflowId: 'w', runId: 'r', deployedAt: new Date().toISOString() };
      world.state = {
        active: d,
        standbySlot: slot === 'recommender' ? 'recommender1' : 'recommender',
        maxVersion: version,
        history: [...world.state.history, d],
      };
      return world.state;
    },
    async acquireDeployLock() {
      world.calls.push('acquireDeployLock');
      const now = await world.clock();
      world.lockAttemptsAtMs.push(now);
      if (now - world.lockAttemptsAtMs[0] < world.lockHeldForMs) {
        // what the real activity throws while another live run holds the lease (benign: the
        // worker logs it at DEBUG, not a WARN block for each of hundreds of expected attempts)
        throw expected('another deployment is in progress (run other/1); waiting for it', FailureType.DeployLockHeld);
      }
      return { holder: 'w/r', generation: 7 };
    },
    async renewDeployLock() {
      world.calls.push('renewDeployLock');
      return { renewed: true as const };
    },
    async releaseDeployLock() {
      world.calls.push('releaseDeployLock');
      return { released: true };
    },
    async removeModelVersion(input) {
      world.calls.push(`removeModelVersion ${input.slot}/${input.version}`);
      world.removed.push(input);
      return { removed: 3 };
    },
    async applyRetention() {
      world.calls.push('applyRetention');
      return { skipped: false, slots: [] };
    },
  };
}

/** A retryable failure the test expects on every attempt. */
function expected(message: string, type: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type, category: ApplicationFailureCategory.BENIGN });
}

export function fakeServingActivities(world: FakeWorld): ServingActivities {
  return {
    async waitForStandbyReady(input) {
      const { slot, version } = input;
      world.calls.push(`waitForStandbyReady ${slot}/${version}`);
      world.readinessInputs.push(input);
      world.readinessAttemptsAtMs.push(await world.clock());
      if (world.readinessUnreachable) throw expected(`connect ECONNREFUSED: slot ${slot} is unreachable`, 'Error');
      if (world.readiness === 'deadline') {
        throw ApplicationFailure.nonRetryable(
          `slot ${slot} did not report version ${version} AVAILABLE before the deadline`,
          'ReadinessDeadlineError',
        );
      }
      return {
        slot,
        version,
        predictUrl: `http://127.0.0.1:1/v1/models/${slot}/versions/${version}:predict`,
        polls: 1,
        smokePrediction: 0.5,
      };
    },
  };
}

/** The retention activity: records its options, answers with a plausible report. */
export function fakeRetentionActivities(world: FakeWorld) {
  return {
    async applyRetention(options: object) {
      world.calls.push(`applyRetention ${JSON.stringify(options)}`);
      if (world.retentionHeldBy) return { skipped: true, heldBy: world.retentionHeldBy };
      return {
        skipped: false,
        slots: [
          { slot: 'recommender', removedVersions: [1, 3], removedStaging: [] },
          { slot: 'recommender1', removedVersions: [2], removedStaging: ['recommender1/_staging-9-abcdef012345/'] },
        ],
      };
    },
  };
}
