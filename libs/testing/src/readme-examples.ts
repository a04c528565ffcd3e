/**
 * Extracts the `curl` examples from README files so the end-to-end test can run them against
 * live services. Conventions for README authors:
 *  - examples live in ```bash or ```sh fences and target http://localhost:<default port>;
 *  - a comment line `# expect: 409` right before a curl states its expected status (else 2xx);
 *  - backslash line continuations and multi-line single-quoted bodies are joined;
 *  - a trailing pipe (`| jq .`) is dropped: the test checks the HTTP status, not the formatting;
 *  - examples authenticate with the operator key as a reader who ran `npm start` has it: in
 *    `$LLMOPS_API_KEY`, or in a variable an earlier line of the same README sets (`KEY=$(cat
 *    .local/dev-admin-key)`). The README's variable assignments run before each later curl, as in
 *    a reader's shell, in a folder holding `.local/dev-admin-key` (runCurl's `cwd`), and a variable
 *    nobody set fails the example (bash -u), so an example never runs with an empty key by accident.
 * The `llmops` CLI's examples follow the same conventions (`extractExamples(file, 'npx llmops')`):
 *  - `# expect: exit 1` before one states its expected exit code (else 0);
 *  - a ```yaml fence whose first line is a comment naming a file (`# summarizer.yaml`) is a file the
 *    reader writes; `extractFiles` returns them, to be written where the examples run.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CurlExample {
  file: string;
  line: number;
  command: string;
  expectStatus?: number;
  /** A CLI example's expected exit code (`# expect: exit 1`). */
  expectExit?: number;
  /** The README's variable assignments before this curl, run before it. */
  setup: string[];
}

export function extractCurlExamples(file: string): CurlExample[] {
  return extractExamples(file, 'curl');
}

/** The shell examples of a README that run `program` (e.g. `curl`, `npx llmops`). */
export function extractExamples(file: string, program: string): CurlExample[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const examples: CurlExample[] = [];
  const starts = new RegExp(`^${program.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s`);
  let inShell = false;
  let expectStatus: number | undefined;
  let expectExit: number | undefined;
  const setup: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = /^\s*```\s*(\w*)/.exec(line);
    if (fence) {
      inShell = !inShell && ['bash', 'sh', 'shell', 'console'].includes(fence[1]);
      expectStatus = expectExit = undefined;
      continue;
    }
    if (!inShell) continue;
    const expect = /^\s*#\s*expect:\s*(?:(\d{3})|exit (\d+))/.exec(line);
    if (expect) {
      if (expect[1] !== undefined) expectStatus = Number(expect[1]);
      else expectExit = Number(expect[2]);
      continue;
    }
    const start = line.replace(/^\s*\$\s*/, '');
    if (isAssignmentLine(start)) {
      setup.push(start);
      continue;
    }
    if (!starts.test(start)) continue;
    let command = start;
    const first = i;
    while (i + 1 < lines.length) {
      if (/\\\s*$/.test(command)) command = command.replace(/\\\s*$/, ' ') + lines[++i].trim();
      else if (openQuote(command)) command = `${command}\n${lines[++i]}`;
      else break;
    }
    examples.push({
      file,
      line: first + 1,
      command: stripPipe(command),
      expectStatus,
      ...(expectExit !== undefined ? { expectExit } : {}),
      setup: [...setup],
    });
    expectStatus = expectExit = undefined;
  }
  return examples;
}

/** The files a README shows to write: ```yaml fences whose first line is `# <name>.yaml`. */
export function extractFiles(file: string): Array<{ name: string; content: string }> {
  const fences = readFileSync(file, 'utf8').matchAll(/^```ya?ml\n#\s*([\w.-]+\.ya?ml)\s*\n([\s\S]*?)^```/gm);
  return [...fences].map((m) => ({ name: m[1], content: m[2] }));
}

const VALUE = String.raw`(?:"[^"]*"|'[^']*'|\$\([^)]*\)|[^\s;'"#])*`;
const ASSIGNMENT = new RegExp(String.raw`^(?:export\s+)?[A-Za-z_]\w*=${VALUE}$`);

/**
 * A line of variable assignments only (`KEY=$(cat .local/dev-admin-key); AUTH="..."  # comment`),
 * not a command with an environment prefix (`BENCH_ONLY=x npm run bench`).
 */
export function isAssignmentLine(line: string): boolean {
  const parts = line
    .replace(/\s+#.*$/, '')
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean);
  return parts.length > 0 && parts.every((p) => ASSIGNMENT.test(p));
}

/** True while a single or double quote opened in `text` (outside comments) is not closed yet. */
function openQuote(text: string): boolean {
  return scan(text).open;
}

/** Cuts a command at its first top-level pipe. */
function stripPipe(command: string): string {
  const at = scan(command).pipeAt;
  return at === undefined ? command : command.slice(0, at).trimEnd();
}

function scan(text: string): { open: boolean; pipeAt?: number } {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === '|') return { open: false, pipeAt: i };
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) {
      // A comment, as bash reads it: its quotes and pipes are text.
      const end = text.indexOf('\n', i);
      if (end === -1) break;
      i = end;
    }
  }
  return { open: quote !== undefined };
}

/** Rewrites default local ports to where the test's services listen. */
export function retarget(command: string, ports: Record<number, string>): string {
  return command.replace(
    /(?:https?:\/\/)?(?:localhost|127\.0\.0\.1):(\d{2,5})/g,
    (match, port: string) => ports[Number(port)] ?? match,
  );
}

/**
 * Runs a curl example as written, after its fence's assignments (through `bash -u`, in `cwd`, with
 * only `vars` set besides PATH and HOME, e.g. `LLMOPS_API_KEY`), and returns the HTTP status of its
 * response.
 */
export async function runCurl(
  example: Pick<CurlExample, 'command' | 'setup'>,
  o: { vars?: Record<string, string>; cwd?: string } = {},
): Promise<{ status: number; stderr: string }> {
  const instrumented = example.command.replace(
    /^curl\s/,
    `curl -sS -o /dev/null -w '%{http_code}' --max-time 20 `,
  );
  const { stdout, stderr } = await runExample({ command: instrumented, setup: example.setup }, o);
  return { status: Number(stdout.trim().slice(-3)) || 0, stderr };
}

/**
 * Runs an example as written, after its fence's assignments (through `bash -u`, in `cwd`, with only
 * `vars` set besides PATH and HOME), and returns its exit code and output.
 */
export function runExample(
  example: Pick<CurlExample, 'command' | 'setup'>,
  o: { vars?: Record<string, string>; cwd?: string } = {},
): Promise<{ exit: number; stdout: string; stderr: string }> {
  const script = [...example.setup, example.command].join('\n');
  return new Promise((resolve) => {
    const child = spawn('bash', ['-u', '-c', script], {
      cwd: o.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...o.vars },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ exit: code ?? 1, stdout: out, stderr: err }));
  });
}
