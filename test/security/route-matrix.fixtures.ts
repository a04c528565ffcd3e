/**
 * How the route matrix (route-matrix.e2e-spec.ts) calls each operation of each service's OpenAPI
 * document: a valid request built from a project's resources (its "world"), the status of success,
 * and how another project's key is refused. An operation without an entry here fails the matrix,
 * so a new route fails CI until it is classified here.
 */
import type { Scope } from '@llmops/contracts';
import type { ServiceName } from '@llmops/route-table';

/** A project's resources, created by the matrix before it calls the operations. */
export interface World {
  project: string;
  prompt: string;
  /** Full hashes of the prompt's two versions; `alias` points at v1. */
  v1: string;
  v2: string;
  alias: string;
  /** A running experiment with arms A and B: assignment, ingestion and results use it. */
  experiment: string;
  /** Experiments each of which one state-changing route changes (so their order does not matter). */
  draftToStart: string;
  draftToPatch: string;
  runningToPause: string;
  runningToStop: string;
  runningForPhase: string;
  /** The requestId of a feedback item without a generation: analytics parks it (unattributed). */
  parkedRequest: string;
  /** An arm `experiment` does not have, named by one of its generations (uncounted). */
  uncountedArm: string;
  /** Ids of keys of the project (stored by the identity service). */
  keyId: string;
  keyToRevoke: string;
  /** Projects the platform-wide routes create and delete. */
  projectToCreate: string;
  projectToDelete: string;
  /** A dataset with one snapshot (`snapshot`, its 64-hex id): reads and downloads use them. */
  dataset: string;
  snapshot: string;
  /** Datasets the create, snapshot and delete routes use (so their order does not matter). */
  datasetToCreate: string;
  datasetToSnapshot: string;
  datasetToDelete: string;
}

/** What a world of resources that do not exist anywhere looks like (same shapes, other values). */
export const MISSING_WORLD: World = {
  project: 'matrix-nowhere',
  prompt: 'nowhere-prompt',
  v1: 'e'.repeat(64),
  v2: 'f'.repeat(64),
  alias: 'nowhere-alias',
  experiment: 'nowhere-experiment',
  draftToStart: 'nowhere-start',
  draftToPatch: 'nowhere-patch',
  runningToPause: 'nowhere-pause',
  runningToStop: 'nowhere-stop',
  runningForPhase: 'nowhere-phase',
  parkedRequest: 'nowhere-parked',
  uncountedArm: 'nowhere-arm',
  keyId: '0'.repeat(20),
  keyToRevoke: '1'.repeat(20),
  projectToCreate: 'matrix-nowhere-new',
  projectToDelete: 'matrix-nowhere-old',
  dataset: 'nowhere-dataset',
  snapshot: 'd'.repeat(64),
  datasetToCreate: 'nowhere-dataset-new',
  datasetToSnapshot: 'nowhere-dataset-fresh',
  datasetToDelete: 'nowhere-dataset-old',
};

export interface MatrixRequest {
  /** Values of the path template's parameters. */
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

/**
 * How a fully scoped key of another project (without `platform:admin`) fares on the request built
 * from this project's world:
 *  - `as-missing`: exactly what the same request naming resources that exist nowhere answers
 *    (status and error body, the names aside), and that status is `status` (404 unless said);
 *  - `listing`: this project's own key lists `item` (so the listing is not empty by construction),
 *    and another project's key gets a success without it that names none of this project's resources;
 *  - `own-project`: the request acts in the caller's own project and succeeds with `status`;
 *  - `platform-wide`: `platform:admin` routes act on any project by design.
 */
export type CrossProject =
  | { kind: 'as-missing'; status?: number }
  | {
      kind: 'listing';
      item(world: World): Record<string, unknown>;
      /** The body's field holding the list (default `items`). */
      list?: string;
    }
  | { kind: 'own-project'; status: number }
  | { kind: 'platform-wide' };

export interface RouteFixture {
  request(world: World): MatrixRequest;
  /** Status of success with a key holding the operation's scope (and `successScopes`). */
  success: number;
  /** All the scopes success takes, when the route needs more than its own (say why). */
  successScopes?: Scope[];
  crossProject: CrossProject;
}

const spec = (template: string) => ({
  spec: { template, model: 'gpt-4o-mini', params: { temperature: 0.7, max_tokens: 256 } },
});

/** Request bodies the matrix also uses to build the world. */
export const bodies = {
  version: (n: 1 | 2 | 3) => spec(`Summarize, take ${n}: {text}`),
  experiment: (w: World, key: string) => ({
    key,
    description: 'route matrix',
    arms: [
      { name: 'A', weight: 0.5, prompt: { name: w.prompt, ref: w.v1 } },
      { name: 'B', weight: 0.5, prompt: { name: w.prompt, ref: w.v2 } },
    ],
  }),
  generation: (w: World, requestId: string) => ({
    requestId,
    experiment: w.experiment,
    arm: 'A',
    userId: 'user-1',
    model: 'gpt-4o-mini',
    output: 'A summary.',
    latencyMs: 120,
  }),
  feedback: (w: World, requestId: string) => ({
    requestId,
    experiment: w.experiment,
    arm: 'A',
    userId: 'user-1',
    rating: 4,
    source: 'user',
  }),
  /** Preference pairs of the world's experiment. */
  dataset: (w: World, name: string) => ({
    name,
    format: 'preference',
    filter: { experiment: w.experiment },
    split: { validation: 0.1 },
  }),
};

const notFound: CrossProject = { kind: 'as-missing' };

export const FIXTURES: Record<ServiceName, Record<string, RouteFixture>> = {
  registry: {
    'POST /v1/prompts/{name}/versions': {
      request: (w) => ({ params: { name: w.prompt }, body: bodies.version(3) }),
      success: 201,
      // Names are per project: the other project registers a prompt of its own under the same name.
      crossProject: { kind: 'own-project', status: 201 },
    },
    'GET /v1/prompts': {
      request: () => ({}),
      success: 200,
      crossProject: { kind: 'listing', item: (w) => ({ name: w.prompt }) },
    },
    'GET /v1/prompts/{name}/versions': {
      request: (w) => ({ params: { name: w.prompt } }),
      success: 200,
      crossProject: notFound,
    },
    'GET /v1/prompts/{name}/versions/{ref}': {
      request: (w) => ({ params: { name: w.prompt, ref: w.v1 } }),
      success: 200,
      crossProject: notFound,
    },
    'GET /v1/prompts/{name}/latest': {
      request: (w) => ({ params: { name: w.prompt } }),
      success: 200,
      crossProject: notFound,
    },
    'POST /v1/prompts/{name}/render': {
      request: (w) => ({ params: { name: w.prompt }, body: { ref: w.alias, variables: { text: 'x' } } }),
      success: 200,
      crossProject: notFound,
    },
    'GET /v1/prompts/{name}/diff': {
      request: (w) => ({ params: { name: w.prompt }, query: { from: w.v1, to: w.v2 } }),
      success: 200,
      crossProject: notFound,
    },
    'PUT /v1/prompts/{name}/aliases/{alias}': {
      request: (w) => ({ params: { name: w.prompt, alias: 'staging' }, body: { ref: w.v2 } }),
      success: 200,
      crossProject: notFound,
    },
    'GET /v1/prompts/{name}/aliases/{alias}': {
      request: (w) => ({ params: { name: w.prompt, alias: w.alias } }),
      success: 200,
      crossProject: notFound,
    },
    'GET /v1/prompts/{name}/aliases/{alias}/history': {
      request: (w) => ({ params: { name: w.prompt, alias: w.alias } }),
      success: 200,
      crossProject: notFound,
    },
  },
  assignment: {
    'POST /v1/experiments': {
      request: (w) => ({ body: bodies.experiment(w, 'exp-created') }),
      success: 201,
      // The arms' prompt refs are resolved in the registry with the caller's key.
      successScopes: ['experiments:write', 'prompts:read'],
      // Another project's prompts are unknown refs, as missing ones are.
      crossProject: { kind: 'as-missing', status: 422 },
    },
    'GET /v1/experiments': {
      request: () => ({}),
      success: 200,
      crossProject: { kind: 'listing', item: (w) => ({ key: w.experiment }) },
    },
    'GET /v1/experiments/{key}': {
      request: (w) => ({ params: { key: w.experiment } }),
      success: 200,
      crossProject: notFound,
    },
    'PATCH /v1/experiments/{key}': {
      request: (w) => ({ params: { key: w.draftToPatch }, body: { description: 'patched by the matrix' } }),
      success: 200,
      crossProject: notFound,
    },
    'POST /v1/experiments/{key}/start': {
      request: (w) => ({ params: { key: w.draftToStart }, body: {} }),
      success: 200,
      crossProject: notFound,
    },
    'POST /v1/experiments/{key}/pause': {
      request: (w) => ({ params: { key: w.runningToPause }, body: {} }),
      success: 200,
      crossProject: notFound,
    },
    'POST /v1/experiments/{key}/stop': {
      request: (w) => ({ params: { key: w.runningToStop }, body: {} }),
      success: 200,
      crossProject: notFound,
    },
    'POST /v1/experiments/{key}/phases': {
      request: (w) => ({ params: { key: w.runningForPhase }, body: { seed: 'matrix-phase-2' } }),
      success: 201,
      crossProject: notFound,
    },
    'POST /v1/assign': {
      request: (w) => ({ body: { experiment: w.experiment, userId: 'user-1' } }),
      success: 200,
      crossProject: notFound,
    },
    'POST /v1/assign/batch': {
      request: (w) => ({ body: { items: [{ experiment: w.experiment, userId: 'user-1' }] } }),
      success: 200,
      // Per item: the item answers what an item of a missing experiment answers.
      crossProject: { kind: 'as-missing', status: 200 },
    },
    'GET /v1/experiments/snapshots': {
      request: () => ({}),
      success: 200,
      crossProject: { kind: 'listing', list: 'experiments', item: (w) => ({ key: w.experiment }) },
    },
    'POST /v1/exposures': {
      request: (w) => ({
        body: { items: [{ experiment: w.experiment, userId: 'user-1', arm: 'A', phase: 1 }] },
      }),
      success: 202,
      // Per item: the item is rejected as an item of a missing experiment is.
      crossProject: { kind: 'as-missing', status: 202 },
    },
  },
  feedback: {
    'POST /v1/generations': {
      request: (w) => ({ body: bodies.generation(w, 'matrix-gen-1') }),
      success: 202,
      crossProject: notFound,
    },
    'POST /v1/generations/batch': {
      request: (w) => ({ body: { items: [bodies.generation(w, 'matrix-gen-2')] } }),
      success: 202,
      // Every item rejected as an item of a missing experiment is (400 batch_rejected, per item).
      crossProject: { kind: 'as-missing', status: 400 },
    },
    'POST /v1/feedback': {
      request: (w) => ({ body: bodies.feedback(w, 'matrix-gen-1') }),
      success: 202,
      crossProject: notFound,
    },
    'POST /v1/feedback/batch': {
      request: (w) => ({ body: { items: [bodies.feedback(w, 'matrix-gen-2')] } }),
      success: 202,
      // Every item rejected as an item of a missing experiment is (400 batch_rejected, per item).
      crossProject: { kind: 'as-missing', status: 400 },
    },
  },
  analytics: {
    'GET /v1/experiments/{key}/results': {
      request: (w) => ({ params: { key: w.experiment } }),
      success: 200,
      crossProject: notFound,
    },
    'POST /v1/experiments/{key}/export/mlflow': {
      request: (w) => ({ params: { key: w.experiment } }),
      // The matrix's analytics has no MLflow: past authorization and the experiment lookup, the
      // route answers 503 mlflow_not_configured (test/e2e/mlflow.e2e-spec.ts exports for real).
      success: 503,
      crossProject: notFound,
    },
    'GET /v1/feedback/unattributed': {
      request: () => ({}),
      success: 200,
      crossProject: {
        kind: 'listing',
        item: (w) => ({ requestId: w.parkedRequest }),
      },
    },
    'GET /v1/arms/uncounted': {
      request: () => ({}),
      success: 200,
      crossProject: {
        kind: 'listing',
        item: (w) => ({ experiment: w.experiment, arm: w.uncountedArm, reason: 'arm_not_in_experiment' }),
      },
    },
  },
  identity: {
    'POST /v1/projects': {
      request: (w) => ({ body: { id: w.projectToCreate } }),
      success: 201,
      crossProject: { kind: 'platform-wide' },
    },
    'GET /v1/projects/{project}': {
      request: (w) => ({ params: { project: w.project } }),
      success: 200,
      crossProject: notFound,
    },
    'DELETE /v1/projects/{project}': {
      request: (w) => ({ params: { project: w.projectToDelete } }),
      success: 204,
      crossProject: { kind: 'platform-wide' },
    },
    'POST /v1/projects/{project}/keys': {
      request: (w) => ({
        params: { project: w.project },
        body: { name: 'matrix', scopes: ['prompts:read'] },
      }),
      success: 201,
      crossProject: notFound,
    },
    'GET /v1/projects/{project}/keys': {
      request: (w) => ({ params: { project: w.project } }),
      success: 200,
      crossProject: notFound,
    },
    'GET /v1/projects/{project}/keys/{keyId}': {
      request: (w) => ({ params: { project: w.project, keyId: w.keyId } }),
      success: 200,
      crossProject: notFound,
    },
    'DELETE /v1/projects/{project}/keys/{keyId}': {
      request: (w) => ({ params: { project: w.project, keyId: w.keyToRevoke } }),
      success: 204,
      crossProject: notFound,
    },
    'GET /v1/audit': {
      request: (w) => ({ query: { project: w.project } }),
      success: 200,
      crossProject: notFound,
    },
  },
  datasets: {
    'POST /v1/datasets': {
      request: (w) => ({ body: bodies.dataset(w, w.datasetToCreate) }),
      success: 201,
      // Names are per project: the other project creates a dataset of its own under the same name.
      crossProject: { kind: 'own-project', status: 201 },
    },
    'GET /v1/datasets': {
      request: () => ({}),
      success: 200,
      crossProject: { kind: 'listing', item: (w) => ({ name: w.dataset }) },
    },
    'GET /v1/datasets/{name}': {
      request: (w) => ({ params: { name: w.dataset } }),
      success: 200,
      crossProject: notFound,
    },
    'DELETE /v1/datasets/{name}': {
      request: (w) => ({ params: { name: w.datasetToDelete } }),
      success: 204,
      crossProject: notFound,
    },
    'POST /v1/datasets/{name}/snapshots': {
      request: (w) => ({ params: { name: w.datasetToSnapshot } }),
      // Its first snapshot (a snapshot equal to an existing one answers 200).
      success: 201,
      crossProject: notFound,
    },
    'GET /v1/datasets/{name}/snapshots': {
      request: (w) => ({ params: { name: w.dataset } }),
      success: 200,
      crossProject: notFound,
    },
    'GET /v1/datasets/{name}/snapshots/{ref}': {
      request: (w) => ({ params: { name: w.dataset, ref: w.snapshot } }),
      success: 200,
      crossProject: notFound,
    },
    'GET /v1/datasets/{name}/snapshots/{ref}/download': {
      request: (w) => ({
        params: { name: w.dataset, ref: w.snapshot },
        query: { split: 'train', format: 'trl-dpo' },
      }),
      success: 200,
      crossProject: notFound,
    },
  },
};
