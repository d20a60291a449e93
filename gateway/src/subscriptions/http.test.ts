import { describe, expect, it } from 'vitest';
import { statusOfRefusal, streamingProtocolOf, subscriptionRequestOf } from './http.ts';

describe('streamingProtocolOf', () => {
  it.each<[string | undefined, ReturnType<typeof streamingProtocolOf>]>([
    ['text/event-stream', 'sse'],
    ['application/json, text/event-stream', 'sse'],
    ['text/event-stream;q=0, application/json', undefined],
    ['multipart/mixed;subscriptionSpec="1.0"', 'multipart'],
    ['multipart/mixed; subscriptionSpec=1.0', 'multipart'],
    ['multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/graphql-response+json', 'multipart'],
    ['multipart/mixed;deferSpec=20220824;subscriptionSpec=1.0,application/json', 'multipart'],
    ['multipart/mixed;deferSpec=20220824,application/json', undefined],
    ['multipart/mixed;subscriptionSpec=2.0', undefined],
    ['multipart/mixed', undefined],
    ['application/json', undefined],
    ['*/*', undefined],
    [undefined, undefined],
  ])('%s → %s', (accept, protocol) => {
    expect(streamingProtocolOf(accept)).toBe(protocol);
  });
});

describe('subscriptionRequestOf', () => {
  it('reads a POST body', () => {
    expect(
      subscriptionRequestOf('POST', { query: 'subscription { a }', variables: { x: 1 }, operationName: null }, ''),
    ).toEqual({ query: 'subscription { a }', variables: { x: 1 }, operationName: null });
  });

  it('reads GET parameters, JSON-decoding variables and extensions', () => {
    const search = new URLSearchParams({
      query: 'subscription S { a }',
      operationName: 'S',
      variables: '{"x":1}',
      extensions: '{"persistedQuery":{"version":1,"sha256Hash":"ab"}}',
    }).toString();
    expect(subscriptionRequestOf('GET', undefined, `?${search}`)).toEqual({
      query: 'subscription S { a }',
      operationName: 'S',
      variables: { x: 1 },
      extensions: { persistedQuery: { version: 1, sha256Hash: 'ab' } },
    });
    expect(subscriptionRequestOf('GET', undefined, '?documentId=sha256:ab')).toEqual({ documentId: 'sha256:ab' });
  });

  it.each<[string, string, unknown, string]>([
    ['a POST body that is not an object', 'POST', 'subscription { a }', ''],
    ['a POST batch', 'POST', [{ query: 'subscription { a }' }], ''],
    ['a non-string query', 'POST', { query: 1 }, ''],
    ['array variables', 'POST', { query: 'subscription { a }', variables: [] }, ''],
    ['a numeric operationName', 'POST', { query: 'subscription { a }', operationName: 5 }, ''],
    ['GET variables that are not JSON', 'GET', undefined, '?query=subscription%7Ba%7D&variables=%7B'],
    ['GET extensions that are not an object', 'GET', undefined, '?query=subscription%7Ba%7D&extensions=3'],
    ['another method', 'PUT', { query: 'subscription { a }' }, ''],
  ])('leaves %s to Apollo (undefined)', (_name, method, body, search) => {
    expect(subscriptionRequestOf(method, body, search)).toBeUndefined();
  });
});

describe('statusOfRefusal', () => {
  it.each<[unknown, number]>([
    [{ code: 'UNAUTHENTICATED' }, 401],
    [{ code: 'FORBIDDEN' }, 403],
    [{ code: 'RATE_LIMITED' }, 429],
    [{ code: 'GRAPHQL_VALIDATION_FAILED' }, 400],
    [{ code: 'PERSISTED_QUERY_NOT_IN_LIST' }, 400],
    [{ code: 'ANYTHING', http: { status: 413 } }, 413],
    [{ code: 'FORBIDDEN', http: { status: 'x' } }, 403],
    [undefined, 400],
  ])('%j → %i', (extensions, status) => {
    expect(statusOfRefusal([{ message: 'm', ...(extensions ? { extensions } : {}) } as never])).toBe(status);
  });
});
