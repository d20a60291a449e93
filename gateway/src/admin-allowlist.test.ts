import { buildASTSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { isAdminScope, isAdminScopedField } from './admin-allowlist.ts';

const schema = buildASTSchema(
  parse(/* GraphQL */ `
    directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
    type Query {
      users: [User!]! @requiresScopes(scopes: [["admin"]])
      analytics: Int @requiresScopes(scopes: [["storage:admin", "storage:read"]])
      either: Int @requiresScopes(scopes: [["admin"], ["profile:read"]])
      me: User @requiresScopes(scopes: [["profile:read"]])
      audit: AuditLog
      open: Int
    }
    type User {
      id: ID!
    }
    type AuditLog @requiresScopes(scopes: [["admin"]]) {
      entries: Int
    }
  `),
);

describe('admin-scoped fields', () => {
  it('are those no caller can reach without an admin scope, on the field, its parent or its return type', () => {
    expect(isAdminScopedField(schema, 'Query', 'users')).toBe(true);
    expect(isAdminScopedField(schema, 'Query', 'analytics')).toBe(true);
    expect(isAdminScopedField(schema, 'Query', 'audit')).toBe(true);
    expect(isAdminScopedField(schema, 'AuditLog', 'entries')).toBe(true);
    expect(isAdminScopedField(schema, 'Query', 'either')).toBe(false);
    expect(isAdminScopedField(schema, 'Query', 'me')).toBe(false);
    expect(isAdminScopedField(schema, 'Query', 'open')).toBe(false);
    expect(isAdminScopedField(schema, 'Query', 'missing')).toBe(false);
  });

  it('recognise `admin` and domain admin scopes only', () => {
    expect(['admin', 'knowledge:admin', 'storage:admin'].every(isAdminScope)).toBe(true);
    expect(['administrator', 'admin:read', 'profile:read'].some(isAdminScope)).toBe(false);
  });
});
