# One image for every service; the command picks the service.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY db/package.json db/
COPY platform/package.json platform/
COPY seeding/package.json seeding/
COPY schema/package.json schema/
COPY gateway/package.json gateway/
COPY test/package.json test/
COPY scripts/package.json scripts/
COPY subgraphs/kit/package.json subgraphs/kit/
COPY subgraphs/registry/package.json subgraphs/registry/
COPY subgraphs/auth/package.json subgraphs/auth/
COPY subgraphs/knowledge/package.json subgraphs/knowledge/
COPY subgraphs/storage-units/package.json subgraphs/storage-units/
COPY subgraphs/conversation/package.json subgraphs/conversation/
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY . .
USER node
CMD ["node", "gateway/src/main.ts"]
