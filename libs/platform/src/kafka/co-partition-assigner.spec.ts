import { AssignerProtocol, type Cluster } from 'kafkajs';
import { CO_PARTITION_ASSIGNER_NAME, coPartitionAssigner } from './co-partition-assigner';

describe('coPartitionAssigner', () => {
  const partitions: Record<string, number> = { generations: 6, feedback: 6, aliases: 3 };
  const cluster = {
    findTopicPartitionMetadata: (topic: string) =>
      Array.from({ length: partitions[topic] }, (_, partitionId) => ({ partitionId })),
  } as unknown as Cluster;
  const assigner = coPartitionAssigner({ cluster, groupId: 'g', logger: undefined as never });

  async function plan(memberIds: string[]) {
    const assignments = await assigner.assign({
      members: memberIds.map((memberId) => ({ memberId, memberMetadata: Buffer.alloc(0) })),
      topics: Object.keys(partitions),
    });
    return Object.fromEntries(
      assignments.map(({ memberId, memberAssignment }) => [
        memberId,
        AssignerProtocol.MemberAssignment.decode(memberAssignment)?.assignment,
      ]),
    );
  }

  it('gives partition p of every topic to one member, and every partition to some member', async () => {
    const byMember = await plan(['m-c', 'm-a', 'm-b', 'm-d']);
    for (const [topic, count] of Object.entries(partitions)) {
      const owners = Array.from({ length: count }, (_, p) =>
        Object.keys(byMember).filter((m) => byMember[m]?.[topic]?.includes(p)),
      );
      expect(owners.every((o) => o.length === 1)).toBe(true);
      for (let p = 0; p < count; p++) {
        expect(owners[p]).toEqual(Object.keys(byMember).filter((m) => byMember[m]?.generations?.includes(p)));
      }
    }
    expect(byMember['m-a']).toEqual({ generations: [0, 4], feedback: [0, 4], aliases: [0] });
  });

  it('is a deterministic function of the member ids (any order)', async () => {
    expect(await plan(['x', 'y', 'z'])).toEqual(await plan(['z', 'x', 'y']));
  });

  it('names itself in the group protocol', () => {
    expect(assigner.name).toBe(CO_PARTITION_ASSIGNER_NAME);
    expect(assigner.protocol({ topics: ['feedback'] }).name).toBe(CO_PARTITION_ASSIGNER_NAME);
  });
});
