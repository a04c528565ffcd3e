/**
 * The shipped Grafana dashboards without a Grafana: every panel queries the provisioned Prometheus
 * datasource, panels do not overlap, every series a query names is one the code exports (so a
 * renamed metric fails here, not on an empty panel), every query is valid PromQL (promtool parses
 * them as recording rules; skipped without promtool, like prometheus.spec.ts), and the platform
 * health dashboard has a Datasets row on the datasets service's series. The end-to-end test runs the
 * same queries against a real Prometheus.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

const root = join(__dirname, '..', '..');
const dashboardsDir = join(root, 'deploy', 'grafana', 'dashboards');

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}

const dashboards = readdirSync(dashboardsDir)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({
    file,
    ...(JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as { uid: string; panels: Panel[] }),
  }));

const datasource = (
  parse(readFileSync(join(root, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
    datasources: Array<{ uid: string; type: string }>;
  }
).datasources[0];

/** Every `'llmops_…'` string literal of the services' and libs' sources: the series they export. */
function exportedSeries(): Set<string> {
  const names = new Set<string>();
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/'(llmops_[a-z0-9_]+)'/g)) names.add(m[1]);
      }
    }
  };
  for (const top of ['libs', 'services']) {
    for (const project of readdirSync(join(root, top))) {
      const src = join(root, top, project, 'src');
      if (existsSync(src)) visit(src);
    }
  }
  return names;
}

/** A query with the dashboards' variables replaced by values, as Prometheus receives it. */
const resolved = (expr: string): string =>
  expr
    .replaceAll('$experiment', 'demo')
    .replaceAll('$window', '1h')
    .replaceAll('$service', '.*')
    .replaceAll('$__rate_interval', '1m');

const queries = dashboards.flatMap((d) =>
  d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ dashboard: d.file, panel: p, target: t }))),
);

const promtool = spawnSync('promtool', ['--version']).status === 0;

describe('grafana dashboards', () => {
  it('query the provisioned Prometheus datasource in every panel and target', () => {
    expect(datasource).toMatchObject({ type: 'prometheus' });
    for (const { dashboard, panel, target } of queries) {
      const where = `${dashboard} / ${panel.title} / ${target.refId}`;
      const expected = { type: 'prometheus', uid: datasource.uid };
      expect({ where, panel: panel.datasource, target: target.datasource }).toEqual({
        where,
        panel: expected,
        target: expected,
      });
    }
  });

  it.each(dashboards.map((d) => [d.file, d] as const))(
    '%s: unique panel ids, and no two panels overlap on the 24-column grid',
    (_, dashboard) => {
      const ids = dashboard.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      const overlaps: string[] = [];
      dashboard.panels.forEach((a, i) => {
        expect({ panel: a.title, fits: a.gridPos.x >= 0 && a.gridPos.x + a.gridPos.w <= 24 }).toEqual({
          panel: a.title,
          fits: true,
        });
        for (const b of dashboard.panels.slice(i + 1)) {
          const apart =
            a.gridPos.x + a.gridPos.w <= b.gridPos.x ||
            b.gridPos.x + b.gridPos.w <= a.gridPos.x ||
            a.gridPos.y + a.gridPos.h <= b.gridPos.y ||
            b.gridPos.y + b.gridPos.h <= a.gridPos.y;
          if (!apart) overlaps.push(`${a.title} / ${b.title}`);
        }
      });
      expect(overlaps).toEqual([]);
    },
  );

  it('name only series the code exports (histograms by their _bucket, _sum and _count)', () => {
    const exported = exportedSeries();
    expect(exported.size).toBeGreaterThan(20);
    const unknown = queries.flatMap(({ dashboard, panel, target }) =>
      [...target.expr.matchAll(/\bllmops_[a-z0-9_]+/g)]
        .map((m) => m[0])
        .filter((name) => !exported.has(name) && !exported.has(name.replace(/_(bucket|sum|count)$/, '')))
        .map((name) => `${dashboard} / ${panel.title}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  (promtool ? it : it.skip)('hold valid PromQL: promtool parses every query as a recording rule', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmops-grafana-'));
    try {
      const rules = queries.map(({ dashboard, panel, target }) => ({
        record: `grafana:${dashboard.replace(/\W/g, '_')}:panel_${panel.id}_${target.refId}`,
        expr: resolved(target.expr),
      }));
      writeFileSync(join(dir, 'panels.yml'), stringify({ groups: [{ name: 'panels', rules }] }));
      const check = spawnSync('promtool', ['check', 'rules', 'panels.yml'], { cwd: dir, encoding: 'utf8' });
      expect({ status: check.status, output: `${check.stdout}${check.stderr}` }).toEqual({
        status: 0,
        output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('platform health: the Datasets row', () => {
    const health = dashboards.find((d) => d.uid === 'llmops-platform-health')!;
    const row = health.panels.find((p) => p.type === 'row' && p.title === 'Datasets')!;
    /** The panels below the row (up to the next row, if any). */
    const below = health.panels.filter(
      (p) =>
        p.type !== 'row' &&
        p.gridPos.y > row.gridPos.y &&
        !health.panels.some(
          (r) => r.type === 'row' && r.gridPos.y > row.gridPos.y && r.gridPos.y <= p.gridPos.y,
        ),
    );
    const exprs = below.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

    it('is there, with panels under it', () => {
      expect(row).toBeDefined();
      expect(below.length).toBeGreaterThanOrEqual(5);
    });

    it.each([
      ['examples materialized and parked', /llmops_datasets_examples\b/],
      ['the consumed event rate by outcome', /rate\(llmops_datasets_events_total\[/],
      ['snapshot sizes', /llmops_datasets_snapshot_records_(sum|count|bucket)/],
      ['the export byte rate', /rate\(llmops_datasets_export_bytes_total\[/],
      ["the datasets consumer group's lag", /llmops_consumer_lag_messages\{service="datasets"\}/],
    ])('shows %s', (_, pattern) => {
      expect(exprs.filter((e) => pattern.test(e))).toHaveLength(1);
    });
  });
});
