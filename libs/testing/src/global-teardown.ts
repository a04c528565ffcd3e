/**
 * Stops what the global setup started with testcontainers. Local launcher processes are left
 * running so that the next run starts in about a second; `npm run infra:down` stops them
 * (.ci/run does so at the end).
 */
export default async function globalTeardown(): Promise<void> {
  const containers = globalThis.__LLMOPS_CONTAINERS__ ?? [];
  await Promise.all(containers.map((c) => c.stop()));
}
