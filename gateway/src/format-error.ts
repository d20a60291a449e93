import type { GraphQLFormattedError } from 'graphql';
import { createLogger, maskError } from '@supergraph/platform';

const log = createLogger('gateway');

/** Extensions that describe internals (where a subgraph lives, what it answered) and never reach clients. */
const PRIVATE_EXTENSIONS = ['response', 'serviceName', 'exception', 'stacktrace', 'http', 'valueCompletion'];

export function formatGatewayError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const code = formatted.extensions?.['code'];
  const service = formatted.extensions?.['serviceName'];
  if (typeof service === 'string' && (code === 'INTERNAL_SERVER_ERROR' || code === 'DOWNSTREAM_SERVICE_ERROR')) {
    // The subgraph logged (and masked) the original; one line here is enough to correlate.
    log.error({ subgraph: service, path: formatted.path ?? [] }, `${service} answered an internal error`);
    const masked: GraphQLFormattedError = {
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
    return formatted.path ? { ...masked, path: formatted.path } : masked;
  }
  if (!formatted.path && isCodelessClientError(error)) {
    // Apollo's own refusals of a malformed request (e.g. an unsupported persisted-query version) carry no code of their own.
    return { message: formatted.message, extensions: { code: 'BAD_REQUEST' } };
  }
  const masked = maskError(formatted, error, 'gateway');
  if (!masked.extensions) return masked;
  const extensions = { ...masked.extensions };
  for (const key of PRIVATE_EXTENSIONS) delete extensions[key];
  return { ...masked, extensions };
}

/** True for an error without a code that the request pipeline raised with a 4xx HTTP status (`extensions.http.status`). */
function isCodelessClientError(error: unknown): boolean {
  const extensions = (error as { extensions?: { code?: unknown; http?: { status?: unknown } } } | null)?.extensions;
  const status = extensions?.http?.status;
  return extensions?.code === undefined && typeof status === 'number' && status >= 400 && status < 500;
}
