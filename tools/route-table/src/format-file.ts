import { format, resolveConfig } from 'prettier';

/** `text` as the repository's Prettier configuration formats the file at `path`, so lint accepts it. */
export async function formatAsFile(path: string, text: string): Promise<string> {
  const config = (await resolveConfig(path)) ?? {};
  return format(text, { ...config, filepath: path });
}
