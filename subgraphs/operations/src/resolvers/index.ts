import { DateTimeResolver as DateTime, JSONResolver as JSON } from 'graphql-scalars';
import type { Resolvers } from '../generated/resolvers.ts';
import { Mutation } from './Mutation.ts';
import { Query } from './Query.ts';
import { Service } from './Service.ts';
import { User } from './User.ts';

export const resolvers: Resolvers = { DateTime, JSON, Query, Mutation, Service, User };
