#!/bin/bash
# Runs once when the ClickHouse container first starts (docker-entrypoint-initdb.d):
# creates Vigil's users from users.sql with the SHA-256 of each password secret.
set -euo pipefail
sql=$(cat /vigil/users.sql)
for service in migrate ingest worker api sql; do
  hash=$(tr -d '\n' < "/run/secrets/clickhouse_${service}_password" | sha256sum | cut -d' ' -f1)
  sql=${sql//\{${service}_password_sha256\}/$hash}
done
clickhouse-client --multiquery <<< "$sql"
