/**
 * The CLI without services: bad files and usage exit 2 before any request (every URL points at a
 * closed port, where a request would exit 3), an unreachable service exits 3, and --url.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { freePort } from '@llmops/testing';
import { EXIT, run, serviceUrls } from './cli';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmops-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [stdout, stderr] = [new PassThrough(), new PassThrough()];
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (d: Buffer) => out.push(d.toString()));
  stderr.on('data', (d: Buffer) => err.push(d.toString()));
  const code = await run(args, {
    stdout,
    stderr,
    env: { LLMOPS_API_KEY: 'llmk_00000000000000000000_secret' },
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('bad input exits 2 before any request', () => {
  // Every service URL points at a closed port: a request would fail with exit 3, not 2.
  let closed: string;
  beforeAll(async () => {
    closed = `http://127.0.0.1:${await freePort()}`;
  });
  const refused = async (args: string[], message: RegExp) => {
    const r = await cli('--url', closed, ...args);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: EXIT.usage,
      stdout: '',
      stderr: expect.stringMatching(message),
    });
  };

  it('invalid JSON and YAML name the place', async () => {
    await refused(
      ['prompts', 'push', file('broken.json', '{\n  "name": "x",\n  "spec": {,}\n}')],
      /broken\.json: invalid JSON at line 3, column 12: /,
    );
    await refused(
      ['prompts', 'push', file('broken.yaml', 'name: x\nspec: [a\n')],
      /broken\.yaml: invalid YAML: .*line 3/,
    );
    await refused(['prompts', 'push', join(dir, 'absent.json')], /absent\.json: cannot read it \(ENOENT\)/);
    await refused(
      ['prompts', 'push', file('prompt.txt', 'x')],
      /prompt\.txt: expected a \.json, \.yaml or \.yml file/,
    );
  });

  it('a file of the wrong shape names the field', async () => {
    await refused(
      ['prompts', 'push', file('no-model.yaml', 'name: x\nspec: { template: "hi" }\n')],
      /no-model\.yaml: spec\.model: expected a non-empty string/,
    );
    await refused(
      ['prompts', 'push', file('typo.yaml', 'name: x\nspecs: { model: m, template: t }\n')],
      /typo\.yaml: unknown field specs \(expected name, spec, metadata\)/,
    );
    await refused(
      [
        'experiments',
        'create',
        file(
          'ref.yaml',
          'key: e\narms:\n  - { name: A, weight: 1, prompt: { name: p, ref: 1 } }\n  - { name: B, weight: 1, prompt: { name: p, ref: "2" } }\n',
        ),
      ],
      /ref\.yaml: arms\[0\]\.prompt\.ref: expected a non-empty string \(quote it in YAML, e\.g\. "1"\)/,
    );
    await refused(
      ['datasets', 'create', file('dataset.json', '{"name":"d","format":"sft"}')],
      /dataset\.json: format: expected chat, preference or eval/,
    );
  });

  it('usage errors: an unknown command or option, a bad choice, a bad --url', async () => {
    await refused(['prompts', 'fetch', 'x'], /unknown command 'fetch'/);
    await refused(['prompts', 'get', 'x', '--verbose'], /unknown option '--verbose'/);
    await refused(['experiments', 'results', 'x', '--window', '2d'], /Allowed choices are 1h, 24h, 7d, all/);
    await refused(['--url', 'search=http://x', 'prompts', 'get', 'x'], /--url: unknown service search/);
  });
});

it('an unreachable service exits 3 after the retries', async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  const down = await cli('--url', `registry=${closed}`, 'prompts', 'get', 'translator');
  expect(down).toMatchObject({ code: EXIT.unavailable, stdout: '' });
  expect(down.stderr).toMatch(/^llmops: get prompt translator@latest: .*\(unreachable\)\n$/);
});

it('--url sets every service, or one with <service>=', () => {
  expect(serviceUrls(['http://gateway', 'registry=http://registry:3001'])).toEqual({
    registry: 'http://registry:3001',
    assignment: 'http://gateway',
    feedback: 'http://gateway',
    analytics: 'http://gateway',
    identity: 'http://gateway',
    datasets: 'http://gateway',
  });
  expect(serviceUrls(['datasets=http://d'])).toEqual({ datasets: 'http://d' });
});

it('prints its help and version with exit 0', async () => {
  const help = await cli('--help');
  expect(help).toMatchObject({ code: EXIT.ok, stderr: '' });
  expect(help.stdout).toMatch(/^Usage: llmops \[options\] \[command\]/);
  expect((await cli('experiments', 'results', '--help')).stdout).toContain('--window <window>');
  expect((await cli('--version')).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
});
