export * from './wordnet.ts';
export * from './progress.ts';
