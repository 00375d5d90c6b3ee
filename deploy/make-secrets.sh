#!/bin/bash
# Creates deploy/secrets/ (random ClickHouse passwords, one per service) and a starting
# deploy/vigil.yaml if there is none. Secrets stay out of git (see .gitignore).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p secrets && chmod 700 secrets
for service in migrate ingest worker api sql; do
  f="secrets/clickhouse_${service}_password"
  [ -f "$f" ] || { head -c 32 /dev/urandom | base64 | tr -d '/+=\n' > "$f"; chmod 600 "$f"; }
done
if [ ! -f vigil.yaml ]; then
  echo "agents: []" > vigil.yaml
  echo "api_keys: []" >> vigil.yaml
  echo "created deploy/vigil.yaml: add agents and API keys (README, Configuration)"
fi
