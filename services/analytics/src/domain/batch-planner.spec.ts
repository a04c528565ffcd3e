import { exposureData, f, FakeStore, feedbackData, generationData, T, x } from '../../test/support/planner';
import { type BatchPlan, type PlannedEvent, planBatch } from './batch-planner';
import { minuteOf } from './bucket';
import { PartitionState } from './partition-state';

const generation = (requestId: string, arm?: string) =>
  generationData(requestId, arm ? { experiment: 'e', arm } : {});
const feedback = (fid: string, revision: number, rating: number, named = true, requestId = `r-${fid}`) =>
  feedbackData(fid, { revision, rating, requestId }, named);

describe('planBatch (exactly-once core)', () => {
  it('counts distinct users once, also when a crash hit between the journal and the bucket write', () => {
    const store = new FakeStore();
    const batch = [x(0, 'u1'), x(1, 'u2'), x(2, 'u1')];
    store.apply(planBatch(store.load(), batch), true); // crash: journal link written, buckets not
    store.apply(planBatch(store.load(), batch)); // redelivery of the same batch
    expect(store.total('exposures')).toBe(2);
    // A redelivery with DIFFERENT boundaries (a shorter batch, then the rest) changes nothing.
    store.apply(planBatch(store.load(), batch.slice(0, 2)));
    store.apply(planBatch(store.load(), [...batch.slice(2), x(3, 'u3')]));
    expect(store.total('exposures')).toBe(3);
  });

  it('never applies a message twice to a bucket (offset guard)', () => {
    const store = new FakeStore();
    const g = (offset: number): PlannedEvent => ({
      kind: 'g',
      offset,
      project: 'default',
      data: generation(`r${offset}`, 'a'),
    });
    store.apply(planBatch(store.load(), [g(0), g(1), g(2)]));
    store.apply(planBatch(store.load(), [g(1), g(2), g(3)]));
    expect(store.total('generations')).toBe(4);
  });

  it('edits replace, duplicates and stale revisions are ignored', () => {
    const store = new FakeStore();
    store.apply(planBatch(store.load(), [f(0, feedback('fb', 1, 2)), f(1, feedback('fb', 1, 2))]));
    expect(store.rating()).toEqual({ n: 1, sum: 2 });
    store.apply(planBatch(store.load(), [f(2, feedback('fb', 2, 5))]), true); // crash after the journal link
    store.apply(planBatch(store.load(), [f(2, feedback('fb', 2, 5)), f(3, feedback('fb', 1, 1))]));
    expect(store.rating()).toEqual({ n: 1, sum: 5 });
  });

  it('parks feedback naming no arm until its generation arrives, then counts it once', () => {
    const store = new FakeStore();
    const fb = feedback('late', 1, 4, false, 'req-1');
    store.apply(planBatch(store.load(), [f(0, fb), f(1, fb)]));
    expect(store.rating().n).toBe(0);
    const gen: PlannedEvent = { kind: 'g', offset: 0, project: 'default', data: generation('req-1', 'b') };
    store.apply(planBatch(store.load(), [gen]), true); // crash after the revision was recorded
    store.apply(planBatch(store.load(), [gen]));
    expect(store.rating()).toEqual({ n: 1, sum: 4 });
    expect([...store.buckets.values()].find((b) => b.rating.n === 1)?.arm).toBe('b');
  });

  it('parks feedback whose generation placed its request in no experiment with that reason, and feedback on an unseen request without one', () => {
    const state = new PartitionState(0);
    planBatch(state, [{ kind: 'g', offset: 0, project: 'default', data: generation('nowhere') }]);
    const plan = planBatch(state, [
      f(0, feedback('a', 1, 3, false, 'nowhere')),
      f(1, feedback('b', 1, 3, false, 'unseen')),
    ]);
    expect(plan.outcomes.map((o) => o.outcome)).toEqual(['parked', 'parked']);
    expect(plan.pending.map((p) => [p.requestId, p.reason ?? null])).toEqual([
      ['nowhere', 'generation_not_in_experiment'],
      ['unseen', null],
    ]);
  });

  it('a crash part-way through the bucket write: the redelivery adds exactly what was missing', () => {
    const store = new FakeStore();
    const at = (minute: number) => new Date(Date.parse(T) + minute * 60_000).toISOString();
    const x2 = (offset: number, userId: string, minute: number): PlannedEvent => ({
      kind: 'x',
      offset,
      project: 'default',
      data: { ...exposureData(userId), assignedAt: at(minute) },
    });
    const minuteId = (m: number) => `e|a|${minuteOf(at(m))}|x|0`;
    const perMinute = () => [0, 1, 2].map((m) => store.buckets.get(minuteId(m))?.exposures);
    const batch = [x2(0, 'u1', 0), x2(1, 'u2', 1), x2(2, 'u1', 1), x2(3, 'u3', 2)];
    // The journal link and the first minute's bucket are stored, the other buckets are not.
    store.apply(planBatch(store.load(), batch), (t) => t.bucket._id === minuteId(0));
    expect(perMinute()).toEqual([1, undefined, undefined]);
    // Redelivered with one more message: each bucket gets exactly what it was missing.
    store.apply(planBatch(store.load(), [...batch, x2(4, 'u4', 2)]));
    expect(perMinute()).toEqual([1, 1, 2]);
  });

  it('a generation whose buckets were lost re-derives the parked feedback it resolved, also after a later edit', () => {
    const store = new FakeStore();
    store.apply(planBatch(store.load(), [f(0, feedback('late', 1, 4, false, 'req-1'))]));
    const gen: PlannedEvent = { kind: 'g', offset: 0, project: 'default', data: generation('req-1', 'b') };
    store.apply(planBatch(store.load(), [gen]), true); // crash: link stored (revision 1 applied), buckets not
    // After the restart the feedback topic is consumed first: an edit, attributed by the stored request.
    store.apply(planBatch(store.load(), [f(1, feedback('late', 2, 2, false, 'req-1'))]));
    store.apply(planBatch(store.load(), [gen])); // the generation's redelivery
    expect(store.rating()).toEqual({ n: 1, sum: 2 });
    expect(store.merged().generations).toBe(1);
    expect(store.pending.size).toBe(0);
  });

  it('a redelivered generation counts the feedback it resolved once, also when the parked document is still there', () => {
    const store = new FakeStore();
    store.apply(planBatch(store.load(), [f(0, feedback('late', 1, 4, false, 'req-1'))]));
    const [parked] = [...store.pending.values()];
    const gen: PlannedEvent = { kind: 'g', offset: 0, project: 'default', data: generation('req-1', 'b') };
    store.apply(planBatch(store.load(), [gen]), true); // crash: link stored (revision 1 applied), buckets not
    // A build before the journal never deleted an applied parked document: the reload still holds it.
    const state = store.load();
    state.addPending(structuredClone(parked));
    store.apply(planBatch(state, [gen]));
    expect(store.rating()).toEqual({ n: 1, sum: 4 });
  });

  it('a parked feedback delivered again stays parked even where its request is now placed, and its generation counts it once', () => {
    const store = new FakeStore();
    const batch = [f(0, feedback('late', 1, 4, false, 'req-1')), f(1, feedback('other', 1, 5))];
    // Parked by a replica that did not know the request (e.g. its clock had moved past the retention).
    store.apply(planBatch(store.load(), batch));
    expect([...store.pending.keys()]).toEqual(['f:0:0']);
    expect(store.rating()).toEqual({ n: 1, sum: 5 });
    // Delivered again (no commit) to a replica that still holds the request's placement: the later
    // message already moved the bucket past offset 0, so applying it now would count nothing.
    const state = store.load();
    state.addRequest('req-1', 'e', 'a');
    const again = planBatch(state, batch);
    expect(again.outcomes.filter((o) => o.type === 'feedback').map((o) => o.outcome)).toEqual([
      'parked',
      'applied',
    ]);
    expect(again.additions.revisions).toEqual([]);
    store.apply(again);
    expect([...store.pending.keys()]).toEqual(['f:0:0']);
    expect(store.rating()).toEqual({ n: 1, sum: 5 });
    // Its generation, delivered again too, applies it and resolves the parked copy.
    const gen: PlannedEvent = { kind: 'g', offset: 0, project: 'default', data: generation('req-1', 'a') };
    const resolved = planBatch(store.load(), [gen]);
    expect(resolved.additions.resolved).toEqual(['f:0:0']);
    store.apply(resolved);
    expect(store.pending.size).toBe(0);
    expect(store.rating()).toEqual({ n: 2, sum: 9 });
  });

  it('a parked document of another feedback under the same message id (topics created again) does not hold a message back', () => {
    const store = new FakeStore();
    store.apply(planBatch(store.load(), [f(0, feedback('old', 1, 4, false, 'req-old'))]));
    expect([...store.pending.keys()]).toEqual(['f:0:0']);
    // Offsets start again at 0: message f:0:0 is now another feedback, naming its arm.
    store.apply(planBatch(store.load(), [f(0, feedback('new', 1, 2))]));
    expect(store.rating()).toEqual({ n: 1, sum: 2 });
  });

  it("gives each arm its own score-name budget, so another arm's names never push a counted arm's out", () => {
    const names = (prefix: string) =>
      Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${prefix}${i}`, 1]));
    const store = new FakeStore();
    // 50 names on arm z (which the experiment may not have: not counted at read), in three items.
    const junk = Object.entries(names('junk'));
    const zItems = [0, 1, 2].map((i) =>
      f(i, feedbackData(`z${i}`, { arm: 'z', scores: Object.fromEntries(junk.slice(i * 20, i * 20 + 20)) })),
    );
    store.apply(planBatch(store.load(), zItems));
    store.apply(planBatch(store.load(), [f(3, feedbackData('a1', { arm: 'a', scores: { quality: 4 } }))]));
    const armA = store.minutes().filter((b) => b.arm === 'a');
    expect(armA.map((b) => b.scores.quality?.n ?? 0).reduce((x, y) => x + y, 0)).toBe(1);
    expect(armA.every((b) => !b.droppedScores)).toBe(true);
    // Within one arm the budget still holds: a 51st name is dropped and counted.
    store.apply(planBatch(store.load(), [f(4, feedbackData('z3', { arm: 'z', scores: { late: 1 } }))]));
    const armZ = store.minutes().filter((b) => b.arm === 'z');
    expect(armZ.reduce((n, b) => n + (b.droppedScores ?? 0), 0)).toBe(1);
  });

  it('keeps projects apart: the same experiment, arm, user, request and feedback ids in two projects', () => {
    const state = new PartitionState(0);
    const of = (project: string, offset: number): PlannedEvent[] => [
      { kind: 'x', offset, project, data: exposureData('u1') },
      { kind: 'g', offset: offset + 1, project, data: generation('req', 'a') },
      { kind: 'f', offset: offset + 2, project, data: feedback('fb', 1, 5) },
    ];
    const plan = planBatch(state, [...of('default', 0), ...of('acme', 3)]);
    expect(plan.outcomes.every((o) => o.outcome === 'applied')).toBe(true);
    expect(plan.additions.seen.map((g) => [g.project, g.exp, g.arm, g.users])).toEqual([
      ['default', 'e', 'a', ['u1']],
      ['acme', 'e', 'a', ['u1']],
    ]);
    expect(plan.additions.requests.map((g) => [g.project, g.ids])).toEqual([
      ['default', ['req']],
      ['acme', ['req']],
    ]);
    expect(plan.additions.revisions.map((r) => [r.project, r.feedbackId, r.revision])).toEqual([
      ['default', 'fb', 1],
      ['acme', 'fb', 1],
    ]);
    // In memory, every id is scoped by its project.
    expect(state.seenBy('acme', 'e', 'a', 'u1')).toBe(3);
    expect(state.requests.size).toBe(2);
    expect(state.requests.has('req')).toBe(true);
    expect(state.requests.has('acme\u001freq')).toBe(true);
    expect([...state.revisions.keys()]).toEqual(['fb', 'acme\u001ffb']);
    // Each contribution is in its minute, hour and day bucket, all scoped by the project.
    expect(plan.buckets.map((t) => t.bucket.project)).toEqual([
      ...Array<string>(9).fill('default'),
      ...Array<string>(9).fill('acme'),
    ]);
    const buckets = plan.buckets.map((t) => t.bucket).filter((b) => b.res === 'm');
    expect(buckets.map((b) => [b.project, b._id])).toEqual([
      ['default', `e|a|${minuteOf(T)}|x|0`],
      ['default', `e|a|${minuteOf(T)}|g|0`],
      ['default', `e|a|${minuteOf(T)}|f|0`],
      ['acme', `acme/e|a|${minuteOf(T)}|x|0`],
      ['acme', `acme/e|a|${minuteOf(T)}|g|0`],
      ['acme', `acme/e|a|${minuteOf(T)}|f|0`],
    ]);
    expect(buckets.map((b) => b.exposures + b.generations + b.rating.n)).toEqual([1, 1, 1, 1, 1, 1]);
    // The arms directory: one entry per (project, experiment, arm) and partition.
    expect(plan.arms.map((d) => d._id)).toEqual(['e|a|0', 'acme/e|a|0']);
  });

  it("never joins feedback to another project's generation of the same requestId", () => {
    const store = new FakeStore();
    const parked: PlannedEvent = {
      kind: 'f',
      offset: 0,
      project: 'acme',
      data: feedback('fb', 1, 5, false, 'req'),
    };
    store.apply(planBatch(store.load(), [parked]));
    const other: PlannedEvent = { kind: 'g', offset: 0, project: 'default', data: generation('req', 'a') };
    const plan = planBatch(store.load(), [other]);
    expect(plan.outcomes).toEqual([{ type: 'generation', outcome: 'applied' }]);
    store.apply(plan);
    expect(store.rating().n).toBe(0);
    const own: PlannedEvent = { kind: 'g', offset: 1, project: 'acme', data: generation('req', 'b') };
    store.apply(planBatch(store.load(), [own]));
    expect(store.rating()).toEqual({ n: 1, sum: 5 });
    expect([...store.buckets.values()].find((b) => b.rating.n === 1)).toMatchObject({
      project: 'acme',
      arm: 'b',
    });
  });
});

describe('planBatch: feedback parked and superseded within one batch', () => {
  const g = (offset: number, requestId: string, arm?: string): PlannedEvent => ({
    kind: 'g',
    offset,
    project: 'default',
    data: generation(requestId, arm),
  });
  const feedbackOutcomes = (plan: BatchPlan) =>
    plan.outcomes.filter((o) => o.type === 'feedback').map((o) => o.outcome);
  const applied = (plan: BatchPlan) => plan.additions.revisions.map((r) => [r.feedbackId, r.revision, r.arm]);
  /** What the repository inserts and marks: parked documents the same batch resolved are neither. */
  const written = (plan: BatchPlan) => ({
    inserted: plan.pending.map((p) => p._id).filter((id) => !plan.additions.resolved.includes(id)),
    marked: plan.notInExperiment.filter((id) => !plan.additions.resolved.includes(id)),
  });

  it('parked revisions superseded by a later attributed one are resolved in the plan; a later generation adds nothing', () => {
    const store = new FakeStore();
    const plan = planBatch(store.load(), [
      f(0, feedback('fb', 1, 1, false, 'req-1')),
      f(1, feedback('fb', 2, 2, false, 'req-1')),
      f(2, feedback('fb', 3, 3, true, 'req-1')),
    ]);
    expect(feedbackOutcomes(plan)).toEqual(['parked', 'parked', 'applied']);
    expect(plan.pending.map((p) => p._id)).toEqual(['f:0:0', 'f:0:1']);
    expect(plan.additions.resolved).toEqual(['f:0:0', 'f:0:1']);
    expect(applied(plan)).toEqual([['fb', 3, 'a']]);
    expect(written(plan)).toEqual({ inserted: [], marked: [] });
    store.apply(plan);
    expect(store.pending.size).toBe(0);
    expect(store.rating()).toEqual({ n: 1, sum: 3 });

    // The request's generation, placing it in another arm, finds nothing parked for it.
    const later = planBatch(store.load(), [g(0, 'req-1', 'b')]);
    expect(feedbackOutcomes(later)).toEqual([]);
    expect(later.additions.revisions).toEqual([]);
    store.apply(later);
    expect(store.rating()).toEqual({ n: 1, sum: 3 });
    expect(store.merged().generations).toBe(1);
    expect(
      store
        .minutes()
        .filter((b) => b.rating.n !== 0)
        .map((b) => b.arm),
    ).toEqual(['a']);
  });

  it('a parked revision marked not-in-experiment and then superseded in the same batch is neither stored nor marked', () => {
    const store = new FakeStore();
    const plan = planBatch(store.load(), [
      f(0, feedback('fb', 1, 1, false, 'req-2')),
      g(1, 'req-2'), // the generation places the request in no experiment
      f(2, feedback('fb', 2, 5, true, 'req-2')),
    ]);
    expect(feedbackOutcomes(plan)).toEqual(['parked', 'applied']);
    expect(plan.pending.map((p) => p._id)).toEqual(['f:0:0']);
    expect(plan.notInExperiment).toEqual(['f:0:0']);
    expect(plan.additions.resolved).toEqual(['f:0:0']);
    expect(applied(plan)).toEqual([['fb', 2, 'a']]);
    expect(written(plan)).toEqual({ inserted: [], marked: [] });
    store.apply(plan);
    expect(store.pending.size).toBe(0);
    expect(store.rating()).toEqual({ n: 1, sum: 5 });
  });

  it('revisions parked in one batch: the later generation applies only the latest', () => {
    const store = new FakeStore();
    const plan = planBatch(store.load(), [
      f(0, feedback('fb', 1, 1, false, 'req-3')),
      f(1, feedback('fb', 2, 4, false, 'req-3')),
    ]);
    expect(feedbackOutcomes(plan)).toEqual(['parked', 'parked']);
    expect(written(plan)).toEqual({ inserted: ['f:0:0', 'f:0:1'], marked: [] });
    store.apply(plan);
    expect(store.rating()).toEqual({ n: 0, sum: 0 });

    const later = planBatch(store.load(), [g(0, 'req-3', 'b')]);
    expect(feedbackOutcomes(later)).toEqual(['resolved', 'resolved']);
    expect(later.additions.resolved).toEqual(['f:0:0', 'f:0:1']);
    // The journal records both revisions as applied by the generation; the buckets get revision 1
    // plus the edit to revision 2, which is revision 2 alone.
    expect(later.additions.revisions.map((r) => [r.revision, r.source, r.contributor, r.arm])).toEqual([
      [1, 'f:0:0', 'g:0:0', 'b'],
      [2, 'f:0:1', 'g:0:0', 'b'],
    ]);
    expect(later.buckets.map((t) => t.bucket.rating)).toEqual(
      Array.from({ length: 3 }, () => ({ n: 1, sum: 4, sumSq: 16 })),
    );
    store.apply(later);
    // Revision 2 replaced revision 1: one rating, of revision 2's value, in the generation's arm.
    expect(store.rating()).toEqual({ n: 1, sum: 4 });
    expect(
      store
        .minutes()
        .filter((b) => b.rating.n !== 0)
        .map((b) => b.arm),
    ).toEqual(['b']);
    expect(store.pending.size).toBe(0);
    // Redelivered, the generation adds nothing more.
    store.apply(planBatch(store.load(), [g(0, 'req-3', 'b')]));
    expect(store.rating()).toEqual({ n: 1, sum: 4 });
  });
});
