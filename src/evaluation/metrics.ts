/**
 * Prometheus metrics of one online evaluator, in a registry of its own (as
 * the data publisher's). The figures are gauges read from the partitions
 * this instance owns at scrape time: they are cumulative counts restored
 * from the checkpoints, so they survive restarts; sum them over instances.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { SHADOW_KINDS } from '../messaging/shadow-result';
import { mergeFigures, type Figures } from './figures';
import { TOPIC_ROLES, type PartitionJoin } from './join-state';

export interface EvaluatorMetrics {
  registry: Registry;
  checkpoints: Counter;
  conflicts: Counter;
  checkpointFailures: Counter;
  lag: Gauge<'topic' | 'partition'>;
}

type Joins = () => PartitionJoin[];

function figuresOf(joins: Joins): Figures {
  const figures: Figures = {};
  for (const j of joins()) mergeFigures(figures, j.figures);
  return figures;
}

function figureGauges(registers: Registry[], joins: Joins): void {
  const v = ['version'] as const;
  const gauge = (name: string, help: string, labelNames: readonly string[], fill: (g: Gauge<string>, f: Figures) => void) =>
    new Gauge({
      name: `online_evaluator_${name}`,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        fill(this, figuresOf(joins));
      },
    });
  gauge('requests', 'Served requests taken, by version (slot/version)', v, (g, f) => {
    for (const [label, x] of Object.entries(f)) g.set({ version: label }, x.requests);
  });
  gauge('followed_purchases', 'Purchases attributed to a request of the version', v, (g, f) => {
    for (const [label, x] of Object.entries(f)) g.set({ version: label }, x.followed);
  });
  gauge('hits', 'Attributed purchases with a product in the first 10', v, (g, f) => {
    for (const [label, x] of Object.entries(f)) g.set({ version: label }, x.hits);
  });
  gauge('shadow_hits', 'Shadow hits on the same attributed purchases, by version and shadow', ['version', 'shadow'], (g, f) => {
    for (const [label, x] of Object.entries(f)) for (const s of SHADOW_KINDS) g.set({ version: label, shadow: s }, x.shadows[s].shadowHits);
  });
  gauge('shadow_pairs', 'Attributed purchases whose request has the shadow answer', ['version', 'shadow'], (g, f) => {
    for (const [label, x] of Object.entries(f)) for (const s of SHADOW_KINDS) g.set({ version: label, shadow: s }, x.shadows[s].paired);
  });
}

export function createEvaluatorMetrics(joins: Joins, options: { defaultMetrics?: boolean } = {}): EvaluatorMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'online_evaluator_' });
  const registers = [registry];
  figureGauges(registers, joins);
  new Gauge({
    name: 'online_evaluator_records',
    help: 'Records read, by topic role and outcome (taken, late, duplicate, invalid); cumulative, restored from checkpoints',
    labelNames: ['topic', 'outcome'],
    registers,
    collect() {
      this.reset();
      for (const j of joins())
        for (const role of TOPIC_ROLES) for (const [outcome, n] of Object.entries(j.records[role])) this.inc({ topic: role, outcome }, n);
    },
  });
  new Gauge({
    name: 'online_evaluator_state_entries',
    help: 'Entries of the join state (bounded by the window): requests, waiting shadows, pending purchases, repeat memory, dedup memory',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      for (const j of joins()) for (const [kind, n] of Object.entries(j.sizes())) this.inc({ kind }, n);
    },
  });
  new Gauge({
    name: 'online_evaluator_idle_advances',
    help: 'Idle advances: a caught-up, quiet partition closed its waiting purchases (EVALUATOR_IDLE_MS); cumulative, restored from checkpoints',
    registers,
    collect() {
      this.set(joins().reduce((n, j) => n + (j.idle?.advances ?? 0), 0));
    },
  });
  return {
    registry,
    checkpoints: new Counter({ name: 'online_evaluator_checkpoints_total', help: 'Partition checkpoints written to MinIO', registers }),
    conflicts: new Counter({
      name: 'online_evaluator_checkpoint_conflicts_total',
      help: 'Checkpoint writes lost to another evaluator of the same partition (state re-read from MinIO)',
      registers,
    }),
    checkpointFailures: new Counter({
      name: 'online_evaluator_checkpoint_failures_total',
      help: 'Checkpoint writes that failed (retried)',
      registers,
    }),
    lag: new Gauge({
      name: 'online_evaluator_lag',
      help: 'Records of an assigned topic-partition not processed yet: high watermark read from the brokers minus the next offset to process (./lag.ts)',
      labelNames: ['topic', 'partition'],
      registers,
    }),
  };
}
