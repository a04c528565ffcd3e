// Placeholder replaced by the real infrastructure bootstrap (see deploy/local).
export default async function globalSetup(): Promise<void> {
  if (process.env.LLMOPS_SKIP_INFRA === '1') return;
}
