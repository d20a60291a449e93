import {
  assert,
  ERRORS,
  isCompositeType,
  isCustomScalarType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isSubtype,
  typenameFieldName,
  Variable,
  type CompositeType,
  type NamedType,
  type Operation,
  type Schema,
  type SelectionSet,
  type Type,
} from '@apollo/federation-internals';
import {
  executeSync,
  Kind,
  OperationTypeNode,
  visit,
  type DocumentNode,
  type FieldNode,
  type GraphQLError,
  type GraphQLSchema,
  type VariableDefinitionNode,
} from 'graphql';

/**
 * `@apollo/gateway`'s result shaping (`computeResponse` in its
 * `resultShaping.js`), compiled once per operation instead of interpreted per
 * request: the operation's selections become plain records (response name,
 * field type as a chain of wrappers, leaf validators, skip/include conditions,
 * fragment type tests memoised per runtime type), so a request walks arrays
 * and reads properties, and no federation-internals getter, directive lookup
 * or type test runs per field. Every rule, error message and `extensions.code`
 * is Apollo's: the differential tests in `executor.test.ts` compare both
 * on the same inputs.
 */
export interface CompiledShape {
  /** Shapes the merged subgraph data into the response; `errors` are value-completion errors. */
  shape(input: Record<string, unknown>, variables: Record<string, unknown> | undefined): ShapeResult;
}

export interface ShapeResult {
  data: Record<string, unknown> | null;
  errors: GraphQLError[];
}

type Condition = { skipWhen: boolean; variable: string | undefined; value: boolean };

type CompiledSelection =
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
      applies: Map<string, boolean>;
      selections: CompiledSelection[];
    };

type TypeShape =
  | { kind: 'nonNull'; ofType: TypeShape; inner: Type }
  | { kind: 'list'; ofType: TypeShape; type: Type }
  | { kind: 'composite'; type: CompositeType }
  | { kind: 'leaf'; type: NamedType; valid: (value: unknown) => boolean };

/** Per request: what the walk needs, plus the two flags `updateOutputValue` returned as an object. */
interface Walk {
  variables: Record<string, unknown>;
  rawVariables: Record<string, unknown> | undefined;
  errors: GraphQLError[];
  isInvalid: boolean;
  hasErrors: boolean;
}

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

export function compileShape(
  operation: Operation,
  /** The API schema as graphql-js sees it (introspection runs against it, as in Apollo's executor). */
  graphqlSchema: GraphQLSchema,
  variableDefinitions: readonly VariableDefinitionNode[] | undefined,
): CompiledShape {
  const schema: Schema = operation.schema();
  const typeCache = new Map<string, NamedType | null>();
  const typeNamed = (name: string): NamedType | undefined => {
    let type = typeCache.get(name);
    if (type === undefined) {
      type = schema.type(name) ?? null;
      typeCache.set(name, type);
    }
    return type ?? undefined;
  };
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
          selections: compileSet(selection.selectionSet),
        });
      }
    }
    compiledSets.set(selectionSet, compiled);
    return compiled;
  }

  const root = compileSet(operation.selectionSet);
  // Apollo builds the output from null-prototype objects, which V8 keeps in its slow dictionary mode; object
  // literals are fast to fill and to serialise, and equivalent whenever no response name is a property of
  // Object.prototype (known here, once per operation).
  const newObject: () => Record<string, unknown> = plainObjects
    ? () => ({})
    : () => Object.create(null) as Record<string, unknown>;
  const rootType = schema.schemaDefinition.rootType(operation.rootKind)!;
  const defaulted = hasConditions ? operation.collectDefaultedVariableValues() : undefined;

  function skipped(conditions: Condition[], walk: Walk): boolean {
    for (const condition of conditions) {
      let value = condition.value;
      if (condition.variable !== undefined) {
        const given = walk.variables[condition.variable];
        assert(
          given !== undefined && typeof given === 'boolean',
          () =>
            `Unexpected value ${String(given)} for variable $${condition.variable} of @${condition.skipWhen ? 'skip' : 'include'}(if: $${condition.variable})`,
        );
        value = given;
      }
      if (value === condition.skipWhen) return true;
    }
    return false;
  }

  function fragmentApplies(
    fragment: Extract<CompiledSelection, { kind: 'fragment' }>,
    typename: string | undefined,
    parentType: CompositeType,
  ): boolean {
    const condition = fragment.typeCondition;
    if (!condition) return true;
    const key = typename ? typename : `\0${parentType.name}`;
    let applies = fragment.applies.get(key);
    if (applies === undefined) {
      if (typename) {
        const type = typeNamed(typename);
        applies = !!type && isSubtype(condition, type);
      } else applies = isSubtype(condition, parentType);
      fragment.applies.set(key, applies);
    }
    return applies;
  }

  /** `applySelectionSet`: false is Apollo's NULL_BUBBLE_UP. */
  function apply(
    input: Record<string, unknown>,
    selections: CompiledSelection[],
    output: Record<string, unknown>,
    walk: Walk,
    path: (string | number)[],
    parentType: CompositeType,
  ): boolean {
    for (const selection of selections) {
      if (selection.conditions && skipped(selection.conditions, walk)) continue;
      switch (selection.kind) {
        case 'introspection': {
          if (output[selection.responseName] === undefined)
            output[selection.responseName] = introspect(selection, walk);
          continue;
        }
        case 'typename': {
          const responseName = selection.responseName;
          if (output[responseName] === undefined) {
            let inputValue = (Object.hasOwn(input, responseName) ? input[responseName] : undefined) ?? null;
            if (inputValue === null && responseName !== typenameFieldName)
              inputValue = input[typenameFieldName] ?? null;
            const type =
              inputValue !== null && typeof inputValue === 'string'
                ? (typeNamed(inputValue) ?? parentType)
                : parentType;
            if (!isObjectType(type)) return false;
            output[responseName] = type.name;
          }
          continue;
        }
        case 'field': {
          const responseName = selection.responseName;
          const inputValue = (Object.hasOwn(input, responseName) ? input[responseName] : undefined) ?? null;
          path.push(responseName);
          output[responseName] = update(
            output[responseName],
            selection.type,
            inputValue,
            selection.selections,
            path,
            walk,
            parentType,
          );
          path.pop();
          if (walk.isInvalid) return false;
          continue;
        }
        case 'fragment': {
          const typename = input[typenameFieldName];
          assert(
            !typename || typeof typename === 'string',
            () => `Got unexpected value for __typename: ${String(typename)}`,
          );
          if (fragmentApplies(selection, typename as string | undefined, parentType)) {
            if (!apply(input, selection.selections, output, walk, path, selection.typeCondition ?? parentType))
              return false;
          }
          continue;
        }
      }
    }
    return true;
  }

  /** `updateOutputValue`; its `{ isInvalid, hasErrors }` come back in `walk`, read by the caller at once. */
  function update(
    outputValue: unknown,
    shape: TypeShape,
    inputValue: unknown,
    selections: CompiledSelection[] | undefined,
    path: (string | number)[],
    walk: Walk,
    parentType: CompositeType,
  ): unknown {
    if (outputValue === null || (outputValue !== undefined && !selections)) {
      walk.isInvalid = false;
      walk.hasErrors = false;
      return outputValue;
    }
    if (shape.kind === 'nonNull') {
      const updated = update(outputValue, shape.ofType, inputValue, selections, path, walk, parentType);
      if (updated === null) {
        if (!walk.hasErrors)
          walk.errors.push(
            ERRORS.INVALID_GRAPHQL.err(
              `Cannot return null for non-nullable ${describe(path, shape.inner, parentType)}.`,
              { path: Array.from(path) },
            ),
          );
        walk.isInvalid = true;
        walk.hasErrors = true;
        return null;
      }
      walk.isInvalid = false;
      walk.hasErrors = false;
      return updated;
    }
    walk.isInvalid = false;
    if (inputValue === null) {
      walk.hasErrors = false;
      return null;
    }
    switch (shape.kind) {
      case 'list': {
        assert(
          Array.isArray(inputValue),
          () => `Invalid non-list value ${String(inputValue)} returned by subgraph for list type ${String(shape.type)}`,
        );
        assert(
          outputValue === undefined || Array.isArray(outputValue),
          () =>
            `Invalid non-list value ${String(outputValue)} returned by subgraph for list type ${String(shape.type)}`,
        );
        const inputList = inputValue as unknown[];
        const outputList = outputValue as unknown[] | undefined;
        const length = inputList.length;
        assert(
          outputList === undefined || length === outputList.length,
          () => `[${String(inputList)}].length (${length}) !== [${String(outputList)}].length (${outputList!.length})`,
        );
        let shouldNullify = false;
        let hasErrors = false;
        const updated = new Array<unknown>(length);
        for (let index = 0; index < length; index++) {
          path.push(index);
          updated[index] = update(
            outputList?.[index],
            shape.ofType,
            inputList[index],
            selections,
            path,
            walk,
            parentType,
          );
          path.pop();
          if (walk.isInvalid) shouldNullify = true;
          if (walk.hasErrors) hasErrors = true;
        }
        walk.isInvalid = false;
        walk.hasErrors = hasErrors;
        return shouldNullify ? null : updated;
      }
      case 'composite': {
        assert(selections, () => `Invalid empty selection set for composite type ${String(shape.type)}`);
        assert(
          typeof inputValue === 'object',
          () =>
            `Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${String(shape.type)}`,
        );
        assert(
          outputValue === undefined || typeof outputValue === 'object',
          () =>
            `Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${String(shape.type)}`,
        );
        const inputObject = inputValue as Record<string, unknown>;
        const inputTypename = inputObject[typenameFieldName];
        assert(
          inputTypename === undefined || typeof inputTypename === 'string',
          () => `Invalid non-string value ${String(inputTypename)} for __typename at ${String(path)}`,
        );
        let objectType: CompositeType = shape.type;
        if (inputTypename) {
          const typenameType = typeNamed(inputTypename as string);
          if (!typenameType || !isCompositeType(typenameType)) {
            walk.errors.push(
              ERRORS.INVALID_GRAPHQL.err(
                `Invalid __typename found for object at ${describe(path, shape.type, parentType)}.`,
                { path: Array.from(path) },
              ),
            );
            walk.hasErrors = true;
            return null;
          }
          objectType = typenameType;
        }
        const outputObject = (outputValue ?? newObject()) as Record<string, unknown>;
        const ok = apply(inputObject, selections, outputObject, walk, path, objectType);
        walk.isInvalid = false;
        walk.hasErrors = !ok;
        return ok ? outputObject : null;
      }
      case 'leaf': {
        assert(
          outputValue === undefined,
          () => `Excepted output to be undefined but got ${String(shape.type)} for type ${String(shape.type)}`,
        );
        const valid = shape.valid(inputValue);
        if (!valid)
          walk.errors.push(
            ERRORS.INVALID_GRAPHQL.err(`Invalid value found for ${describe(path, shape.type, parentType)}.`, {
              path: Array.from(path),
            }),
          );
        walk.hasErrors = !valid;
        return valid ? inputValue : null;
      }
    }
  }

  function introspect(selection: Extract<CompiledSelection, { kind: 'introspection' }>, walk: Walk): unknown {
    const { data, errors } = executeSync({
      schema: graphqlSchema,
      document: selection.document,
      rootValue: {},
      ...(walk.rawVariables ? { variableValues: walk.rawVariables } : {}),
    });
    assert(
      !errors || errors.length === 0,
      () => `Introspection query should not have failed but got ${JSON.stringify(errors)}`,
    );
    assert(data, () => `Introspection query should not have failed`);
    return Object.hasOwn(data, selection.key) ? data[selection.key] : undefined;
  }

  return {
    shape(input, variables) {
      const walk: Walk = {
        variables: defaulted ? { __proto__: null, ...defaulted, ...variables } : (variables ?? {}),
        rawVariables: variables,
        errors: [],
        isInvalid: false,
        hasErrors: false,
      };
      const data = newObject();
      const ok = apply(input, root, data, walk, [], rootType);
      return { data: ok ? data : null, errors: walk.errors };
    },
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

function describe(path: (string | number)[], currentType: Type, parentType: CompositeType): string {
  const element = path[path.length - 1];
  assert(element !== undefined, 'Should not have been called on an empty path');
  return typeof element === 'string'
    ? `field ${String(parentType)}.${element}`
    : `array element of type ${String(currentType)} at index ${element}`;
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
