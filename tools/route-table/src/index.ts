export * from './openapi-documents';
export * from './route-table';
export * from './service-documents';
