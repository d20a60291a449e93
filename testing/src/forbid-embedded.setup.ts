/**
 * Vitest setup file. Under SUPERGRAPH_FORBID_EMBEDDED=1 (CI) no test may run a
 * component on the in-process Redis: a subgraph started without a client
 * (`redisOrStandIn`) would silently count its rate limits in a private
 * stand-in and the real Redis would go untested. Loading the stand-in then
 * fails the test that caused it, naming the cause.
 */
import { vi } from 'vitest';

if (process.env['SUPERGRAPH_FORBID_EMBEDDED'] === '1') {
  vi.doMock('ioredis-mock', () => {
    throw new Error(
      'SUPERGRAPH_FORBID_EMBEDDED=1: something started on the in-process Redis; pass it the real client (REDIS_URL)',
    );
  });
}
