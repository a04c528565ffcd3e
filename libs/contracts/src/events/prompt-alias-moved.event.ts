import { z } from 'zod';
import { isoDateTime, positiveInt, promptHash, type SchemaKit, STRICT_KIT } from './common.schema';
import { aliasName, opaqueId, promptName } from './text.schema';

export const PROMPT_ALIAS_MOVED = 'io.llmops.prompt.alias.moved.v1';

/**
 * `io.llmops.prompt.alias.moved.v1` on `llmops.prompt-aliases.v1` (key: prompt name).
 *
 * An alias (e.g. `production`) of prompt `name` now points at version `toVersion` / hash `to`.
 * `from` is the hash it pointed at before, or `null` when the alias was created. Aliases of one
 * prompt share the partition key, so moves of an alias are seen in order; the last event per
 * `(name, alias)` is the current target.
 */
export const buildPromptAliasMovedData = (k: SchemaKit) =>
  k.object({
    name: promptName(),
    alias: aliasName(),
    from: promptHash().nullable(),
    to: promptHash(),
    toVersion: positiveInt('integer version'),
    actor: opaqueId('actor', 256),
    movedAt: isoDateTime(),
  });

export const PromptAliasMovedDataSchema = buildPromptAliasMovedData(STRICT_KIT);
export type PromptAliasMovedData = z.infer<typeof PromptAliasMovedDataSchema>;
