import type { ApolloServerPlugin } from '@apollo/server';
import {
  buildASTSchema,
  GraphQLError,
  isObjectType,
  isInterfaceType,
  Kind,
  print,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';
import { assertAccess, fieldRequirement, type AccessRequirement } from '@supergraph/kit';
import { errorCode, type Identity } from '@supergraph/platform';

/** What the access-control plugin needs from the request context. */
export interface AccessControlContext {
  identity: Identity;
}

/**
 * Checks `@authenticated` / `@requiresScopes` of every selected field (its own,
 * its parent type's and its return type's, fragments included) against the
 * caller BEFORE the query is planned, so no subgraph sees a request the caller
 * may not make. Works on the supergraph schema, which keeps those directives.
 */
export function createAccessControl(supergraph: DocumentNode) {
  const schema = buildASTSchema(supergraph, { assumeValidSDL: true, assumeValid: true });
  const requirements = new Map<string, AccessRequirement>();

  function requirementFor(parentName: string, fieldName: string): AccessRequirement | undefined {
    const coordinate = `${parentName}.${fieldName}`;
    let requirement = requirements.get(coordinate);
    if (!requirement) {
      const parent = schema.getType(parentName);
      if (!parent || !(isObjectType(parent) || isInterfaceType(parent))) return undefined;
      const field = parent.getFields()[fieldName];
      if (!field) return undefined;
      requirement = fieldRequirement(parent, field);
      requirements.set(coordinate, requirement);
    }
    return requirement;
  }

  /**
   * The guarded fields an operation selects, in document order: found once per
   * operation node (Apollo Server keeps one parsed document per query text, so
   * a repeated query is not walked again) and checked against each caller.
   */
  const guardedFieldsOf = new WeakMap<
    OperationDefinitionNode,
    { requirement: AccessRequirement; coordinate: string }[]
  >();
  function guardedFields(document: DocumentNode, operation: OperationDefinitionNode) {
    let guarded = guardedFieldsOf.get(operation);
    if (guarded) return guarded;
    guarded = [];
    for (const definition of reachableDefinitions(document, operation)) {
      const typeInfo = new TypeInfo(schema);
      visit(
        definition,
        visitWithTypeInfo(typeInfo, {
          Field(node) {
            if (node.name.value.startsWith('__')) return;
            const parent = typeInfo.getParentType();
            if (!parent) return;
            const requirement = requirementFor(parent.name, node.name.value);
            if (!requirement?.authenticated) return;
            guarded!.push({ requirement, coordinate: `${parent.name}.${node.name.value}` });
          },
        }),
      );
    }
    guardedFieldsOf.set(operation, guarded);
    return guarded;
  }

  /** Throws UNAUTHENTICATED (anonymous caller) or FORBIDDEN (missing scope) naming the offending fields. */
  function check(document: DocumentNode, operation: OperationDefinitionNode, identity: Identity): void {
    const denied: Array<{ code: string; message: string; coordinate: string }> = [];
    for (const { requirement, coordinate } of guardedFields(document, operation)) {
      try {
        assertAccess(requirement, identity, coordinate);
      } catch (error) {
        denied.push({ code: errorCode(error) ?? 'FORBIDDEN', message: (error as Error).message, coordinate });
      }
    }
    if (denied.length === 0) return;
    const unauthenticated = denied.filter((entry) => entry.code === 'UNAUTHENTICATED');
    if (unauthenticated.length > 0) {
      const fields = [...new Set(unauthenticated.map((entry) => entry.coordinate))];
      throw new GraphQLError(`Authentication required to access ${fields.join(', ')}`, {
        extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
      });
    }
    throw new GraphQLError(denied[0]!.message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
  }

  const plugin: ApolloServerPlugin<AccessControlContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, contextValue }) {
          if (operation) check(document, operation, contextValue.identity);
        },
      };
    },
  };
  return { schema, check, plugin };
}

/** Features the access-control plugin enforces itself. */
const ENFORCED_FEATURES = ['https://specs.apollo.dev/authenticated/', 'https://specs.apollo.dev/requiresScopes/'];

/**
 * `@apollo/gateway` refuses supergraphs linking `authenticated` / `requiresScopes`
 * `for: SECURITY` (only the Router implements them). The gateway enforces
 * both itself in {@link createAccessControl}, so it hands the query planner a
 * copy where those two links lose their `for:` and are plain metadata. Any
 * other SECURITY feature (e.g. `@policy`) stays, and the gateway refuses to start.
 */
export function supergraphForQueryPlanner(supergraph: DocumentNode): string {
  return print(
    visit(supergraph, {
      Directive(node) {
        if (node.name.value !== 'link') return undefined;
        const url = node.arguments?.find((argument) => argument.name.value === 'url')?.value;
        if (url?.kind !== Kind.STRING || !ENFORCED_FEATURES.some((prefix) => url.value.startsWith(prefix)))
          return undefined;
        return { ...node, arguments: node.arguments?.filter((argument) => argument.name.value !== 'for') };
      },
    }),
  );
}

/** The operation plus every fragment it spreads, transitively. */
function reachableDefinitions(document: DocumentNode, operation: OperationDefinitionNode) {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const result: Array<OperationDefinitionNode | FragmentDefinitionNode> = [operation];
  const seen = new Set<string>();
  for (let index = 0; index < result.length; index++) {
    visit(result[index]!, {
      FragmentSpread(node) {
        const name = node.name.value;
        const fragment = fragments.get(name);
        if (fragment && !seen.has(name)) {
          seen.add(name);
          result.push(fragment);
        }
      },
    });
  }
  return result;
}
