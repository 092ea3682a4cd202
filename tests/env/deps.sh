#!/usr/bin/env bash
# deps.sh - installs the Debian packages Sluice needs to build and test (and, with the argument
# "bench", to benchmark), if any is missing.
# Idempotent and quiet when everything is there already.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config openssl
  libcurl4-openssl-dev libssl-dev libmariadb-dev libsqlite3-dev sqlite3
  libkrb5-dev liblz4-dev libjansson-dev libexpat1-dev libpcre2-dev
  krb5-kdc krb5-admin-server krb5-user clang-16 libclang-rt-16-dev
  mariadb-server mariadb-client galera-4 rsync
  python3-venv golang-go unzip
  default-jdk-headless maven
)

# `deps.sh bench` also installs what `make bench` needs (charts in the report, perf for its profiles).
if [ "${1:-}" = bench ]; then PACKAGES+=(python3-matplotlib linux-perf); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Go, a JDK and Maven may come with the base image outside Debian's packages.
if command -v go >/dev/null || [ -x /usr/local/go/bin/go ]; then missing=("${missing[@]/golang-go}"); fi
if command -v javac >/dev/null; then missing=("${missing[@]/default-jdk-headless}"); fi
if command -v mvn >/dev/null; then missing=("${missing[@]/maven}"); fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sed '/^$/d')

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
