import { DateTimeResolver as DateTime } from 'graphql-scalars';
import { KnowledgeEntry } from './KnowledgeEntry.ts';
import { Mutation } from './Mutation.ts';
import { KnowledgeSearchConnection, Query } from './Query.ts';
import { User } from './User.ts';

export const resolvers = { DateTime, Query, Mutation, KnowledgeEntry, KnowledgeSearchConnection, User };
