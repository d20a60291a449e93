import { fileURLToPath } from 'node:url';
import { defineSubgraph } from '@supergraph/kit';
import { checkEnv } from '@supergraph/platform';
import { z } from 'zod';
import {
  DEFAULT_CONVERSATION_SETTINGS,
  databaseSpec,
  startConversationSubgraph,
  type ConversationSettings,
} from './server.ts';

export {
  contextFor,
  createConversationApp,
  databaseSpec,
  DEFAULT_CONVERSATION_SETTINGS,
  startConversationSubgraph,
  typeDefs,
} from './server.ts';
export type { ConversationApp, ConversationDeps, ConversationSettings, RunningConversation } from './server.ts';

const httpUrl = z.url().refine((value) => /^https?:\/\//i.test(value), 'must be an http or https URL');

const conversationEnv = z.object({
  CONVERSATION_GATEWAY_URL: httpUrl.default(DEFAULT_CONVERSATION_SETTINGS.gatewayUrl),
  CONVERSATION_AUTH_URL: httpUrl.default(DEFAULT_CONVERSATION_SETTINGS.authUrl),
  CONVERSATION_OPENAI_DEFAULT_KEY: z
    .string()
    .optional()
    .transform((value) => value?.trim() || null),
  CONVERSATION_LEASE_SECONDS: z.coerce
    .number()
    .int()
    .min(5)
    .max(600)
    .default(DEFAULT_CONVERSATION_SETTINGS.leaseSeconds),
  CONVERSATION_SWEEP_SECONDS: z.coerce.number().int().min(1).max(300).default(5),
  CONVERSATION_TOKEN_DELAY_MS: z.coerce.number().int().min(0).max(1000).default(0),
});

/** The conversation subgraph: droids, conversations, messages and their streamed replies. */
export const conversation = defineSubgraph<Partial<ConversationSettings>>({
  name: 'conversation',
  description: 'droids, conversations, messages, streamed grounded replies',
  port: 4004,
  database: databaseSpec,
  schemaFile: fileURLToPath(new URL('./schema.graphql', import.meta.url)),
  codegen: { context: 'ConversationContext', tableSchemas: ['conversation'] },
  scopes: { user: ['conversation:read', 'conversation:write'], admin: ['conversation:admin'] },
  configure: (env, { production }) => {
    const { data, problems } = checkEnv(conversationEnv, env);
    if (!data) return { problems };
    if (production && data.CONVERSATION_TOKEN_DELAY_MS > 0)
      return { problems: ['CONVERSATION_TOKEN_DELAY_MS: a development setting, not allowed in production'] };
    return {
      config: {
        gatewayUrl: data.CONVERSATION_GATEWAY_URL,
        authUrl: data.CONVERSATION_AUTH_URL,
        openaiDefaultKey: data.CONVERSATION_OPENAI_DEFAULT_KEY,
        leaseSeconds: data.CONVERSATION_LEASE_SECONDS,
        sweepIntervalMs: data.CONVERSATION_SWEEP_SECONDS * 1000,
        tokenDelayMs: data.CONVERSATION_TOKEN_DELAY_MS,
      },
    };
  },
  start: (runtime, settings) => startConversationSubgraph({ ...runtime, settings }, runtime.port, runtime.host),
});
