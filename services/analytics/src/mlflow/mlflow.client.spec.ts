import { type HttpStub, httpStub } from '@llmops/testing';
import { type MlflowRun, MlflowClient, MlflowRequestError } from './mlflow.client';
import { MlflowUnavailableError } from './mlflow.errors';

type Batch = Parameters<MlflowClient['logBatch']>[1];

/**
 * A client whose run holds `stored` params: a log-batch naming a held param is refused as MLflow
 * refuses it (400), and `concurrent` params are logged by another exporter just before this one's
 * first log-batch lands. With `refuseAll`, every log-batch is refused (a 400 of another cause).
 */
class RunClient extends MlflowClient {
  readonly logged: Array<Batch['params']> = [];
  constructor(
    private readonly stored: Map<string, string>,
    private concurrent: Record<string, string> = {},
    private readonly refuseAll = false,
  ) {
    super('http://mlflow.invalid');
  }

  override async logBatch(_runId: string, batch: Batch): Promise<void> {
    for (const [key, value] of Object.entries(this.concurrent)) this.stored.set(key, value);
    this.concurrent = {};
    if (this.refuseAll || Object.keys(batch.params).some((key) => this.stored.has(key)))
      throw new MlflowRequestError(400, 'BAD_REQUEST', 'runs/log-batch', 'UNIQUE constraint failed');
    for (const [key, value] of Object.entries(batch.params)) this.stored.set(key, value);
    this.logged.push(batch.params);
  }

  override async getRun(runId: string): Promise<MlflowRun> {
    const params = [...this.stored].map(([key, value]) => ({ key, value }));
    return { info: { run_id: runId, status: 'RUNNING' }, data: { params } };
  }
}

const batch = (params: Record<string, string>): Batch => ({ metrics: { n: 1 }, params, tags: {} });

describe('MlflowClient.logBatchNewParams', () => {
  it('logs only the params the run did not hold when read', async () => {
    const client = new RunClient(new Map([['arm', 'A']]));
    await client.logBatchNewParams('r', batch({ arm: 'A', weight: '0.5' }), new Set(['arm']), 0);
    expect(client.logged).toEqual([{ weight: '0.5' }]);
  });

  it('logs once more without them when another exporter logged the same params meanwhile', async () => {
    const client = new RunClient(new Map(), { arm: 'A', control: 'true' });
    await client.logBatchNewParams('r', batch({ arm: 'A', control: 'true', weight: '0.5' }), new Set(), 0);
    expect(client.logged).toEqual([{ weight: '0.5' }]);
  });

  it('throws a refusal that no newly held param explains', async () => {
    const client = new RunClient(new Map([['arm', 'A']]), {}, true);
    await expect(
      client.logBatchNewParams('r', batch({ weight: '0.5' }), new Set(['arm']), 0),
    ).rejects.toBeInstanceOf(MlflowRequestError);
    expect(client.logged).toEqual([]);
  });
});

/**
 * An MLflow at a local port that takes every request and, per run id, never answers (`silent`) or
 * sends its headers and never its body (`stalled`).
 */
describe('MlflowClient: a server that does not answer in time', () => {
  let server: HttpStub;
  let client: MlflowClient;

  beforeAll(async () => {
    server = await httpStub((req, res) => {
      if (req.url?.includes('run_id=stalled')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"run":');
      }
    });
    client = new MlflowClient(server.url, 300);
  });

  afterAll(() => server.close());

  it.each(['silent', 'stalled'])('fails as unavailable at the deadline when it is %s', async (runId) => {
    const started = Date.now();
    const call = client.getRun(runId);
    await expect(call).rejects.toBeInstanceOf(MlflowUnavailableError);
    await expect(call).rejects.toThrow('did not answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
