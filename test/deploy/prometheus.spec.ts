/**
 * promtool checks of the shipped Prometheus config and alert rules, plus the rule unit tests
 * (deploy/prometheus/alerts.test.yml). .ci/run installs promtool; on a developer machine without
 * it these tests are skipped, in CI (CI=true) its absence is a failure.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const dir = join(__dirname, '..', '..', 'deploy', 'prometheus');
const promtool = spawnSync('promtool', ['--version']).status === 0;
const maybe = promtool ? it : it.skip;

function run(...args: string[]): string {
  return execFileSync('promtool', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('prometheus config and alert rules (promtool)', () => {
  it('has promtool available in CI', () => {
    if (process.env.CI === 'true') expect(promtool).toBe(true);
  });

  maybe('promtool check config accepts the docker-compose scrape config', () => {
    expect(run('check', 'config', 'prometheus.docker.yml')).toMatch(/SUCCESS/);
  });

  maybe('promtool check rules accepts the alert rules', () => {
    expect(run('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: 9 rules found/);
  });

  maybe('promtool test rules: every alert fires when it should and stays quiet otherwise', () => {
    expect(run('test', 'rules', 'alerts.test.yml')).toMatch(/SUCCESS/);
  });
});
