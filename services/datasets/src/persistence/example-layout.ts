/**
 * How examples are stored, chosen at boot (DATASETS_EXAMPLE_LAYOUT):
 * - `documents`: one document per example in `examples`, changed by unconditional upserts. Needs a
 *   server that updates a document by `_id` through its index (MongoDB).
 * - `facts`: insert-only facts in `example_facts`, one per generation and per feedback revision,
 *   folded into examples when a snapshot reads them. For FerretDB, whose every update and `findOne`
 *   scans the whole collection, while an insert costs the same at any size.
 * Only ExampleWriter and ExampleReader know the difference.
 */
export type ExampleLayout = 'documents' | 'facts';

export const EXAMPLE_LAYOUT = Symbol('EXAMPLE_LAYOUT');

/**
 * The kind of server behind the connection (`mongoServerKind`), asked once at boot: it decides the
 * `auto` example layout and how a download reads a split (SnapshotRepository.readRecords).
 */
export const MONGO_SERVER_KIND = Symbol('MONGO_SERVER_KIND');
