export * from './route-table';
export * from './service-documents';
