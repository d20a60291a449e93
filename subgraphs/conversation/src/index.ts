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
  CONVERSATION_GATEWAY_URL: httpUrl.optional(),
  CONVERSATION_AUTH_URL: httpUrl.optional(),
  // The launcher's ports: where `npm start` (or one host) puts the gateway and auth when the URLs are unset.
  GATEWAY_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  AUTH_PORT: z.coerce.number().int().min(1).max(65535).optional(),
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
  CONVERSATION_TOKEN_DELAY_MS: z.coerce.number().int().min(0).max(1000).optional(),
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
    if (production && (data.CONVERSATION_TOKEN_DELAY_MS ?? 0) > 0)
      return { problems: ['CONVERSATION_TOKEN_DELAY_MS: a development setting, not allowed in production'] };
    return {
      config: {
        gatewayUrl:
          data.CONVERSATION_GATEWAY_URL ??
          (data.GATEWAY_PORT
            ? `http://127.0.0.1:${data.GATEWAY_PORT}/graphql`
            : DEFAULT_CONVERSATION_SETTINGS.gatewayUrl),
        authUrl:
          data.CONVERSATION_AUTH_URL ??
          (data.AUTH_PORT ? `http://127.0.0.1:${data.AUTH_PORT}` : DEFAULT_CONVERSATION_SETTINGS.authUrl),
        openaiDefaultKey: data.CONVERSATION_OPENAI_DEFAULT_KEY,
        leaseSeconds: data.CONVERSATION_LEASE_SECONDS,
        sweepIntervalMs: data.CONVERSATION_SWEEP_SECONDS * 1000,
        // Development paces the grounded responder so a person sees the reply stream; production never waits.
        tokenDelayMs: data.CONVERSATION_TOKEN_DELAY_MS ?? (production ? 0 : 15),
      },
    };
  },
  start: (runtime, settings) => startConversationSubgraph({ ...runtime, settings }, runtime.port, runtime.host),
});
