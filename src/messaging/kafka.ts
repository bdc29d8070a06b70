/** The Kafka client and topic set-up, from configuration. */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, KafkaJSProtocolError, logLevel, type Admin, type ITopicConfig, type SASLOptions } from 'kafkajs';
import type { Config } from '../config';

export function createKafka(cfg: Config['kafka'], clientIdSuffix = ''): Kafka {
  return new Kafka({
    clientId: cfg.clientId + clientIdSuffix,
    brokers: cfg.brokers,
    // each component's own identity where the cluster asks for one (deploy/k8s: Strimzi KafkaUsers with ACLs)
    // (the mechanisms share their fields; kafkajs types each mechanism apart)
    ...(cfg.sasl && { sasl: cfg.sasl as SASLOptions }),
    ...(cfg.sslCaFile !== undefined ? { ssl: { ca: [readFileSync(cfg.sslCaFile, 'utf8')] } } : cfg.sasl ? { ssl: false } : {}),
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 300, retries: 8 },
  });
}

/** Creates the system's topics if missing; returns the names created. */
export async function ensureTopics(
  kafka: Kafka,
  topics: Config['topics'] | Readonly<Record<string, string>>,
  partitions = 1,
): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted: ITopicConfig[] = Object.values(topics)
      .filter((t) => !existing.has(t))
      .map((topic) => ({ topic, numPartitions: partitions })); // replication: the broker's default
    if (wanted.length === 0) return [];
    const names = wanted.map((t) => t.topic);
    try {
      await admin.createTopics({ topics: wanted, waitForLeaders: true });
    } catch (error) {
      // kafkajs waits out LEADER_NOT_AVAILABLE only; a busy KRaft broker may first answer that a
      // topic it has just created is unknown, so that answer is waited out here the same way
      if (!(error instanceof KafkaJSProtocolError && error.type === 'UNKNOWN_TOPIC_OR_PARTITION')) throw error;
    }
    await waitForLeaders(admin, names);
    return names;
  } finally {
    await admin.disconnect();
  }
}

/**
 * The topics keyed by the customer id that the online evaluator joins:
 * results, shadows and purchases. They must have the same partition count
 * (and the default partitioner), so that one customer's records of all
 * three land on the same partition number and one consumer of the
 * evaluator's group sees them together (co-partitioning, docs/design.md
 * "Quality out").
 */
export function customerKeyedTopics(cfg: Pick<Config, 'topics' | 'purchases'>): string[] {
  return [cfg.topics.results, cfg.topics.shadows, cfg.purchases.topic];
}

/**
 * Creates the missing ones of `topics` with the partition count of the
 * customer-keyed topics that exist already (`peers` included), or
 * `partitions` when none does. Returns what was created and, when the
 * existing ones disagree, a message naming each count (a topic's partitions
 * cannot be lowered, so that is for an operator to fix; the caller reports it).
 */
export async function ensureCoPartitioned(
  kafka: Kafka,
  topics: readonly string[],
  peers: readonly string[],
  partitions = 1,
): Promise<{ created: string[]; mismatch?: string }> {
  const admin = kafka.admin();
  await admin.connect();
  let counts: Map<string, number>;
  try {
    const existing = new Set(await admin.listTopics());
    const present = [...new Set([...topics, ...peers])].filter((t) => existing.has(t));
    const meta = present.length ? await admin.fetchTopicMetadata({ topics: present }) : { topics: [] };
    counts = new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
  } finally {
    await admin.disconnect();
  }
  const distinct = new Set(counts.values());
  const count = distinct.size > 0 ? Math.max(...distinct) : partitions;
  const created = await ensureTopics(kafka, Object.fromEntries(topics.filter((t) => !counts.has(t)).map((t) => [t, t])), count);
  if (distinct.size <= 1) return { created };
  const named = [...counts].map(([t, n]) => `${t}: ${n}`).join(', ');
  return { created, mismatch: `customer-keyed topics are not co-partitioned (${named}); the online evaluator's join needs the same count` };
}

/**
 * Polls until every partition of `topics` has a leader that answers for it
 * (at most `timeoutMs`): metadata may name a leader that still answers
 * NOT_LEADER_FOR_PARTITION to a ListOffsets for a moment (seen failing a
 * model-server test right after the topics were created), so the offsets
 * are read too.
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      if (meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) {
        for (const topic of topics) await admin.fetchTopicOffsets(topic);
        return;
      }
    } catch (error) {
      if (!(error instanceof KafkaJSProtocolError && error.retriable)) throw error;
    }
    if (Date.now() > end) throw new Error(`topics ${topics.join(', ')} have no leader ${timeoutMs} ms after they were created`);
    await sleep(200);
  }
}
