#!/bin/sh
# Run by the postgres image once, when it initialises an empty data directory
# (/docker-entrypoint-initdb.d). Creates Grafana's read-only role.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader=grafana_reader \
  -v password="$GRAFANA_DB_PASSWORD" \
  -v owner="$POSTGRES_USER" \
  -v database="$POSTGRES_DB" \
  -f /etc/fraudstream/grafana-reader.sql
