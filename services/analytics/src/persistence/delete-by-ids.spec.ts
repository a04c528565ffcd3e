import type { mongo } from 'mongoose';
import { deleteByIds, deleteCommandsFor } from './delete-by-ids';

describe('deleteByIds', () => {
  it('deletes by `_id` $in, at most 1,000 ids a command, one command after another', async () => {
    const sent: string[][] = [];
    let inFlight = 0;
    let most = 0;
    const collection = {
      deleteMany: async (filter: { _id: { $in: string[] } }) => {
        inFlight++;
        most = Math.max(most, inFlight);
        sent.push(filter._id.$in);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        return { deletedCount: filter._id.$in.length };
      },
    } as unknown as mongo.Collection<{ _id: string }>;
    const ids = Array.from({ length: 2_500 }, (_, i) => `v${i}`);
    await deleteByIds(collection, ids);
    expect(sent.map((c) => c.length)).toEqual([1_000, 1_000, 500]);
    expect(sent.flat()).toEqual(ids);
    expect(most).toBe(1);
    expect(deleteCommandsFor(ids.length)).toBe(sent.length);
    expect(deleteCommandsFor(1_000)).toBe(1);
  });

  it('sends nothing for no ids', async () => {
    const deleteMany = jest.fn();
    await deleteByIds({ deleteMany } as unknown as mongo.Collection<{ _id: string }>, []);
    expect(deleteMany).not.toHaveBeenCalled();
  });
});
