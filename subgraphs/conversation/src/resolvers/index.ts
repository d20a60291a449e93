import { DateTimeResolver as DateTime } from 'graphql-scalars';
import type { Resolvers } from '../generated/resolvers.ts';
import { Conversation } from './Conversation.ts';
import { Droid } from './Droid.ts';
import { Message } from './Message.ts';
import { Mutation } from './Mutation.ts';
import { Query } from './Query.ts';
import { Subscription } from './Subscription.ts';
import { User } from './User.ts';

const fieldResolvers: Resolvers = { DateTime, Query, Mutation, Droid, Conversation, Message, User };

/** `Subscription` is typed in its own file (codegen's federation mode types it as plain fields). */
export const resolvers = { ...fieldResolvers, Subscription };
