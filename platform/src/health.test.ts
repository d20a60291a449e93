import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { closeServer, listen } from './http.ts';
import { healthRoute, readinessRoute, VERSION, type ReadinessOptions } from './health.ts';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => closeServer(server)));
});

async function serve(options: ReadinessOptions): Promise<string> {
  const ready = readinessRoute(options);
  const health = healthRoute(options.service);
  const server = http.createServer((req, res) => void (req.url === '/ready' ? ready(req, res) : health(req, res)));
  servers.push(server);
  return listen(server, 0);
}

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('healthRoute and readinessRoute', () => {
  it('/health is 200 with the version whatever the dependencies', async () => {
    const base = await serve({ service: 'unit', checks: { postgres: () => Promise.reject(new Error('down')) } });
    expect(await get(`${base}/health`)).toEqual({
      status: 200,
      body: { status: 'ok', service: 'unit', version: VERSION },
    });
  });

  it('names each failed check, in order, without its error message', async () => {
    const base = await serve({
      service: 'unit',
      checks: {
        postgres: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.5:5432 user=supergraph_auth')),
        redis: () => Promise.resolve('PONG'),
        search: () => Promise.reject(new Error('nope')),
      },
    });
    const ready = await get(`${base}/ready`);
    expect(ready).toEqual({
      status: 503,
      body: { status: 'unavailable', service: 'unit', version: VERSION, unavailable: ['postgres', 'search'] },
    });
  });

  it('counts a check that does not answer within the timeout as failed', async () => {
    const base = await serve({ service: 'unit', timeoutMs: 50, checks: { postgres: () => new Promise(() => {}) } });
    expect((await get(`${base}/ready`)).body['unavailable']).toEqual(['postgres']);
  });

  it('is 200 when every check passes and 503 draining once draining, without running the checks', async () => {
    let isDraining = false;
    let runs = 0;
    const base = await serve({
      service: 'unit',
      checks: { postgres: async () => void runs++ },
      isDraining: () => isDraining,
    });
    expect(await get(`${base}/ready`)).toMatchObject({ status: 200, body: { status: 'ready' } });
    isDraining = true;
    expect(await get(`${base}/ready`)).toMatchObject({ status: 503, body: { status: 'draining', service: 'unit' } });
    expect(runs).toBe(1);
  });
});
