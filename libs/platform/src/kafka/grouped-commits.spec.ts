import { type CommitOffsets, GroupedCommits } from './grouped-commits';

type Request = Parameters<CommitOffsets>[0];

/** A commit function whose requests the test settles one by one. */
function coordinator() {
  const requests: Array<{ offsets: Request; settle: (err?: Error) => void }> = [];
  const send: CommitOffsets = (offsets) =>
    new Promise<void>((resolve, reject) => {
      requests.push({ offsets, settle: (err) => (err ? reject(err) : resolve()) });
    });
  return { requests, send };
}

const flushed = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupedCommits', () => {
  it('sends the first commit at once and the ones that arrive meanwhile together, after it', async () => {
    const commits = new GroupedCommits();
    const { requests, send } = coordinator();
    const settled: string[] = [];
    const a = commits.commit('x', 0, '10', send).then(() => settled.push('a'));
    const b = commits.commit('x', 1, '20', send).then(() => settled.push('b'));
    const c = commits.commit('f', 1, '5', send).then(() => settled.push('c'));
    expect(requests).toHaveLength(1);
    expect(requests[0].offsets).toEqual({
      topics: [{ topic: 'x', partitions: [{ partition: 0, offset: '10' }] }],
    });

    requests[0].settle();
    await a;
    await flushed();
    expect(settled).toEqual(['a']);
    expect(requests).toHaveLength(2);
    expect(requests[1].offsets).toEqual({
      topics: [
        { topic: 'x', partitions: [{ partition: 1, offset: '20' }] },
        { topic: 'f', partitions: [{ partition: 1, offset: '5' }] },
      ],
    });

    requests[1].settle();
    await Promise.all([b, c]);
    expect(settled).toEqual(['a', 'b', 'c']);
    expect(requests).toHaveLength(2);
  });

  it('keeps the highest offset of a partition that waits twice', async () => {
    const commits = new GroupedCommits();
    const { requests, send } = coordinator();
    const first = commits.commit('x', 0, '1', send);
    const waiting = [
      commits.commit('x', 3, '9', send),
      commits.commit('x', 3, '10', send),
      commits.commit('x', 3, '7', send),
    ];
    requests[0].settle();
    await first;
    await flushed();
    expect(requests[1].offsets).toEqual({
      topics: [{ topic: 'x', partitions: [{ partition: 3, offset: '10' }] }],
    });
    requests[1].settle();
    await Promise.all(waiting);
  });

  it('fails every commit its request carried, and sends the next ones anyway', async () => {
    const commits = new GroupedCommits();
    const { requests, send } = coordinator();
    const a = commits.commit('x', 0, '1', send);
    const b = commits.commit('x', 1, '2', send);
    const c = commits.commit('x', 2, '3', send);
    requests[0].settle();
    await a;
    await flushed();
    requests[1].settle(new Error('REBALANCE_IN_PROGRESS'));
    await expect(b).rejects.toThrow('REBALANCE_IN_PROGRESS');
    await expect(c).rejects.toThrow('REBALANCE_IN_PROGRESS');
    const d = commits.commit('x', 0, '4', send);
    expect(requests).toHaveLength(3);
    requests[2].settle();
    await d;
  });

  it('fails the commits of a commit function that throws, and sends the next ones', async () => {
    const commits = new GroupedCommits();
    const throwing = (() => {
      throw new Error('not connected');
    }) as CommitOffsets;
    await expect(commits.commit('x', 0, '1', throwing)).rejects.toThrow('not connected');
    await flushed();
    const { requests, send } = coordinator();
    const next = commits.commit('x', 0, '2', send);
    expect(requests).toHaveLength(1);
    requests[0].settle();
    await next;
  });
});
