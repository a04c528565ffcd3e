import { uuidv7Time } from '@llmops/platform';
import type { RevisionState } from '../revision-plan';
import { ServerFeedbackIds } from '../server-feedback-ids';
import { claimLine, findClaim, PAGE_WINDOW_MS, pageId, pageWindowOf } from './first-revision-pages';

const claim = (feedbackId: string, requestId: string): RevisionState => ({
  feedbackId,
  requestId,
  revision: 1,
  contentHash: 'a'.repeat(64),
  previousRevision: null,
  receivedAt: '2026-11-27T10:00:00.000Z',
  timestamp: '2026-11-27T09:59:00.000Z',
});

describe('first-revision pages', () => {
  it('locate a claim by the id alone: its generator node and its 100 ms time window', () => {
    const t = Date.UTC(2026, 10, 27, 12, 0, 0, 250);
    const ids = new ServerFeedbackIds(['k'], () => t);
    const id = ids.next();
    const w = pageWindowOf(id);
    expect(w.window).toBe(Math.floor(t / PAGE_WINDOW_MS));
    expect(w.node).toMatch(/^[89ab][0-9a-f]{7}$/);
    // Same generator, same window: same page; another generator: another node.
    expect(pageWindowOf(ids.next())).toEqual(w);
    expect(pageWindowOf(new ServerFeedbackIds(['k'], () => t).next()).node).not.toBe(w.node);
    expect(pageId(w, 2)).toBe(`${w.node}:${w.window}:2`);
    expect(uuidv7Time(id)).toBe(t);
  });

  it('find exactly the line of an id, whatever the requestId holds', () => {
    const ids = new ServerFeedbackIds(['k']);
    const [a, b, c] = [ids.next(), ids.next(), ids.next()];
    const tricky = `r\n["${c}","x"]\t"quoted"\\`;
    const text = [claim(a, 'r-a'), claim(b, tricky)].map((s) => claimLine(s, 'default')).join('\n');
    expect(findClaim(text, a, 'default')).toEqual(claim(a, 'r-a'));
    expect(findClaim(text, b, 'default')).toEqual(claim(b, tricky));
    // c occurs only inside b's (escaped) requestId, never at the start of a line.
    expect(findClaim(text, c, 'default')).toBeNull();
  });

  it('keep the claims of each project apart; a default claim keeps the five fields older versions read', () => {
    const ids = new ServerFeedbackIds(['k']);
    const [a, b] = [ids.next(), ids.next()];
    const c = claim(a, 'r');
    const fields = [a, 'r', c.contentHash, c.receivedAt, c.timestamp];
    expect(JSON.parse(claimLine(c, 'default'))).toEqual(fields);
    expect(JSON.parse(claimLine(c, 'team-b'))).toEqual([...fields, 'team-b']);
    // The same id in two projects (a client of team-b naming an id issued to default): two claims.
    const text = [
      claimLine(claim(a, 'r-default'), 'default'),
      claimLine(claim(b, 'r-b'), 'team-b'),
      claimLine(claim(a, 'r-team-b'), 'team-b'),
    ].join('\n');
    expect(findClaim(text, a, 'default')).toEqual(claim(a, 'r-default'));
    expect(findClaim(text, a, 'team-b')).toEqual(claim(a, 'r-team-b'));
    expect(findClaim(text, b, 'team-b')).toEqual(claim(b, 'r-b'));
    expect(findClaim(text, b, 'default')).toBeNull();
    expect(findClaim(text, a, 'team-c')).toBeNull();
  });

  it('treat a malformed line as no claim (the edit is then planned as without one)', () => {
    const id = new ServerFeedbackIds(['k']).next();
    expect(findClaim(`["${id}",1,2]`, id, 'default')).toBeNull();
    expect(findClaim(`["${id}", broken`, id, 'default')).toBeNull();
  });
});
