/**
 * A broker or database of a test's own, for fault-injection tests that stop and restart it
 * (the shared infrastructure must never be stopped while other files use it).
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { createServer } from 'node:net';
import {
  type KafkaComponent,
  type MongoComponent,
  startKafka,
  startMongo,
  stopComponent,
} from '@llmops/local-infra';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function pidOf(component: { name: string; pid: number | undefined }): number {
  if (!component.pid) throw new Error(`${component.name} has no process id`);
  return component.pid;
}

export interface DedicatedKafka {
  brokers: string;
  component: KafkaComponent;
  stop(): Promise<void>;
  /** Starts again on the same port and data directory: topics and offsets survive. */
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startDedicatedKafka(name: string): Promise<DedicatedKafka> {
  const [port, controllerPort] = [await freePort(), await freePort()];
  const opts = { name: `kafka-${name}`, port, controllerPort, fresh: true, heapMb: 384 };
  let component = await startKafka(opts);
  return {
    brokers: component.brokers,
    get component() {
      return component;
    },
    async stop() {
      await stopComponent(opts.name);
    },
    async start() {
      component = await startKafka({ ...opts, fresh: false });
    },
    async destroy() {
      await stopComponent(opts.name);
      rmSync(dirname(component.dataDir), { recursive: true, force: true });
    },
  };
}

export interface DedicatedMongo {
  uri: string;
  component: MongoComponent;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP: the process keeps its sockets open but answers nothing (a hung database). */
  freeze(): void;
  /** SIGCONT after freeze(). */
  resume(): void;
  destroy(): Promise<void>;
}

export async function startDedicatedMongo(name: string): Promise<DedicatedMongo> {
  const port = await freePort();
  const opts = { name: `mongodb-${name}`, port, fresh: true };
  let component = await startMongo(opts);
  return {
    uri: component.uri,
    get component() {
      return component;
    },
    async stop() {
      await stopComponent(opts.name);
    },
    async start() {
      component = await startMongo({ ...opts, fresh: false });
    },
    freeze() {
      process.kill(pidOf(component), 'SIGSTOP');
    },
    resume() {
      process.kill(pidOf(component), 'SIGCONT');
    },
    async destroy() {
      // A frozen process ignores SIGTERM until it runs again.
      try {
        if (component.pid) process.kill(component.pid, 'SIGCONT');
      } catch {
        // not running
      }
      await stopComponent(opts.name);
      rmSync(dirname(component.dataDir), { recursive: true, force: true });
    },
  };
}
