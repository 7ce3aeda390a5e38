#!/bin/bash
# Runs once, on the first start of an empty data volume (docker-entrypoint-initdb.d).
# Creates the hub's role and database, and Temporal's role; temporal-sql-tool creates the
# databases temporal and temporal_visibility itself (hence CREATEDB).
# Later password changes: ALTER ROLE ... PASSWORD ... by hand, then update docker/.env.
set -e

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set psa_pw="$PSA_DB_PASSWORD" --set temporal_pw="$TEMPORAL_DB_PASSWORD" <<'EOSQL'
CREATE ROLE psa LOGIN PASSWORD :'psa_pw';
CREATE DATABASE psa OWNER psa;
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_pw';
EOSQL
