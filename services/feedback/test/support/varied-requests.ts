/** Deterministic pseudo-random feedback bodies covering every optional field and awkward values. */
export function variedFeedbackBodies(count: number): unknown[] {
  let x = 12345;
  const next = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % n;
  };
  const texts = ['ok', 'mail me at jane@example.com', 'call +49 170 1234567', 'ünïcødé ✓ 😀', 'a:b"c\\d\n'];
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const body: Record<string, unknown> = {
      requestId: `req-${i}:${texts[next(5)].trimEnd()}`, // ids hold no control characters (the newline)
      source: ['user', 'judge', 'reviewer'][next(3)],
    };
    if (next(2)) body.feedbackId = `fb-${i}`;
    if (next(2)) body.experiment = `exp-${next(3)}.v2`;
    if (next(2)) body.arm = ['A', 'B', 'control'][next(3)];
    if (next(2)) body.userId = `user ${texts[next(5)].trimEnd()}`;
    if (next(2)) body.rating = 1 + next(5);
    if (next(2)) body.thumbs = next(2) ? 'up' : 'down';
    if (next(2)) body.comment = texts[next(5)];
    if (next(3) === 0) body.correction = texts[next(5)].repeat(1 + next(50));
    if (next(2)) body.scores = { relevance: next(100) / 100, 'judge.v2_x-y': -next(7) };
    if (next(2)) body.latencyMs = next(5000) + next(10) / 10;
    if (next(3) === 0) body.timestamp = '2025-03-01T10:00:01.250+01:00';
    if (!(
      'rating' in body ||
      'thumbs' in body ||
      'comment' in body ||
      'correction' in body ||
      'scores' in body
    ))
      body.thumbs = 'up';
    out.push(body);
  }
  return out;
}

/** Deterministic pseudo-random generation bodies covering every optional field and awkward values. */
export function variedGenerationBodies(count: number): unknown[] {
  let x = 777;
  const next = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % n;
  };
  const texts = ['ok', 'mail jane@example.com', 'call +49 170 1234567', 'ünïcødé ✓ 😀', 'a:b"c\\d\n', ''];
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const body: Record<string, unknown> = {
      requestId: `req-${i}:${texts[next(5)].trimEnd()}`, // ids hold no control characters (the newline)
      model: ['gpt-4o', 'claude-x', 'local/llama'][next(3)],
      output: texts[next(6)].repeat(1 + next(20)),
      latencyMs: next(5000) + next(10) / 10,
    };
    if (next(2)) body.experiment = `exp-${next(3)}.v2`;
    if (next(2)) body.arm = ['A', 'B', 'control'][next(3)];
    if (next(2)) body.userId = `user ${texts[next(5)].trimEnd()}`;
    if (next(2)) body.prompt = { name: 'summarizer', hash: 'ab'.repeat(32) };
    if (next(3) === 0) body.input = texts[next(6)];
    else if (next(2))
      body.input = [
        { role: 'system', content: texts[next(6)] },
        { role: 'user', content: texts[next(6)] },
      ];
    if (next(2)) body.usage = { promptTokens: next(4000), completionTokens: next(1000) };
    if (next(2)) body.costUsd = next(1000) / 1e5;
    if (next(3) === 0) body.metadata = { tenant: 't1', nested: { ok: true, n: [1, 'two', null] } };
    if (next(3) === 0) body.timestamp = '2025-03-01T10:00:01.250+01:00';
    out.push(body);
  }
  return out;
}
