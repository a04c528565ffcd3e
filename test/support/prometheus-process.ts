/**
 * A real Prometheus server (Debian package `prometheus`) scraping given targets, for end-to-end
 * tests that query what Grafana and the alerts would see.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@llmops/testing';

export const prometheusAvailable = spawnSync('prometheus', ['--version']).status === 0;

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PrometheusProcess {
  url: string;
  query(expr: string): Promise<PromSample[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(
  targets: string[],
  scrapeIntervalSeconds = 1,
): Promise<PrometheusProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'llmops-prom-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${scrapeIntervalSeconds}s`,
      `  evaluation_interval: ${scrapeIntervalSeconds}s`,
      'scrape_configs:',
      '  - job_name: llmops',
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  let output = '';
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      /* starting */
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`prometheus did not start: ${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async query(expr: string) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { result: PromSample[] } };
      if (body.status !== 'success') throw new Error(`query failed: ${expr}: ${body.error}`);
      return body.data?.result ?? [];
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
