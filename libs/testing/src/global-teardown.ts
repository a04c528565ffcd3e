export default async function globalTeardown(): Promise<void> {
  if (process.env.LLMOPS_SKIP_INFRA === '1') return;
}
