/**
 * Where a customer's records go on the customer-keyed topics (results,
 * shadows, purchases: co-partitioned, docs/design.md "Quality out"): the
 * partition kafkajs' default partitioner (murmur2 of the key, as Java's)
 * gives the customer id's key. One owner: a shadow batch record is written
 * to the partition computed here, and the evaluator checks its entries
 * against the same computation.
 */
import { Partitioners, type ICustomPartitioner, type Kafka, type PartitionMetadata } from 'kafkajs';

/** The key of a customer's records: the customer id in decimal. */
export const customerKey = (user: number): string => String(user);

const defaultPartitioner = Partitioners.DefaultPartitioner();
/** partition metadata of n partitions, all with a leader (the default partitioner reads only its length for a keyed record) */
const metadataOf = new Map<number, PartitionMetadata[]>();

/** The partition the default partitioner gives a record keyed `key` on a topic of `partitions` partitions. */
export function partitionOfKey(key: string, partitions: number): number {
  if (!(Number.isInteger(partitions) && partitions >= 1))
    throw new RangeError(`partition count must be a positive integer, got ${partitions}`);
  let partitionMetadata = metadataOf.get(partitions);
  if (!partitionMetadata) {
    partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      partitionErrorCode: 0,
    }));
    metadataOf.set(partitions, partitionMetadata);
  }
  return defaultPartitioner({ topic: '', partitionMetadata, message: { key, value: null } });
}

/** The partition of customer `user`'s records on a customer-keyed topic of `partitions` partitions. */
export const customerPartition = (user: number, partitions: number): number => partitionOfKey(customerKey(user), partitions);

/**
 * Each topic's partition count as a producer's metadata has it: its
 * partitioner (the default one) notes the count on every record it places,
 * so the count follows the producer's metadata refreshes; before the
 * producer's first record on a topic, it is read once from the cluster.
 */
export class ProducerPartitionCounts {
  private readonly counts = new Map<string, number>();
  private readonly reading = new Map<string, Promise<number>>();

  constructor(private readonly kafka: Kafka) {}

  /** The producer's `createPartitioner`: kafkajs' default partitioner, noting the counts. */
  readonly createPartitioner: ICustomPartitioner = () => {
    const place = Partitioners.DefaultPartitioner();
    return (args) => {
      this.counts.set(args.topic, args.partitionMetadata.length);
      return place(args);
    };
  };

  /** `topic`'s partition count. */
  async of(topic: string): Promise<number> {
    const known = this.counts.get(topic);
    if (known !== undefined) return known;
    let read = this.reading.get(topic);
    if (!read) {
      read = this.read(topic).finally(() => this.reading.delete(topic));
      this.reading.set(topic, read);
    }
    return read;
  }

  private async read(topic: string): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      const n = meta.topics[0]?.partitions.length ?? 0;
      if (n < 1) throw new Error(`topic ${topic} has no partitions in the cluster's metadata`);
      if (!this.counts.has(topic)) this.counts.set(topic, n); // the producer's own count, once it has one, wins
      return this.counts.get(topic)!;
    } finally {
      await admin.disconnect();
    }
  }
}
