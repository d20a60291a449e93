import type { ApolloServerPlugin } from '@apollo/server';
import {
  GraphQLError,
  isInterfaceType,
  isObjectType,
  Kind,
  TypeInfo,
  getNamedType,
  visit,
  visitWithTypeInfo,
  type ASTNode,
  type ConstDirectiveNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { ErrorCode, type Identity } from '@supergraph/platform';
import type { AddressAllowlist } from './client-address.ts';

/** `admin` itself or a domain's admin scope (`storage:admin`), as the scope catalog names them. */
export function isAdminScope(scope: string): boolean {
  return scope === 'admin' || scope.endsWith(':admin');
}

/**
 * Whether reaching `parent.field` needs an admin scope: some `@requiresScopes`
 * on the field, its parent type or its return type has an admin scope in
 * every alternative (a field open to `[["admin"], ["profile:read"]]` is not).
 */
export function isAdminScopedField(schema: GraphQLSchema, parentName: string, fieldName: string): boolean {
  const parent = schema.getType(parentName);
  if (!parent || !(isObjectType(parent) || isInterfaceType(parent))) return false;
  const field = parent.getFields()[fieldName];
  if (!field) return false;
  const nodes = [field.astNode, ...typeNodes(parent), ...typeNodes(getNamedType(field.type))];
  return nodes.some((node) =>
    requiredScopes(node).some(
      (alternatives) =>
        alternatives.length > 0 && alternatives.every((all) => all.some((scope) => isAdminScope(scope))),
    ),
  );
}

/**
 * Refuses (403 FORBIDDEN) operations that touch an admin-scoped field unless
 * the client address is in `allowlist`, after validation and before planning,
 * so no subgraph sees them. The address is the hop-aware one the gateway put
 * in `identity.clientIp` (see `clientAddress`), which a client cannot spoof by
 * prepending to `X-Forwarded-For`.
 *
 * @example
 * plugins: [adminAllowlistPlugin(schema, createAddressAllowlist(['10.0.0.0/8']))]
 */
export function adminAllowlistPlugin(
  schema: GraphQLSchema,
  allowlist: AddressAllowlist,
): ApolloServerPlugin<{ identity: Identity }> {
  const adminFields = new Map<string, boolean>();
  const isAdminField = (parentName: string, fieldName: string) => {
    const coordinate = `${parentName}.${fieldName}`;
    let result = adminFields.get(coordinate);
    if (result === undefined) {
      result = isAdminScopedField(schema, parentName, fieldName);
      adminFields.set(coordinate, result);
    }
    return result;
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, contextValue }) {
          if (!operation || !touchesAdminField(schema, document, operation, isAdminField)) return;
          const address = contextValue.identity.clientIp;
          if (address && allowlist.allows(address)) return;
          throw new GraphQLError('Admin operations are not allowed from this network address', {
            extensions: { code: ErrorCode.Forbidden, http: { status: 403 } },
          });
        },
      };
    },
  };
}

function touchesAdminField(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  isAdminField: (parentName: string, fieldName: string) => boolean,
): boolean {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const pending: Array<OperationDefinitionNode | FragmentDefinitionNode> = [operation];
  const seen = new Set<string>();
  let found = false;
  while (pending.length > 0 && !found) {
    const typeInfo = new TypeInfo(schema);
    visit(
      pending.pop()!,
      visitWithTypeInfo(typeInfo, {
        Field(node) {
          const parent = typeInfo.getParentType();
          if (parent && !node.name.value.startsWith('__') && isAdminField(parent.name, node.name.value)) found = true;
        },
        FragmentSpread(node) {
          const fragment = fragments.get(node.name.value);
          if (fragment && !seen.has(node.name.value)) {
            seen.add(node.name.value);
            pending.push(fragment);
          }
        },
      }),
    );
  }
  return found;
}

function typeNodes(type: GraphQLNamedType): ASTNode[] {
  const extensions = (type as { extensionASTNodes?: readonly ASTNode[] }).extensionASTNodes ?? [];
  return [...(type.astNode ? [type.astNode] : []), ...extensions];
}

/** Every `@requiresScopes(scopes: [[...]])` on `node`, as lists of alternatives of scope lists. */
function requiredScopes(node: ASTNode | null | undefined): string[][][] {
  const directives = (node as { directives?: readonly ConstDirectiveNode[] } | undefined)?.directives;
  return (directives ?? [])
    .filter((directive) => directive.name.value === 'requiresScopes')
    .map((directive) => {
      const scopes = directive.arguments?.find((argument) => argument.name.value === 'scopes')?.value;
      if (scopes?.kind !== Kind.LIST) return [];
      return scopes.values.map((all) =>
        all.kind === Kind.LIST ? all.values.flatMap((scope) => (scope.kind === Kind.STRING ? [scope.value] : [])) : [],
      );
    });
}
