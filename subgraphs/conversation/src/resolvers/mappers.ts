import type { ConversationRow, DroidRow, MessageRow } from '../conversation.table.ts';
import type { StreamEventKind } from '../streaming/events.ts';

/*
 * One row → GraphQL mapper per type. The `*Model` types are codegen mappers
 * (codegen.json): the generated `Resolvers` expect these shapes.
 */

export interface DroidModel {
  id: string;
  name: string;
  persona: string;
  knowledgeScope: { knowledgeBase: boolean; storageUnits: string[] };
  provider: { kind: DroidRow['provider']; baseUrl: string | null; model: string | null };
  ownerId: string;
  createdAt: Date;
  updatedAt: Date;
}

export function toDroid(row: DroidRow): DroidModel {
  return {
    id: row.id,
    name: row.name,
    persona: row.persona,
    knowledgeScope: { knowledgeBase: row.knowledge_base, storageUnits: row.storage_units },
    provider: { kind: row.provider, baseUrl: row.base_url, model: row.model },
    ownerId: row.owner_id,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

export interface ConversationModel {
  id: string;
  title: string | null;
  droidId: string;
  ownerId: string;
  createdAt: Date;
  updatedAt: Date;
}

export function toConversation(row: ConversationRow): ConversationModel {
  return {
    id: row.id,
    title: row.title,
    droidId: row.droid_id,
    ownerId: row.owner_id,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** A message as of some moment: a stored row, or a streaming reply with the content generated so far. */
export interface MessageModel {
  id: string;
  conversationId: string;
  role: MessageRow['role'];
  status: MessageRow['status'];
  content: string;
  failureReason: string | null;
  ownerId: string;
  droidId: string | null;
  citationIds: string[];
  recordCitations: string[];
  createdAt: Date;
  completedAt: Date | null;
}

export function toMessage(row: MessageRow): MessageModel {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    role: row.role,
    status: row.status,
    content: row.content,
    failureReason: row.failure_reason,
    ownerId: row.owner_id,
    droidId: row.droid_id,
    citationIds: row.citations,
    recordCitations: row.record_citations,
    createdAt: new Date(row.created_at),
    completedAt: row.completed_at ? new Date(row.completed_at) : null,
  };
}

export interface MessageEventModel {
  kind: StreamEventKind;
  sequence: number;
  delta: string | null;
  message: MessageModel;
}

/** A user as conversation knows it: the id (auth owns the rest). */
export interface UserReference {
  id: string;
}

export function toUserReference(id: string): UserReference {
  return { id };
}

/** A knowledge entry the gateway resolves in the knowledge subgraph. */
export interface KnowledgeEntryReference {
  id: string;
}
