import { PartitionLanes } from './partition-lanes';

/** A unit of work that records its start and end, and ends when `release` is called. */
function step(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return {
    work: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
    },
    release: () => release(),
  };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('PartitionLanes', () => {
  it('runs the batches of one partition number one at a time, those of others at once', async () => {
    const lanes = new PartitionLanes();
    const log: string[] = [];
    const a = step(log, 'a@0');
    const b = step(log, 'b@0');
    const c = step(log, 'c@1');
    const runs = [lanes.run(0, 't', a.work), lanes.run(0, 't', b.work), lanes.run(1, 't', c.work)];
    await turn();
    expect(log).toEqual(['start a@0', 'start c@1']);
    a.release();
    await turn();
    expect(log).toEqual(['start a@0', 'start c@1', 'end a@0', 'start b@0']);
    b.release();
    c.release();
    await Promise.all(runs);
    expect(lanes.size).toBe(0);
  });

  it('starts the waiting batches of a lane in the topics order, then in arrival order', async () => {
    const lanes = new PartitionLanes(['experiments', 'generations', 'feedback']);
    const log: string[] = [];
    // Handed over in one turn, as kafkajs hands over the batches of a fetch: feedback first.
    const arrivals = [
      ['feedback', 'f1'],
      ['other', 'o1'],
      ['generations', 'g1'],
      ['feedback', 'f2'],
      ['experiments', 'e1'],
    ].map(([topic, name]) => ({ topic, s: step(log, name) }));
    const runs = arrivals.map(({ topic, s }) => lanes.run(3, topic, s.work));
    for (const { s } of arrivals) s.release();
    await Promise.all(runs);
    expect(log.filter((l) => l.startsWith('start'))).toEqual([
      'start e1',
      'start g1',
      'start f1',
      'start f2',
      'start o1',
    ]);
    expect(lanes.size).toBe(0);
  });

  it('a batch that arrives while its lane runs waits for it, whatever its topic', async () => {
    const lanes = new PartitionLanes(['generations', 'feedback']);
    const log: string[] = [];
    const f = step(log, 'f');
    const first = lanes.run(0, 'feedback', f.work);
    await turn();
    const g = step(log, 'g');
    const second = lanes.run(0, 'generations', g.work);
    await turn();
    expect(log).toEqual(['start f']);
    f.release();
    g.release();
    await Promise.all([first, second]);
    expect(log).toEqual(['start f', 'end f', 'start g', 'end g']);
  });

  it('a failed batch rejects its own run and frees the lane for the next', async () => {
    const lanes = new PartitionLanes();
    const failed = lanes.run(0, 't', async () => {
      throw new Error('boom');
    });
    let ran = false;
    const next = lanes.run(0, 't', async () => {
      ran = true;
    });
    await expect(failed).rejects.toThrow('boom');
    await next;
    expect(ran).toBe(true);
    expect(lanes.size).toBe(0);
  });
});
