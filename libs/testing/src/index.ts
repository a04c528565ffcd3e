export * from './namespace';
export * from './expect-eventually';
export * from './dedicated-infra';
export * from './topic-reader';
export * from './liveness';
export * from './api-keys';
export * from './experiment-snapshots';
