export * from './scenario';
export { demoKey, explain } from './demo';
