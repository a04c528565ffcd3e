import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractCurlExamples, isAssignmentLine } from '../support/readme-curl';

// The README curl checker (test/support/readme-curl.ts), which the platform e2e runs.
describe('README curl examples', () => {
  const dir = mkdtempSync(join(tmpdir(), 'readme-curl-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('tells variable assignments from commands with an environment prefix', () => {
    expect(isAssignmentLine('KEY=$(cat .local/dev-admin-key)   # or a key of your own')).toBe(true);
    expect(isAssignmentLine('KEY=$(cat .local/dev-admin-key); AUTH="authorization: Bearer $KEY"')).toBe(true);
    expect(isAssignmentLine('export LLMOPS_API_KEY=$(cat .local/dev-admin-key)')).toBe(true);
    expect(isAssignmentLine('BENCH_ONLY=assignment-http npm run bench   # one')).toBe(false);
    expect(isAssignmentLine('npm start')).toBe(false);
  });

  it("runs the README's assignments before each later curl, as a reader's shell would", () => {
    const file = join(dir, 'README.md');
    writeFileSync(
      file,
      [
        '```sh',
        'curl -s localhost:3001/v1/prompts -H "Authorization: Bearer $LLMOPS_API_KEY"',
        'KEY=$(cat .local/dev-admin-key); AUTH="authorization: Bearer $KEY"',
        'BENCH_ONLY=x npm run bench',
        '# expect: 404',
        'curl -s localhost:3001/v1/prompts/none -H "$AUTH"',
        '```',
        '```bash',
        'curl -s localhost:3002/v1/experiments -H "$AUTH"',
        '```',
      ].join('\n'),
    );
    expect(extractCurlExamples(file)).toEqual([
      expect.objectContaining({ line: 2, setup: [] }),
      expect.objectContaining({
        line: 6,
        expectStatus: 404,
        setup: ['KEY=$(cat .local/dev-admin-key); AUTH="authorization: Bearer $KEY"'],
      }),
      expect.objectContaining({
        line: 9,
        setup: ['KEY=$(cat .local/dev-admin-key); AUTH="authorization: Bearer $KEY"'],
      }),
    ]);
  });
});
