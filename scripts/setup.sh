#!/usr/bin/env bash
# Installs what Medusa and its tests need on a fresh Debian machine: ffmpeg, yt-dlp, sqlite3, PostgreSQL's
# binaries, a C++ toolchain for better-sqlite3 when no prebuilt binary can be fetched (and for npm run
# build:binary), systemd-analyze, chromium for the dashboard's browser test, then the locked npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v yt-dlp >/dev/null || missing+=(yt-dlp)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v curl >/dev/null || missing+=(curl)
command -v aria2c >/dev/null || missing+=(aria2)
command -v unshare >/dev/null || missing+=(util-linux)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
command -v python3 >/dev/null || missing+=(python3)
# systemd-analyze lints scripts/medusa.service in the tests (it needs no running systemd).
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v strip >/dev/null || missing+=(binutils) # npm run build:binary strips the runtime
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# PostgreSQL for the store tests on both engines: only the binaries. The tests start throwaway clusters of their
# own (test/support/postgres.ts), so no system cluster is created and no service is started.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing postgresql (binaries only; no cluster, no service)"
  $sudo mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/medusa-no-main.conf >/dev/null
  added_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # exit 101: "action forbidden", so the package's postinst starts no service
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    added_policy=1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  [ -z "$added_policy" ] || $sudo rm -f /usr/sbin/policy-rc.d
fi
npm ci --no-audit --no-fund
