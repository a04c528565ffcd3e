export * from './launcher';
export * from './infra';
