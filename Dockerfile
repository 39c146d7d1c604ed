# syntax=docker/dockerfile:1
# RoutedIP operator webhook: a small, non-root image that runs `node dist/server.js` (npm start).

# Node.js 24 LTS, the major pinned in .nvmrc (CI and the README's test command run the same one).
ARG NODE_IMAGE=node:24-bookworm-slim
ARG NODE_RUNTIME_IMAGE=node:24-bookworm-slim

# --- build: compile TypeScript with the dev dependencies --------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies and the compiled JavaScript only ------------------------
FROM ${NODE_RUNTIME_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts are needed by the runtime dependencies; skipping them keeps the image honest.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The `node` user (uid 1000) of the official image; the Deployment also sets runAsUser: 1000
# because the kubelet can only verify a numeric user is not root.
USER node
ENV PORT=8080 HOST=0.0.0.0
EXPOSE 8080
CMD ["node", "dist/server.js"]
