/** The Kafka client and topic set-up, from configuration. */
import { Kafka, logLevel, type ITopicConfig } from 'kafkajs';
import type { Config } from '../config';

export function createKafka(cfg: Config['kafka'], clientIdSuffix = ''): Kafka {
  return new Kafka({
    clientId: cfg.clientId + clientIdSuffix,
    brokers: cfg.brokers,
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 300, retries: 8 },
  });
}

/** Creates the system's topics if missing; returns the names created. */
export async function ensureTopics(kafka: Kafka, topics: Config['topics'], partitions = 1): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted: ITopicConfig[] = Object.values(topics)
      .filter((t) => !existing.has(t))
      .map((topic) => ({ topic, numPartitions: partitions })); // replication: the broker's default
    if (wanted.length === 0) return [];
    await admin.createTopics({ topics: wanted, waitForLeaders: true });
    return wanted.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}
