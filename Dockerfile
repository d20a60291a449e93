# syntax=docker/dockerfile:1
# One image for every service: the command picks it (`node gateway/src/main.ts`,
# `node subgraphs/<name>/src/main.ts`, `node scripts/migrate.ts`). Node 24 runs
# the TypeScript sources as they are (type stripping), so there is no build step
# and no dev dependency in the image. docs/deployment.md has the details.
ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies only, from the lockfile. Only the manifests are copied
# here, so this layer is rebuilt when a dependency changes, not on every edit.
# test/deploy-manifests.test.ts checks that every workspace's manifest is listed.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY db/package.json db/
COPY platform/package.json platform/
COPY seeding/package.json seeding/
COPY testing/package.json testing/
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
COPY subgraphs/operations/package.json subgraphs/operations/
# argon2 ships prebuilt binaries and picks one at install (so install scripts run).
# Type declarations, source maps and package docs are never loaded at run time:
# dropping them halves node_modules (about 400 MB to 200 MB, mostly OpenTelemetry).
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force \
  && find . -path '*/node_modules/*' -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.md' \) -delete

# The sources, without tests, docs or tooling (.dockerignore), over the
# installed tree; owned by root so the service (user node) cannot rewrite them.
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    GATEWAY_HOST=0.0.0.0 \
    HEALTH_PORT=4000 \
    DATA_DIR=/tmp/supergraph
WORKDIR /app
COPY --from=deps /app ./
COPY . .
USER node
EXPOSE 4000 4001 4002 4003 4004 4005
# Every service answers /health on its own port; compose and the manifests set HEALTH_PORT to it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.HEALTH_PORT+'/health',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The services drain on SIGTERM (platform's stopOnSignals); tini forwards it and reaps.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "gateway/src/main.ts"]
