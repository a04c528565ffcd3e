export * from './audit-trail';
export * from './auth-hook';
export * from './key-directory';
export * from './principal';
export * from './route-auth';
