import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, Kind, type OperationDefinitionNode } from 'graphql';
import { ErrorCode, type SettingsSource } from '@supergraph/platform';

/** The stable code of every mutation refused while the graph is in maintenance. */
export const MAINTENANCE_CODE = ErrorCode.Maintenance;

/** What `Retry-After` tells clients while in maintenance: a minute, as the snapshot says nothing of how long. */
export const MAINTENANCE_RETRY_AFTER_SECONDS = 60;

/**
 * Root mutation fields that still run in maintenance: the operations
 * subgraph's `updateSetting`, so an admin can turn maintenance off (it only
 * writes the operations subgraph's settings).
 */
export const DEFAULT_MAINTENANCE_EXEMPT_FIELDS: readonly string[] = Object.freeze(['updateSetting']);

/** Whether every root field of `operation` is exempt (`__typename` included), so it may run in maintenance. */
function isExempt(operation: OperationDefinitionNode, exempt: ReadonlySet<string>): boolean {
  return operation.selectionSet.selections.every(
    (selection) =>
      selection.kind === Kind.FIELD && (selection.name.value === '__typename' || exempt.has(selection.name.value)),
  );
}

/**
 * While the live settings say `maintenance.enabled`, every mutation answers
 * one error `MAINTENANCE` with the configured message (HTTP 503 with
 * `Retry-After`), after validation and before planning, so no subgraph is
 * called. Queries and subscriptions keep working, and so do mutations whose
 * root fields are all exempt (decided by the root fields, so a document
 * mixing `updateSetting` with another mutation is refused whole). Reads the
 * setting on every request: a change applies within the settings'
 * propagation, without a restart.
 */
export function maintenancePlugin<TContext extends BaseContext>(
  settings: SettingsSource,
  exemptFields: readonly string[] = DEFAULT_MAINTENANCE_EXEMPT_FIELDS,
): ApolloServerPlugin<TContext> {
  const exempt = new Set(exemptFields);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'mutation') return;
          const { maintenance } = settings.current();
          if (!maintenance.enabled || isExempt(operation, exempt)) return;
          throw maintenanceError(maintenance.message);
        },
      };
    },
  };
}

/** The one error of a refused mutation; the message is the operator's, or a default when they left it empty. */
export function maintenanceError(message: string): GraphQLError {
  return new GraphQLError(message.trim() || 'The service is in maintenance: changes are paused, reads still work', {
    extensions: {
      code: MAINTENANCE_CODE,
      retryAfterSeconds: MAINTENANCE_RETRY_AFTER_SECONDS,
      http: { status: 503, headers: new Map([['retry-after', String(MAINTENANCE_RETRY_AFTER_SECONDS)]]) },
    },
  });
}
