export * from './launcher';
export * from './infra';
export * from './local-secrets';
export * from './local-services';
