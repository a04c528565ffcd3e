import { childTraceparent, contextFromHeaders, contextHeaders, newContext } from './context';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

describe('request context', () => {
  it('starts a new W3C trace when there is no valid parent', () => {
    const a = childTraceparent();
    const b = childTraceparent('garbage');
    expect(a).toMatch(TRACEPARENT);
    expect(b).toMatch(TRACEPARENT);
    expect(TRACEPARENT.exec(a)![1]).not.toBe(TRACEPARENT.exec(b)![1]);
  });

  it('never hands out the same random bytes twice, across pool refills', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 1_000; i++) {
      const m = TRACEPARENT.exec(childTraceparent())!;
      ids.add(m[1]);
      ids.add(m[2]);
    }
    expect(ids.size).toBe(2_000);
  });

  it('continues the parent trace with a new span id and the parent flags', () => {
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
    const child = TRACEPARENT.exec(childTraceparent(parent))!;
    expect(child[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(child[2]).not.toBe('00f067aa0ba902b7');
    expect(child[3]).toBe('00');
  });

  it('round-trips the correlation id through Kafka headers and rejects unsafe ids', () => {
    const ctx = newContext('req-123');
    const next = contextFromHeaders(contextHeaders(ctx));
    expect(next.correlationId).toBe('req-123');
    expect(TRACEPARENT.exec(next.traceparent)![1]).toBe(TRACEPARENT.exec(ctx.traceparent)![1]);
    expect(newContext('bad id\nwith newline').correlationId).not.toContain('\n');
  });
});
