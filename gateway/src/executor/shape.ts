import {
  assert,
  ERRORS,
  isCompositeType,
  isObjectType,
  isSubtype,
  typenameFieldName,
  type CompositeType,
  type NamedType,
  type Operation,
  type Type,
} from '@apollo/federation-internals';
import { executeSync, type GraphQLError, type GraphQLSchema, type VariableDefinitionNode } from 'graphql';
import { compileSelections, type CompiledSelection, type Condition, type TypeShape } from './shape-compile.ts';

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

/** Per request: what the walk needs, plus the two flags `updateOutputValue` returned as an object. */
interface Walk {
  variables: Record<string, unknown>;
  rawVariables: Record<string, unknown> | undefined;
  errors: GraphQLError[];
  isInvalid: boolean;
  hasErrors: boolean;
}

export function compileShape(
  operation: Operation,
  /** The API schema as graphql-js sees it (introspection runs against it, as in Apollo's executor). */
  graphqlSchema: GraphQLSchema,
  variableDefinitions: readonly VariableDefinitionNode[] | undefined,
): CompiledShape {
  const schema = operation.schema();
  const { root, rootType, plainObjects, defaulted } = compileSelections(operation, variableDefinitions);
  // Only names the schema has are remembered: a subgraph's stray __typename must not grow this.
  const knownTypes = new Map<string, NamedType>();
  const typeNamed = (name: string): NamedType | undefined => {
    let type = knownTypes.get(name);
    if (type === undefined) {
      type = schema.type(name);
      if (type) knownTypes.set(name, type);
    }
    return type;
  };
  // Apollo builds the output from null-prototype objects, which V8 keeps in its slow dictionary mode; object
  // literals are fast to fill and to serialise, and equivalent whenever no response name is a property of
  // Object.prototype (known once per operation).
  const newObject: () => Record<string, unknown> = plainObjects
    ? () => ({})
    : () => Object.create(null) as Record<string, unknown>;

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

  /**
   * Apollo's `typeConditionApplies`, memoised per fragment by the object's
   * __typename (only names the schema has) or, without one, by the parent type.
   */
  function fragmentApplies(
    fragment: Extract<CompiledSelection, { kind: 'fragment' }>,
    typename: string | undefined,
    parentType: CompositeType,
  ): boolean {
    const condition = fragment.typeCondition;
    if (!condition) return true;
    if (!typename) {
      let applies = fragment.appliesToParent.get(parentType);
      if (applies === undefined) fragment.appliesToParent.set(parentType, (applies = isSubtype(condition, parentType)));
      return applies;
    }
    let applies = fragment.applies.get(typename);
    if (applies === undefined) {
      const type = typeNamed(typename);
      if (!type) return false;
      fragment.applies.set(typename, (applies = isSubtype(condition, type)));
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

function describe(path: (string | number)[], currentType: Type, parentType: CompositeType): string {
  const element = path[path.length - 1];
  assert(element !== undefined, 'Should not have been called on an empty path');
  return typeof element === 'string'
    ? `field ${String(parentType)}.${element}`
    : `array element of type ${String(currentType)} at index ${element}`;
}
