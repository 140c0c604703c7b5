# syntax=docker/dockerfile:1
# Medusa: Node LTS, ffmpeg and a current yt-dlp, run by tini as the non-root user `node`, its state in /app/data.
#   docker build -t medusa .        (needs the internet: npm, Debian and PyPI)
# Node 24 is an LTS line (supported to April 2028) and the one the single binary ships; the dependencies also
# accept 26 (--build-arg NODE_MAJOR=26).
ARG NODE_MAJOR=24

FROM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles when no prebuilt binary matches.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# yt-dlp from PyPI, not Debian's (2023.03.04 in bookworm: years behind the sites it follows). The official
# release with its default extras (brotli, websockets, yt-dlp-ejs, ...) goes into a virtual environment that the
# final stage copies whole. Bump with --build-arg YTDLP_VERSION=....
FROM node:${NODE_MAJOR}-bookworm-slim AS ytdlp
ARG YTDLP_VERSION=2026.10.26
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/yt-dlp \
    && /opt/yt-dlp/bin/pip install --no-cache-dir --disable-pip-version-check "yt-dlp[default]==${YTDLP_VERSION}"

FROM node:${NODE_MAJOR}-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/app/data \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=9090
# python3 runs yt-dlp's virtual environment; sqlite3 is for the operator (`docker exec … sqlite3 data/medusa.db`).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg python3 sqlite3 ca-certificates tini \
    && rm -rf /var/lib/apt/lists/*
COPY --from=ytdlp /opt/yt-dlp /opt/yt-dlp
RUN ln -s /opt/yt-dlp/bin/yt-dlp /usr/local/bin/yt-dlp
WORKDIR /app
# The code stays root's (read-only to the service); only the data folder belongs to `node`.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||9090)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini as PID 1 forwards SIGTERM to Medusa (which stops its jobs cleanly) and reaps the tools' processes.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/cli.js"]
CMD ["start"]
