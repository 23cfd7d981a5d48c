#!/bin/sh
# exec-plugin.sh RUNS_FILE future|past: an ExecCredential with the token from PLUGIN_TOKEN,
# counting its runs in RUNS_FILE. Fails when kubectl's KUBERNETES_EXEC_INFO is missing.
case "$KUBERNETES_EXEC_INFO" in
*'"kind":"ExecCredential"'*) ;;
*) echo "no KUBERNETES_EXEC_INFO" >&2; exit 1 ;;
esac
echo run >> "$1"
if [ "$2" = past ]; then exp=2001-01-01T00:00:00Z; else exp=2999-01-01T00:00:00Z; fi
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\n' "$PLUGIN_TOKEN" "$exp"
