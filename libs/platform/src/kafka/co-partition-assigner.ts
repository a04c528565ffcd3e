/**
 * A kafkajs partition assigner that gives partition NUMBER p of every subscribed topic to the same
 * member (members sorted by id, partition p to member p mod n). Topics keyed alike with equal
 * partition counts (co-partitioned, e.g. generations and feedback keyed by requestId) then have all
 * the records of one key on one member: analytics joins feedback to its generation from one
 * instance's partition state, and datasets never has two members writing one example at once.
 * Use it as `consumerConfig: { partitionAssigners: [coPartitionAssigner] }`; every member of the
 * group must offer it.
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const CO_PARTITION_ASSIGNER_NAME = 'LlmopsCoPartitionAssigner';

export const coPartitionAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITION_ASSIGNER_NAME,
  version: 0,
  async assign({ members, topics }) {
    const sorted = members.map((m) => m.memberId).sort();
    const plan = new Map<string, Record<string, number[]>>(sorted.map((id) => [id, {}]));
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const member = plan.get(sorted[partitionId % sorted.length]);
        if (member) (member[topic] ??= []).push(partitionId);
      }
    }
    return sorted.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: plan.get(memberId) ?? {},
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: CO_PARTITION_ASSIGNER_NAME,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});
