import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  extractCurlExamples,
  extractExamples,
  extractFiles,
  isAssignmentLine,
  runExample,
} from './readme-examples';

// The README example checker: the platform e2e runs the curl examples, libs/sdk/test/cli.int-spec.ts the CLI's.
describe('README examples', () => {
  const dir = mkdtempSync(join(tmpdir(), 'readme-examples-'));
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

  it("extracts the CLI's examples with their expected exit codes, and the files to write", () => {
    const file = join(dir, 'CLI.md');
    writeFileSync(
      file,
      [
        '```yaml',
        '# summarizer.yaml',
        'name: summarizer',
        '```',
        '```yaml',
        'not: a file',
        '```',
        '```bash',
        'export LLMOPS_API_KEY=$(cat .local/dev-admin-key)',
        "npx llmops prompts push summarizer.yaml   # it's registered once",
        'npx llmops prompts get summarizer | head -3',
        'curl -s localhost:3001/v1/prompts',
        '# expect: exit 1',
        'npx llmops prompts get summarizer 99   # no such version',
        '```',
      ].join('\n'),
    );
    expect(extractFiles(file)).toEqual([{ name: 'summarizer.yaml', content: 'name: summarizer\n' }]);
    const setup = ['export LLMOPS_API_KEY=$(cat .local/dev-admin-key)'];
    expect(extractExamples(file, 'npx llmops')).toEqual([
      expect.objectContaining({
        line: 10,
        command: "npx llmops prompts push summarizer.yaml   # it's registered once",
        setup,
      }),
      expect.objectContaining({ line: 11, command: 'npx llmops prompts get summarizer', setup }),
      expect.objectContaining({ line: 14, expectExit: 1, setup }),
    ]);
    expect(extractCurlExamples(file)).toEqual([expect.objectContaining({ line: 12, setup })]);
  });

  it('runs an example and reports its exit code and output', async () => {
    expect(await runExample({ command: 'echo "$X"; echo oops >&2; exit 3', setup: ['X=1'] })).toEqual({
      exit: 3,
      stdout: '1\n',
      stderr: 'oops\n',
    });
  });
});
