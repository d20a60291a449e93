import { DateTimeResolver as DateTime } from 'graphql-scalars';
import type { Resolvers } from '../generated/resolvers.ts';
import { KnowledgeEntry } from './KnowledgeEntry.ts';
import { Mutation } from './Mutation.ts';
import { KnowledgeSearchConnection, Query } from './Query.ts';
import { User } from './User.ts';

export const resolvers: Resolvers = { DateTime, Query, Mutation, KnowledgeEntry, KnowledgeSearchConnection, User };
