export * from './scenario';
export * from './flywheel';
export { demoKey, explain } from './demo';
