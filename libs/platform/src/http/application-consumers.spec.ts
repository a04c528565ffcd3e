import { applicationConsumers, type ServiceConsumerOptions } from './bootstrap';

const consumer = (groupId: string, transportId?: symbol): ServiceConsumerOptions =>
  ({ groupId, deadLetterTopic: 'dlq', ...(transportId && { transportId }) }) as ServiceConsumerOptions;

describe('applicationConsumers', () => {
  it('takes one consumer with or without a transportId, and none', () => {
    expect(applicationConsumers({ title: 's', consumer: consumer('a') })).toHaveLength(1);
    expect(applicationConsumers({ title: 's', consumers: [consumer('a', Symbol('a'))] })).toHaveLength(1);
    expect(applicationConsumers({ title: 's' })).toEqual([]);
  });

  it('takes several consumers when each has a transportId', () => {
    const all = applicationConsumers({
      title: 's',
      consumer: consumer('a', Symbol('a')),
      consumers: [consumer('b', Symbol('b'))],
    });
    expect(all.map((c) => c.groupId)).toEqual(['a', 'b']);
  });

  it('refuses several consumers when one has no transportId (it would serve every handler)', () => {
    expect(() =>
      applicationConsumers({
        title: 'svc',
        consumer: consumer('a'),
        consumers: [consumer('b', Symbol('b'))],
      }),
    ).toThrow('svc: an application with 2 consumers needs a transportId on each (groups a, b)');
  });
});
