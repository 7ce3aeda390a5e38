#!/bin/sh
# Creates Temporal's databases and brings their schemas to the version shipped in this
# admin-tools image. Idempotent: `create` ignores an existing database, `setup-schema -v 0.0`
# skips a database that is already versioned, `update-schema` applies only newer versions.
# Environment: POSTGRES_SEEDS, DB_PORT, POSTGRES_USER, SQL_PASSWORD (read by temporal-sql-tool).
set -eu

SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

sql_tool() {
    temporal-sql-tool --plugin postgres12 --ep "${POSTGRES_SEEDS:-postgres}" \
        -p "${DB_PORT:-5432}" -u "${POSTGRES_USER:-temporal}" "$@"
}

for db in temporal temporal_visibility; do
    case "$db" in
        temporal) dir="$SCHEMA_DIR/temporal/versioned" ;;
        *) dir="$SCHEMA_DIR/visibility/versioned" ;;
    esac
    echo "Setting up database $db"
    sql_tool --db "$db" create
    sql_tool --db "$db" setup-schema -v 0.0
    sql_tool --db "$db" update-schema -d "$dir"
done
echo "Temporal schema is up to date"
