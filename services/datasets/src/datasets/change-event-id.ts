import { v5 } from 'uuid';

const NAMESPACE = '5b0f2a57-3c1e-4a39-9a43-7f1f0d6c2e11';

/**
 * The id of the event of a change that happens once (a dataset's creation, a snapshot's
 * announcement): every attempt to send it sends the same event, which consumers store once.
 */
export function changeEventId(kind: string, key: string): string {
  return v5(`${kind}:${key}`, NAMESPACE);
}
