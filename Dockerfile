# keyward: the service image used by docker-compose.yml.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
# npm install, not ci: the lock may lack other platforms' optional binaries.
RUN npm install --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY gen ./gen
COPY src ./src
ENV KEYWARD_HOST=0.0.0.0 NODE_ENV=production
EXPOSE 50051 8080
USER node
CMD ["node", "--import", "tsx", "src/main.ts"]
