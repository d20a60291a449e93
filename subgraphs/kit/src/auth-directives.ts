import {
  defaultFieldResolver,
  isObjectType,
  type ConstDirectiveNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
} from 'graphql';
import { forbidden, unauthenticated } from '@supergraph/platform';
import { hasScopes, type Identity } from '@supergraph/platform';

/** What `@authenticated` / `@requiresScopes` demand of one field, merged from field, parent and return type. */
export interface AccessRequirement {
  authenticated: boolean;
  /** OR of ANDs, as `@requiresScopes(scopes: [[...]])`; every entry must be met. */
  scopeSets: Array<Array<readonly string[]>>;
}

/** Reads the directives on a schema element's AST node (names may be renamed by `@link`, e.g. `federation__authenticated`). */
export function requirementOf(
  nodes: ReadonlyArray<{ directives?: readonly ConstDirectiveNode[] | undefined } | null | undefined>,
): AccessRequirement {
  const requirement: AccessRequirement = { authenticated: false, scopeSets: [] };
  for (const node of nodes) {
    for (const directive of node?.directives ?? []) {
      const name = directive.name.value.replace(/^federation__/, '');
      if (name === 'authenticated') requirement.authenticated = true;
      if (name === 'requiresScopes') {
        const argument = directive.arguments?.find((arg) => arg.name.value === 'scopes');
        if (argument?.value.kind === 'ListValue') {
          const sets = argument.value.values.map((inner) =>
            inner.kind === 'ListValue'
              ? inner.values.flatMap((scope) => (scope.kind === 'StringValue' ? [scope.value] : []))
              : [],
          );
          requirement.scopeSets.push(sets);
          requirement.authenticated = true;
        }
      }
    }
  }
  return requirement;
}

function typeNodes(type: GraphQLNamedType) {
  return [type.astNode, ...(type.extensionASTNodes ?? [])];
}

/** The requirement for reading `field` of `parent`: the field's own, its parent type's and its return type's directives. */
export function fieldRequirement(parent: GraphQLNamedType, field: GraphQLField<unknown, unknown>): AccessRequirement {
  return requirementOf([field.astNode, ...typeNodes(parent), ...typeNodes(getNamedType(field.type))]);
}

/** Throws UNAUTHENTICATED or FORBIDDEN when `identity` does not meet `requirement`. */
export function assertAccess(requirement: AccessRequirement, identity: Identity, coordinate: string): void {
  if (!requirement.authenticated) return;
  if (!identity.userId) throw unauthenticated(`Authentication required to access ${coordinate}`);
  for (const scopeSet of requirement.scopeSets) {
    if (!hasScopes(identity, scopeSet)) {
      throw forbidden(
        `Missing scope for ${coordinate}: needs ${scopeSet.map((all) => all.join(' and ')).join(' or ')}`,
      );
    }
  }
}

/**
 * Wraps every resolver guarded by `@authenticated` / `@requiresScopes` so the
 * subgraph enforces them itself (defense in depth: the gateway checks first),
 * a subscription field's `subscribe` included.
 * The context must expose `identity`.
 */
export function enforceAuthDirectives(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const requirement = fieldRequirement(type, field);
      if (!requirement.authenticated) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      const coordinate = `${type.name}.${field.name}`;
      field.resolve = (source, args, context: { identity: Identity }, info) => {
        assertAccess(requirement, context.identity, coordinate);
        return resolve(source, args, context, info);
      };
      // A subscription field's source stream comes from `subscribe`, which graphql-js calls before any `resolve`.
      const subscribe = field.subscribe;
      if (subscribe) {
        field.subscribe = (source, args, context: { identity: Identity }, info) => {
          assertAccess(requirement, context.identity, coordinate);
          return subscribe(source, args, context, info);
        };
      }
    }
  }
  return schema;
}
