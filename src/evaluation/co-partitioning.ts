/**
 * Co-partitioning of the evaluator's three topics (docs/design.md, "Quality
 * out"): a customer's requests, shadow answers and purchases are keyed by
 * the customer id, so with the same partition count they land on the same
 * partition number of each topic; this assigner hands partition p of every
 * topic to the same group member, so one evaluator instance sees all of a
 * customer's records. (Kafka's default assigners spread topic-partitions
 * independently.) The check at start refuses topics whose counts differ.
 */
import { AssignerProtocol, type Admin, type PartitionAssigner } from 'kafkajs';

export const CO_PARTITIONED_ASSIGNER = 'CoPartitionedAssigner';

export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITIONED_ASSIGNER,
  version: 0,
  async assign({ members, topics }) {
    const ids = members.map((m) => m.memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>(ids.map((id) => [id, {}]));
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const own = assignment.get(ids[partitionId % ids.length])!;
        (own[topic] ??= []).push(partitionId);
      }
    }
    return ids.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: assignment.get(memberId)!,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: CO_PARTITIONED_ASSIGNER,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});

export class NotCoPartitionedError extends Error {
  override name = 'NotCoPartitionedError';
}

/** The common partition count of `topics`; a NotCoPartitionedError naming each topic's count when they differ. */
export async function checkCoPartitioned(admin: Admin, topics: string[]): Promise<number> {
  const meta = await admin.fetchTopicMetadata({ topics });
  const counts = meta.topics.map((t) => ({ topic: t.name, partitions: t.partitions.length }));
  if (new Set(counts.map((c) => c.partitions)).size !== 1) {
    throw new NotCoPartitionedError(
      `the evaluator's topics are not co-partitioned (they need the same partition count, keyed by customer id): ${counts.map((c) => `${c.topic} has ${c.partitions}`).join(', ')}`,
    );
  }
  return counts[0].partitions;
}
