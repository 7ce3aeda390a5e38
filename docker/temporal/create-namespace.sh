#!/bin/sh
# Waits for the Temporal frontend, then creates the namespace unless it exists.
# Environment: TEMPORAL_ADDRESS (host:port), NAMESPACE, NAMESPACE_RETENTION (e.g. 720h).
set -eu

address="${TEMPORAL_ADDRESS:-temporal:7233}"
namespace="${NAMESPACE:-default}"
retention="${NAMESPACE_RETENTION:-720h}"

attempt=0
until temporal operator cluster health --address "$address" >/dev/null 2>&1; do
    attempt=$((attempt + 1))
    if [ "$attempt" -ge 60 ]; then
        echo "Temporal at $address is not healthy after $attempt attempts" >&2
        exit 1
    fi
    sleep 2
done

if temporal operator namespace describe --address "$address" --namespace "$namespace" >/dev/null 2>&1; then
    echo "Namespace '$namespace' exists"
else
    temporal operator namespace create --address "$address" --namespace "$namespace" --retention "$retention"
    echo "Namespace '$namespace' created (retention $retention)"
fi
