export * from './launcher';
export * from './infra';
export * from './scenario';
