import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/** The assumed length of a list field without a `first`/`last` argument, unless configured. */
export const DEFAULT_LIST_SIZE = 10;

/** What {@link measureOperation} found in one operation. */
export interface OperationMeasure {
  depth: number;
  aliases: number;
  rootFields: number;
  directives: number;
  cost: number;
}

const MUTATION_FIELD_COST = 10;
const SLICING_ARGUMENTS = ['first', 'last'];
interface Measured {
  depth: number;
  aliases: number;
  fields: number;
  directives: number;
  cost: number;
}

const NOTHING: Measured = { depth: 0, aliases: 0, fields: 0, directives: 0, cost: 0 };

/**
 * Measures one operation of a parsed (not yet validated) document. Fragments
 * are followed where they are spread, each measured once per parent size
 * (so nested spreads stay linear) and a fragment cycle counts as nothing —
 * validation refuses it later. Unknown fields count as composite without
 * children's types: the estimate never fails on a document validation would
 * refuse anyway.
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  options: {
    variables?: Readonly<Record<string, unknown>>;
    defaultListSize?: number;
    countIntrospection?: boolean;
  } = {},
): OperationMeasure {
  const defaultListSize = options.defaultListSize ?? DEFAULT_LIST_SIZE;
  const countIntrospection = options.countIntrospection ?? true;
  const variables = options.variables ?? {};
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const variableDefaults = new Map<string, ValueNode>();
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) variableDefaults.set(definition.variable.name.value, definition.defaultValue);
  }
  const memo = new Map<string, Measured>();
  const inProgress = new Set<string>();
  const isMutation = operation.operation === 'mutation';

  function intValue(node: ValueNode | undefined): number | undefined {
    if (!node) return undefined;
    if (node.kind === Kind.INT) return Math.max(0, Number(node.value));
    if (node.kind === Kind.VARIABLE) {
      const sent = variables[node.name.value];
      if (typeof sent === 'number' && Number.isInteger(sent)) return Math.max(0, sent);
      return sent === undefined ? intValue(variableDefaults.get(node.name.value)) : undefined;
    }
    return undefined;
  }

  function measure(
    selectionSet: SelectionSetNode,
    parent: GraphQLCompositeType | undefined,
    sizedBy: number | undefined,
    atRoot: boolean,
  ): Measured {
    const total = { ...NOTHING };
    const add = (part: Measured) => {
      total.depth = Math.max(total.depth, part.depth);
      total.aliases += part.aliases;
      total.fields += part.fields;
      total.directives += part.directives;
      total.cost = Math.min(total.cost + part.cost, Number.MAX_VALUE);
    };
    for (const selection of selectionSet.selections) {
      const directives = selection.directives?.length ?? 0;
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        const key = `${name}:${sizedBy ?? ''}:${atRoot}`;
        let part = memo.get(key);
        if (!part && fragment && !inProgress.has(name)) {
          inProgress.add(name);
          part = measure(
            fragment.selectionSet,
            typeNamed(fragment.typeCondition.name.value) ?? parent,
            sizedBy,
            atRoot,
          );
          inProgress.delete(name);
          memo.set(key, part);
        }
        add({ ...(part ?? NOTHING), directives: (part?.directives ?? 0) + directives });
        continue;
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? (typeNamed(selection.typeCondition.name.value) ?? parent) : parent;
        const part = measure(selection.selectionSet, type, sizedBy, atRoot);
        add({ ...part, directives: part.directives + directives });
        continue;
      }
      const name = selection.name.value;
      if (!countIntrospection && (name === '__schema' || name === '__type')) continue;
      const field = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
      const returns = field ? getNamedType(field.type) : undefined;
      const isComposite = returns ? isCompositeType(returns) : selection.selectionSet !== undefined;
      const slice = field
        ? firstDefined(
            SLICING_ARGUMENTS.map((argument) => {
              const sent = selection.arguments?.find((arg) => arg.name.value === argument)?.value;
              if (sent) return intValue(sent);
              const declared = field.args.find((arg) => arg.name === argument)?.defaultValue;
              return typeof declared === 'number' ? declared : undefined;
            }),
          )
        : undefined;
      const isList = field ? isListType(getNullableType(field.type)) : false;
      const size = isList ? (slice ?? sizedBy ?? defaultListSize) : 1;
      const weight = atRoot && isMutation ? MUTATION_FIELD_COST : isComposite ? 1 : 0;
      const children = selection.selectionSet
        ? measure(
            selection.selectionSet,
            returns && isCompositeType(returns) ? returns : undefined,
            isList ? undefined : slice,
            false,
          )
        : NOTHING;
      add({
        depth: 1 + children.depth,
        aliases: (selection.alias ? 1 : 0) + children.aliases,
        fields: 1,
        directives: directives + children.directives,
        cost: product(size, weight + children.cost),
      });
    }
    return total;
  }

  function typeNamed(name: string): GraphQLCompositeType | undefined {
    const type = schema.getType(name);
    return type && isCompositeType(type) ? type : undefined;
  }

  const root = schema.getRootType(operation.operation) ?? undefined;
  const measured = measure(operation.selectionSet, root, undefined, true);
  return {
    depth: measured.depth,
    aliases: measured.aliases,
    rootFields: measured.fields,
    directives: measured.directives + (operation.directives?.length ?? 0),
    cost: measured.cost,
  };
}

/** `a × b` that stays finite and treats `0 × anything` as 0 (a `first: 0` list costs nothing, however deep). */
function product(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : Math.min(a * b, Number.MAX_VALUE);
}

function firstDefined(values: Array<number | undefined>): number | undefined {
  return values.find((value) => value !== undefined);
}
