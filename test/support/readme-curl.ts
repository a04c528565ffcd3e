/**
 * Extracts the `curl` examples from README files so the end-to-end test can run them against
 * live services. Conventions for README authors:
 *  - examples live in ```bash or ```sh fences and target http://localhost:<default port>;
 *  - a comment line `# expect: 409` right before a curl states its expected status (else 2xx);
 *  - backslash line continuations and multi-line single-quoted bodies are joined;
 *  - a trailing pipe (`| jq .`) is dropped: the test checks the HTTP status, not the formatting;
 *  - examples authenticate with `-H "Authorization: Bearer $LLMOPS_API_KEY"`: runCurl is given the
 *    variables to set, and a variable it was not given fails the example (bash -u), so an example
 *    never runs with an empty key by accident.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CurlExample {
  file: string;
  line: number;
  command: string;
  expectStatus?: number;
}

export function extractCurlExamples(file: string): CurlExample[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const examples: CurlExample[] = [];
  let inShell = false;
  let expectStatus: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = /^\s*```\s*(\w*)/.exec(line);
    if (fence) {
      inShell = !inShell && ['bash', 'sh', 'shell', 'console'].includes(fence[1]);
      expectStatus = undefined;
      continue;
    }
    if (!inShell) continue;
    const expect = /^\s*#\s*expect:\s*(\d{3})/.exec(line);
    if (expect) {
      expectStatus = Number(expect[1]);
      continue;
    }
    const start = line.replace(/^\s*\$\s*/, '');
    if (!/^curl\s/.test(start)) continue;
    let command = start;
    const first = i;
    while (i + 1 < lines.length) {
      if (/\\\s*$/.test(command)) command = command.replace(/\\\s*$/, ' ') + lines[++i].trim();
      else if (openQuote(command)) command = `${command}\n${lines[++i]}`;
      else break;
    }
    examples.push({ file, line: first + 1, command: stripPipe(command), expectStatus });
    expectStatus = undefined;
  }
  return examples;
}

/** True while a single or double quote opened in `text` is not closed yet. */
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
 * Runs a curl example as written (through `bash -u`, with `vars` set, e.g. `LLMOPS_API_KEY`) and
 * returns the HTTP status of its response.
 */
export function runCurl(
  command: string,
  vars: Record<string, string> = {},
): Promise<{ status: number; stderr: string }> {
  const instrumented = command.replace(/^curl\s/, `curl -sS -o /dev/null -w '%{http_code}' --max-time 20 `);
  return new Promise((resolve) => {
    const child = spawn('bash', ['-u', '-c', instrumented], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...vars },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', () => resolve({ status: Number(out.trim().slice(-3)) || 0, stderr: err }));
  });
}
