# syntax=docker/dockerfile:1
# The cutover bot on Node 24, which runs the TypeScript sources directly (type stripping): there is
# no build step, so the image is the production dependencies plus the files that run.
# .dockerignore is an allow-list: the build context holds only package*.json, src, jobs, templates,
# commands and schemas (tests, fakes, examples, evidence and local Redis data never enter the image).

ARG NODE_IMAGE=node:24-slim

# ---- dependencies: exactly the lock file's production packages ---------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Install scripts stay on: msgpackr-extract (BullMQ's msgpackr) installs its prebuilt native binary.
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime ----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    EVIDENCE_DIR=/app/evidence
WORKDIR /app
# Code and dependencies stay owned by root: the unprivileged user can read them, not change them.
COPY --from=deps /app/node_modules ./node_modules
# package.json (its "type": "module" makes the .ts files ESM), src, jobs, templates, commands, schemas.
COPY . .
# The only place the bot writes (evidence packages; on Cloud Run, mount a bucket here instead).
RUN mkdir -p /app/evidence && chown node:node /app/evidence
# The node image's built-in unprivileged user (uid 1000).
USER node
EXPOSE 3000
# No curl in the slim image: Node's own fetch asks /healthz (Cloud Run ignores HEALTHCHECK; see README).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself, not npm: SIGTERM reaches the bot, which hands running jobs back and exits within 10 s.
# ROLE=web or ROLE=worker runs one half (see README, Running it in production); the default runs all.
CMD ["node", "src/app/main.ts"]
