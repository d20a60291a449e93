import {
  assert,
  isCompositeType,
  isCustomScalarType,
  isEnumType,
  isListType,
  isNonNullType,
  typenameFieldName,
  Variable,
  type CompositeType,
  type NamedType,
  type Operation,
  type SelectionSet,
  type Type,
} from '@apollo/federation-internals';
import {
  Kind,
  OperationTypeNode,
  visit,
  type DocumentNode,
  type FieldNode,
  type VariableDefinitionNode,
} from 'graphql';

/**
 * The compile half of result shaping (`shape.ts` walks what this builds): an
 * operation's selections, read once through federation-internals, as plain
 * records — response names, field types as chains of wrappers with their
 * leaf validators, skip/include conditions, fragments with their type
 * conditions, introspection fields with their ready-made documents.
 */
export type Condition = { skipWhen: boolean; variable: string | undefined; value: boolean };

export type CompiledSelection =
  | {
      kind: 'field';
      responseName: string;
      conditions: Condition[] | undefined;
      type: TypeShape;
      selections: CompiledSelection[] | undefined;
    }
  | { kind: 'typename'; responseName: string; conditions: Condition[] | undefined }
  | {
      kind: 'introspection';
      responseName: string;
      conditions: Condition[] | undefined;
      document: DocumentNode;
      key: string;
    }
  | {
      kind: 'fragment';
      conditions: Condition[] | undefined;
      typeCondition: CompositeType | undefined;
      /** By the object's __typename (names the schema has). */
      applies: Map<string, boolean>;
      /** By the parent type, for objects without a __typename. */
      appliesToParent: Map<CompositeType, boolean>;
      selections: CompiledSelection[];
    };

export type TypeShape =
  | { kind: 'nonNull'; ofType: TypeShape; inner: Type }
  | { kind: 'list'; ofType: TypeShape; type: Type }
  | { kind: 'composite'; type: CompositeType }
  | { kind: 'leaf'; type: NamedType; valid: (value: unknown) => boolean };

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

export interface CompiledSelections {
  root: CompiledSelection[];
  rootType: CompositeType;
  /** No response name is one of Object.prototype's: the output can be object literals. */
  plainObjects: boolean;
  /** The operation's variable defaults, when some selection has a skip/include condition (else undefined). */
  defaulted: Record<string, unknown> | undefined;
}

export function compileSelections(
  operation: Operation,
  variableDefinitions: readonly VariableDefinitionNode[] | undefined,
): CompiledSelections {
  const schema = operation.schema();
  const leafValidators = new Map<NamedType, (value: unknown) => boolean>();
  const compiledSets = new WeakMap<SelectionSet, CompiledSelection[]>();
  let hasConditions = false;
  let plainObjects = true;

  const skipDirective = schema.skipDirective();
  const includeDirective = schema.includeDirective();

  function conditionsOf(element: Parameters<typeof appliedConditions>[0]): Condition[] | undefined {
    const conditions = appliedConditions(element);
    if (conditions) hasConditions = true;
    return conditions;
  }
  function appliedConditions(element: {
    appliedDirectivesOf: (definition: typeof skipDirective) => readonly { arguments(): Record<string, unknown> }[];
  }): Condition[] | undefined {
    const conditions: Condition[] = [];
    const skip = element.appliedDirectivesOf(skipDirective)[0];
    const include = element.appliedDirectivesOf(includeDirective)[0];
    // Apollo evaluates skip first, then include; the order matters only for which assertion fires.
    if (skip) conditions.push(conditionOf(skip.arguments()['if'], true));
    if (include) conditions.push(conditionOf(include.arguments()['if'], false));
    return conditions.length > 0 ? conditions : undefined;
  }

  function leafValidator(type: NamedType): (value: unknown) => boolean {
    let valid = leafValidators.get(type);
    if (valid) return valid;
    if (isCustomScalarType(type)) valid = () => true;
    else {
      const isBoolean = type === schema.booleanType();
      const isInt = type === schema.intType();
      const isInteger = isInt || type === schema.idType();
      const isFloat = type === schema.floatType();
      const enumValues = isEnumType(type) ? new Set(type.values.map((value) => value.name)) : undefined;
      valid = (value) => {
        if (typeof value === 'boolean') return isBoolean;
        if (typeof value === 'number' && Number.isFinite(value))
          return isInteger ? INTEGER.test(String(value)) : isFloat;
        if (typeof value === 'string') return enumValues ? enumValues.has(value) : !isBoolean && !isInt && !isFloat;
        return false;
      };
    }
    leafValidators.set(type, valid);
    return valid;
  }

  function shapeOf(type: Type): TypeShape {
    if (isNonNullType(type)) return { kind: 'nonNull', ofType: shapeOf(type.ofType), inner: type.ofType };
    if (isListType(type)) return { kind: 'list', ofType: shapeOf(type.ofType), type };
    if (isCompositeType(type)) return { kind: 'composite', type };
    return { kind: 'leaf', type, valid: leafValidator(type) };
  }

  function compileSet(selectionSet: SelectionSet): CompiledSelection[] {
    const cached = compiledSets.get(selectionSet);
    if (cached) return cached;
    const compiled: CompiledSelection[] = [];
    for (const selection of selectionSet.selections()) {
      const conditions = conditionsOf(selection.element);
      if (selection.kind === 'FieldSelection') {
        const field = selection.element;
        const responseName = field.responseName();
        if (!isPlainKey(responseName)) plainObjects = false;
        if (field.definition.isSchemaIntrospectionField()) {
          const node = selection.expandFragments().toSelectionNode();
          compiled.push({
            kind: 'introspection',
            responseName,
            conditions,
            document: introspectionDocument(node, variableDefinitions),
            key: node.alias?.value ?? node.name.value,
          });
        } else if (field.name === typenameFieldName) {
          compiled.push({ kind: 'typename', responseName, conditions });
        } else {
          compiled.push({
            kind: 'field',
            responseName,
            conditions,
            type: shapeOf(field.definition.type!),
            selections: selection.selectionSet ? compileSet(selection.selectionSet) : undefined,
          });
        }
      } else {
        compiled.push({
          kind: 'fragment',
          conditions,
          typeCondition: selection.element.typeCondition,
          applies: new Map(),
          appliesToParent: new Map(),
          selections: compileSet(selection.selectionSet),
        });
      }
    }
    compiledSets.set(selectionSet, compiled);
    return compiled;
  }

  const root = compileSet(operation.selectionSet);
  return {
    root,
    rootType: schema.schemaDefinition.rootType(operation.rootKind)!,
    plainObjects,
    defaulted: hasConditions ? operation.collectDefaultedVariableValues() : undefined,
  };
}

/** A name an object literal can hold as an own property with no help: not one of Object.prototype's. */
export function isPlainKey(name: string): boolean {
  return !(name in Object.prototype);
}

function conditionOf(argument: unknown, skipWhen: boolean): Condition {
  if (argument instanceof Variable) return { skipWhen, variable: argument.name, value: false };
  return { skipWhen, variable: undefined, value: argument === true };
}

/** Apollo's `makeIntrospectionQueryDocument`, built once per selection instead of per request. */
function introspectionDocument(
  selection: FieldNode,
  variableDefinitions: readonly VariableDefinitionNode[] | undefined,
): DocumentNode {
  const used = new Set<string>();
  visit(selection, {
    Variable: ({ name }) => {
      used.add(name.value);
    },
  });
  const usedDefinitions = variableDefinitions?.filter((definition) => used.has(definition.variable.name.value));
  assert(
    used.size === (usedDefinitions?.length ?? 0),
    () => `Should have found all used variables ${[...used].join(', ')}`,
  );
  return {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: OperationTypeNode.QUERY,
        ...(usedDefinitions ? { variableDefinitions: usedDefinitions } : {}),
        selectionSet: { kind: Kind.SELECTION_SET, selections: [selection] },
      },
    ],
  };
}
