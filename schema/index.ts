export { composedArtefacts, composeScopes, composeSupergraph, SCOPES_FILE, SUPERGRAPH_FILE } from './compose.ts';
