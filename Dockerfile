# keyward's image: compiled JavaScript on Node.js 24, production settings,
# run as the unprivileged `node` user. docker-compose.yml builds and runs it.

# Build: compile src/ and gen/ to dist/ (TypeScript is a dev dependency).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Optional packages are platform binaries for the dev tools (and the pinned
# Node for machines without one): the image has its own Node and needs none.
RUN npm ci --omit=optional --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY gen/authn ./gen/authn
COPY gen/grpc ./gen/grpc
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# Run: production dependencies and the compiled code only.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production KEYWARD_ENV=production KEYWARD_HOST=0.0.0.0
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 50051 8080
# An HTTP probe of /readyz with Node itself: the slim image has no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 CMD ["node", "dist/src/healthcheck.js"]
CMD ["node", "dist/src/main.js"]
