export * from './auth-directives.ts';
export * from './pagination.ts';
export * from './rate-limit.ts';
export * from './snippet.ts';
export * from './subgraph.ts';
export * from './validate.ts';
export * from './descriptor.ts';
export * from './service.ts';
