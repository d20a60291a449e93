import { describe, expect, it } from 'vitest';
import { MAX_OPERATION_LABELS, metrics, observePool, observeSubscriptions, operationLabel } from './metrics.ts';

describe('metrics', () => {
  it('exposes the default process metrics and the shared metric names', async () => {
    metrics.graphqlRequests.inc({ service: 'unit', operation: 'Op', type: 'query', status: 'ok' });
    metrics.graphqlErrors.inc({ service: 'unit', code: 'BAD_USER_INPUT' });
    metrics.rateLimitRejections.inc({ service: 'unit', field: 'Query.x' });
    const text = await metrics.registry.metrics();
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toContain('graphql_requests_total{service="unit",operation="Op",type="query",status="ok"} 1');
    expect(text).toContain('graphql_errors_total{service="unit",code="BAD_USER_INPUT"} 1');
    expect(text).toContain('rate_limit_rejections_total{service="unit",field="Query.x"} 1');
  });

  it('reads pools and open subscriptions at scrape time, summed per service, until unobserved', async () => {
    let open = 3;
    const stopA = observePool('unit-pool', () => ({ total: 4, idle: 1, waiting: 2 }));
    const stopB = observePool('unit-pool', () => ({ total: 1, idle: 1, waiting: 0 }));
    const stopSubscriptions = observeSubscriptions('unit-sub', () => open);
    let text = await metrics.registry.metrics();
    expect(text).toContain('db_pool_connections{service="unit-pool",state="total"} 5');
    expect(text).toContain('db_pool_connections{service="unit-pool",state="idle"} 2');
    expect(text).toContain('db_pool_connections{service="unit-pool",state="waiting"} 2');
    expect(text).toContain('graphql_subscriptions_open{service="unit-sub"} 3');
    open = 7;
    expect(await metrics.registry.metrics()).toContain('graphql_subscriptions_open{service="unit-sub"} 7');
    stopA();
    stopB();
    stopSubscriptions();
    text = await metrics.registry.metrics();
    expect(text).not.toContain('service="unit-pool"');
    expect(text).not.toContain('service="unit-sub"');
  });

  it('bounds the operation label: names up to the cap, then other; anonymous when unnamed; never query text', () => {
    expect(operationLabel(undefined)).toBe('anonymous');
    expect(operationLabel('')).toBe('anonymous');
    expect(operationLabel('{ me { id } }')).toBe('other');
    expect(operationLabel('Me')).toBe('Me');
    for (let index = 0; index < MAX_OPERATION_LABELS + 10; index++) operationLabel(`Op${index}`);
    expect(operationLabel('BrandNew')).toBe('other');
    expect(operationLabel('Me')).toBe('Me');
  });
});
