export * from './identities.ts';
export * from './graphql-client.ts';
export * from './services.ts';
export * from './net.ts';
export * from './openai-stub.ts';
export * from './child-process.ts';
