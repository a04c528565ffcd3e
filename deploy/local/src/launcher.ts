/**
 * Local infrastructure launchers: a real Apache Kafka broker (KRaft, assembled from Maven
 * Central) and a real MongoDB-wire server (mongod when on the PATH, otherwise FerretDB built
 * from the Go module proxy), started as background processes without Docker.
 *
 * Everything lives under `<repo>/.local/` (gitignored): jars, binaries, data, pid files, logs.
 * Every call is idempotent: a component that already answers is reused, and build steps are
 * skipped when their inputs (pom.xml, go.sum) have not changed since the last build.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { mongo } from 'mongoose';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const LOCAL_DIR = join(REPO_ROOT, '.local');
const KAFKA_POM_DIR = join(REPO_ROOT, 'deploy', 'local', 'kafka');
const FERRET_SRC_DIR = join(REPO_ROOT, 'deploy', 'local', 'ferretdb');
const KAFKA_LIBS = join(LOCAL_DIR, 'kafka', 'libs');
const FERRET_BIN = join(LOCAL_DIR, 'bin', 'ferretdb');
const RUN_DIR = join(LOCAL_DIR, 'run');
export const LOG_DIR = join(LOCAL_DIR, 'logs');

export type Log = (line: string) => void;
const silent: Log = () => undefined;

export interface Component {
  /** Logical name; also the pid/log/data file stem. */
  readonly name: string;
  readonly pid: number | undefined;
  readonly logFile: string;
  readonly dataDir: string;
}

export interface KafkaComponent extends Component {
  readonly port: number;
  readonly controllerPort: number;
  readonly brokers: string;
}

export interface MongoComponent extends Component {
  readonly port: number;
  readonly uri: string;
  readonly engine: 'mongod' | 'ferretdb';
}

function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

function fileHash(...files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(readFileSync(f));
  return h.digest('hex');
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = join(dir, cmd);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function pidFile(name: string): string {
  return join(RUN_DIR, `${name}.pid`);
}

export function readPid(name: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((res) => {
    const socket = createConnection({ port, host });
    const done = (ok: boolean): void => {
      socket.destroy();
      res(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, logFile: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms; see ${logFile}`);
}

export function spawnDetached(
  name: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): number {
  ensureDir(RUN_DIR);
  const logFile = join(ensureDir(LOG_DIR), `${name}.log`);
  const out = openSync(logFile, 'a');
  const child = spawn(cmd, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, ...env },
    cwd: REPO_ROOT,
  });
  child.unref();
  if (!child.pid) throw new Error(`failed to start ${cmd}`);
  writeFileSync(pidFile(name), String(child.pid));
  return child.pid;
}

/**
 * Stops a component started by this module: SIGTERM, then SIGKILL after `graceMs`. `group` signals
 * its whole process group (it was spawned detached, so it leads one) for servers that fork workers.
 */
export async function stopComponent(
  name: string,
  graceMs = 15_000,
  { group = false }: { group?: boolean } = {},
): Promise<boolean> {
  const pid = readPid(name);
  if (!isAlive(pid)) {
    rmSync(pidFile(name), { force: true });
    return false;
  }
  const target = group ? -pid! : pid!;
  try {
    process.kill(target, 'SIGTERM');
  } catch {
    /* already gone */
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      /* already gone */
    }
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(pidFile(name), { force: true });
  return true;
}

// ---------------------------------------------------------------------------------------------
// Kafka
// ---------------------------------------------------------------------------------------------

/** Copies the broker's runtime classpath from Maven Central; skipped when pom.xml is unchanged. */
export function ensureKafkaJars(log: Log = silent): string {
  const stamp = join(KAFKA_LIBS, '.pom-sha256');
  const want = fileHash(join(KAFKA_POM_DIR, 'pom.xml'));
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return KAFKA_LIBS;
  log(`kafka: resolving broker jars with mvn (first run downloads from Maven Central) -> ${KAFKA_LIBS}`);
  rmSync(KAFKA_LIBS, { recursive: true, force: true });
  ensureDir(KAFKA_LIBS);
  execFileSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      join(KAFKA_POM_DIR, 'pom.xml'),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${KAFKA_LIBS}`,
      '-DincludeScope=runtime',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  writeFileSync(stamp, want);
  return KAFKA_LIBS;
}

export interface KafkaOptions {
  name?: string;
  port?: number;
  controllerPort?: number;
  partitions?: number;
  /** Wipe the data directory before starting. */
  fresh?: boolean;
  heapMb?: number;
  log?: Log;
}

function kafkaProperties(
  o: Required<Omit<KafkaOptions, 'log' | 'fresh' | 'heapMb'>>,
  dataDir: string,
): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${o.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${o.port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${dataDir}`,
    `num.partitions=${o.partitions}`,
    'default.replication.factor=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=6',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Local development: rebalances should be quick, not production-cautious.
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    'log.segment.bytes=67108864',
    'log.retention.hours=168',
    'log.cleaner.enable=true',
    '',
  ].join('\n');
}

async function kafkaAnswers(brokers: string): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'llmops-infra-probe',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Starts (or reuses) a single-node KRaft broker and waits until it answers a metadata request. */
/**
 * The KRaft cluster id of a component: fixed per name, so restarts of the same data dir stay
 * consistent. 22 base64url characters, never starting with '-': StorageTool's argument parser reads
 * `-t -xyz…` as an unknown option (Kafka's own Uuid.randomUuid() avoids a leading '-' for the same
 * reason). About one name in 64 hashed to such an id and could never be formatted.
 */
export function kafkaClusterId(name: string): string {
  const id = createHash('sha256').update(name).digest('base64url').slice(0, 22);
  return id.startsWith('-') ? `A${id.slice(1)}` : id;
}

export async function startKafka(opts: KafkaOptions = {}): Promise<KafkaComponent> {
  const o = {
    name: opts.name ?? 'kafka',
    port: opts.port ?? 9092,
    controllerPort: opts.controllerPort ?? (opts.port ?? 9092) + 1,
    partitions: opts.partitions ?? 6,
  };
  const log = opts.log ?? silent;
  const home = ensureDir(join(LOCAL_DIR, 'kafka', o.name));
  const dataDir = join(home, 'data');
  const logFile = join(LOG_DIR, `${o.name}.log`);
  const brokers = `127.0.0.1:${o.port}`;
  const existing = readPid(o.name);
  if (isAlive(existing) && (await kafkaAnswers(brokers))) {
    log(`kafka: ${o.name} already running on ${brokers} (pid ${existing})`);
    return { ...o, pid: existing, logFile, dataDir, brokers };
  }
  if (isAlive(existing)) await stopComponent(o.name);
  if (await portOpen(o.port)) {
    throw new Error(
      `port ${o.port} is in use by a process this launcher did not start; set KAFKA_BROKERS to use it, or KAFKA_PORT to pick another port`,
    );
  }
  const libs = ensureKafkaJars(log);
  if (opts.fresh) rmSync(dataDir, { recursive: true, force: true });
  const props = join(home, 'server.properties');
  writeFileSync(props, kafkaProperties(o, dataDir));
  const classpath = `${libs}/*`;
  const java = which('java') ?? 'java';
  if (!existsSync(join(dataDir, 'meta.properties'))) {
    execFileSync(
      java,
      ['-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', kafkaClusterId(o.name), '-c', props],
      {
        stdio: 'ignore',
      },
    );
  }
  const heap = opts.heapMb ?? 768;
  const pid = spawnDetached(o.name, java, [
    `-Xms${Math.min(256, heap)}m`,
    `-Xmx${heap}m`,
    '-XX:+UseG1GC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(KAFKA_POM_DIR, 'log4j2.properties')}`,
    '-cp',
    classpath,
    'kafka.Kafka',
    props,
  ]);
  log(`kafka: starting ${o.name} on ${brokers} (pid ${pid}); logs: ${logFile}`);
  await waitFor(
    `kafka ${o.name}`,
    async () => {
      if (!isAlive(pid)) throw new Error(`kafka ${o.name} exited during start; see ${logFile}`);
      return kafkaAnswers(brokers);
    },
    90_000,
    logFile,
  );
  return { ...o, pid, logFile, dataDir, brokers };
}

// ---------------------------------------------------------------------------------------------
// MongoDB wire server
// ---------------------------------------------------------------------------------------------

/** A change to FerretDB's source made before it is built (deploy/local/ferretdb/source-patches.json). */
export interface SourcePatch {
  /** The file, relative to the FerretDB module's root. */
  file: string;
  /** What the change mends. */
  why: string;
  /** Text that must occur exactly once in the file. */
  find: string;
  replace: string;
}

const FERRET_MODULE = 'github.com/FerretDB/FerretDB';

/** Gives the owner write access to `path` and, for a folder, to everything in it. */
function makeWritable(path: string): void {
  const stat = statSync(path);
  chmodSync(path, stat.mode | 0o200);
  if (stat.isDirectory()) for (const entry of readdirSync(path)) makeWritable(join(path, entry));
}

/** Removes `path`, also when a copy of the read-only module cache was left in it. */
function removeTree(path: string): void {
  if (!existsSync(path)) return;
  makeWritable(path);
  rmSync(path, { recursive: true, force: true });
}

/**
 * Applies `patches` to the FerretDB sources under `root`. Fails when a patch's text is missing or
 * not unique, so a FerretDB version whose code moved is never built half-patched.
 */
export function applySourcePatches(root: string, patches: readonly SourcePatch[]): void {
  for (const p of patches) {
    const path = join(root, p.file);
    const text = readFileSync(path, 'utf8');
    const at = text.indexOf(p.find);
    if (at < 0 || text.indexOf(p.find, at + 1) >= 0) {
      throw new Error(
        `FerretDB source patch of ${p.file}: expected its text exactly once, found it ${at < 0 ? 'nowhere' : 'more than once'}: ${p.find}`,
      );
    }
    writeFileSync(path, text.slice(0, at) + p.replace + text.slice(at + p.find.length));
  }
}

/**
 * Builds the FerretDB wrapper (deploy/local/ferretdb) once per change of its sources or patches: the
 * FerretDB module of its go.mod, from the Go module proxy, copied and patched
 * (source-patches.json), then built against that copy.
 */
export function ensureFerretBinary(log: Log = silent): string {
  const stamp = `${FERRET_BIN}.sha256`;
  const patchesFile = join(FERRET_SRC_DIR, 'source-patches.json');
  const want = fileHash(
    join(FERRET_SRC_DIR, 'go.mod'),
    join(FERRET_SRC_DIR, 'go.sum'),
    join(FERRET_SRC_DIR, 'main.go'),
    patchesFile,
  );
  if (existsSync(FERRET_BIN) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return FERRET_BIN;
  log('mongodb: mongod not on PATH; building FerretDB v1.24 with go build (first run only)');
  ensureDir(join(LOCAL_DIR, 'bin'));
  const env = { ...process.env, CGO_ENABLED: '0' };
  const work = join(LOCAL_DIR, 'ferretdb-build');
  removeTree(work);
  ensureDir(work);
  // The module as go.mod requires it (downloaded into the module cache when missing).
  const { Dir: moduleDir } = JSON.parse(
    execFileSync('go', ['mod', 'download', '-json', FERRET_MODULE], {
      cwd: FERRET_SRC_DIR,
      env,
      encoding: 'utf8',
    }),
  ) as { Dir: string };
  const patched = join(work, 'FerretDB');
  cpSync(moduleDir, patched, { recursive: true });
  makeWritable(patched); // the module cache's files and folders are read-only
  applySourcePatches(patched, JSON.parse(readFileSync(patchesFile, 'utf8')) as SourcePatch[]);
  for (const f of ['main.go', 'go.sum']) cpSync(join(FERRET_SRC_DIR, f), join(work, f));
  writeFileSync(
    join(work, 'go.mod'),
    `${readFileSync(join(FERRET_SRC_DIR, 'go.mod'), 'utf8')}\nreplace ${FERRET_MODULE} => ./FerretDB\n`,
  );
  execFileSync('go', ['build', '-trimpath', '-o', FERRET_BIN, '.'], {
    cwd: work,
    stdio: ['ignore', 'inherit', 'inherit'],
    env,
  });
  removeTree(work);
  writeFileSync(stamp, want);
  return FERRET_BIN;
}

async function mongoAnswers(uri: string): Promise<boolean> {
  const client = new mongo.MongoClient(uri, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
  try {
    await client.connect();
    const res = await client.db('admin').command({ ping: 1 });
    return res.ok === 1;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}

export interface MongoOptions {
  name?: string;
  port?: number;
  fresh?: boolean;
  /** Force an engine; by default mongod when on the PATH, else FerretDB. */
  engine?: 'mongod' | 'ferretdb';
  /**
   * FerretDB's storage: SQLite files (the default, see the root README's measurements) or a
   * PostgreSQL 15 cluster that the launcher creates and starts beside it (Debian: postgresql-15).
   */
  ferretBackend?: 'sqlite' | 'postgresql';
  log?: Log;
}

const POSTGRES_BIN = ['/usr/lib/postgresql/15/bin', ...(process.env.PATH ?? '').split(':')].find((dir) =>
  existsSync(join(dir, 'initdb')),
);

/** PostgreSQL refuses to run as root; the Debian package's `postgres` user runs it then. */
function asPostgresUser(cmd: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  execFileSync(root ? 'runuser' : cmd, root ? ['-u', 'postgres', '--', cmd, ...args] : args, {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Creates (first time) and starts a PostgreSQL cluster for FerretDB; returns its URL. */
function startPostgres(name: string, port: number, dataDir: string, log: Log): string {
  if (!POSTGRES_BIN)
    throw new Error('PostgreSQL 15 is not installed (Debian: apt-get install postgresql-15)');
  const dir = join(dataDir, 'postgresql');
  const created = !existsSync(join(dir, 'PG_VERSION'));
  if (created) {
    ensureDir(dir);
    if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'postgres', dataDir]);
    asPostgresUser(join(POSTGRES_BIN, 'initdb'), ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  }
  const logFile = join(dataDir, 'postgresql.log');
  asPostgresUser(join(POSTGRES_BIN, 'pg_ctl'), [
    '-D',
    dir,
    '-w',
    '-l',
    logFile,
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
    'start',
  ]);
  log(`mongodb: PostgreSQL for ${name} on 127.0.0.1:${port}; logs: ${logFile}`);
  if (created) {
    execFileSync(
      'psql',
      ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-c', 'CREATE DATABASE ferretdb'],
      {
        stdio: 'ignore',
      },
    );
  }
  return `postgres://postgres@127.0.0.1:${port}/ferretdb`;
}

/** Stops the PostgreSQL cluster of a FerretDB started with `ferretBackend: 'postgresql'`. */
export function stopPostgres(dataDir: string): void {
  const dir = join(dataDir, 'postgresql');
  if (POSTGRES_BIN && existsSync(join(dir, 'postmaster.pid'))) {
    asPostgresUser(join(POSTGRES_BIN, 'pg_ctl'), ['-D', dir, '-w', '-m', 'fast', 'stop']);
  }
}

/** Starts (or reuses) a MongoDB-wire server and waits until it answers `ping`. */
export async function startMongo(opts: MongoOptions = {}): Promise<MongoComponent> {
  const name = opts.name ?? 'mongodb';
  const port = opts.port ?? 27017;
  const log = opts.log ?? silent;
  const mongod = which('mongod');
  const engine = opts.engine ?? (mongod ? 'mongod' : 'ferretdb');
  const dataDir = join(LOCAL_DIR, 'mongodb', name, 'data');
  const logFile = join(LOG_DIR, `${name}.log`);
  const uri = `mongodb://127.0.0.1:${port}`;
  const existing = readPid(name);
  if (isAlive(existing) && (await mongoAnswers(uri))) {
    log(`mongodb: ${name} already running on ${uri} (pid ${existing})`);
    return { name, port, pid: existing, logFile, dataDir, uri, engine };
  }
  if (isAlive(existing)) await stopComponent(name);
  if (await portOpen(port)) {
    throw new Error(
      `port ${port} is in use by a process this launcher did not start; set MONGODB_URI to use it, or MONGODB_PORT to pick another port`,
    );
  }
  if (opts.fresh) rmSync(dataDir, { recursive: true, force: true });
  ensureDir(dataDir);
  let pid: number;
  if (engine === 'mongod') {
    pid = spawnDetached(name, mongod ?? 'mongod', [
      '--dbpath',
      dataDir,
      '--port',
      String(port),
      '--bind_ip',
      '127.0.0.1',
    ]);
  } else {
    const bin = ensureFerretBinary(log);
    const backend =
      opts.ferretBackend === 'postgresql'
        ? ['-handler', 'postgresql', '-postgresql-url', startPostgres(name, port + 1000, dataDir, log)]
        : [];
    pid = spawnDetached(name, bin, ['-listen-addr', `127.0.0.1:${port}`, '-data-dir', dataDir, ...backend]);
  }
  log(`mongodb: starting ${engine} ${name} on ${uri} (pid ${pid}); logs: ${logFile}`);
  await waitFor(
    `mongodb ${name}`,
    async () => {
      if (!isAlive(pid)) throw new Error(`${engine} ${name} exited during start; see ${logFile}`);
      return mongoAnswers(uri);
    },
    60_000,
    logFile,
  );
  return { name, port, pid, logFile, dataDir, uri, engine };
}

export interface ComponentStatus {
  name: string;
  running: boolean;
  pid: number | undefined;
  logFile: string;
}

export function componentStatus(name: string): ComponentStatus {
  const pid = readPid(name);
  return { name, running: isAlive(pid), pid, logFile: join(LOG_DIR, `${name}.log`) };
}
