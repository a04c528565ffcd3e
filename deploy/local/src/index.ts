export * from './launcher';
export * from './mlflow';
export * from './infra';
export * from './local-secrets';
export * from './local-services';
