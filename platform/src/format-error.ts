import type { GraphQLFormattedError } from 'graphql';
import { PUBLIC_ERROR_CODES } from './errors.ts';
import { createLogger, type Logger } from './logger.ts';

const loggers = new Map<string, Logger>();

/**
 * Masks every error whose code is not public: clients see "Internal server
 * error" and nothing of stacks, SQL or hosts; the original is logged.
 */
export function maskError(formatted: GraphQLFormattedError, original: unknown, service: string): GraphQLFormattedError {
  const code = formatted.extensions?.['code'];
  if (typeof code === 'string' && PUBLIC_ERROR_CODES.has(code)) {
    const { stacktrace: _stacktrace, exception: _exception, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  let log = loggers.get(service);
  if (!log) loggers.set(service, (log = createLogger(service)));
  log.error({ err: original, path: formatted.path }, 'internal error');
  const masked: GraphQLFormattedError = {
    message: 'Internal server error',
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
  return formatted.path
    ? { ...masked, path: formatted.path, ...(formatted.locations ? { locations: formatted.locations } : {}) }
    : masked;
}
