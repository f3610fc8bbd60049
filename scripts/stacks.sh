#!/usr/bin/env bash
# The deployment program's stacks: one per Pulumi.<stack>.yaml in the project directory.
# CI's matrices (.github/workflows), `make checkov` and .ci/run all take their list from here,
# so adding a stack file is enough for it to be gated. Each stack needs its policy config,
# policies/config/<stack>.json: the levels an environment runs at are a decision, not a
# default, so a missing one fails here, naming the file to add. (A missing Checkov baseline,
# policies/checkov/<stack>.yaml, is allowed: it means no Checkov finding is accepted.)
# Usage: scripts/stacks.sh [--json] [PROJECT_DIR]
#   one stack per line, or with --json one JSON array (for a GitHub Actions fromJSON matrix);
#   PROJECT_DIR defaults to the repository root.
set -euo pipefail

json=false
if [[ "${1:-}" == "--json" ]]; then
    json=true
    shift
fi
cd "${1:-$(dirname "$0")/..}"

shopt -s nullglob
stacks=()
status=0
for file in Pulumi.*.yaml; do
    stack="${file#Pulumi.}"
    stack="${stack%.yaml}"
    # Pulumi's own rule for stack names; it also keeps the JSON below free of quoting.
    if [[ ! "$stack" =~ ^[A-Za-z0-9_.-]+$ ]]; then
        echo "error: $file: '$stack' is not a stack name (letters, digits, '-', '_', '.')" >&2
        status=1
        continue
    fi
    if [[ ! -f "policies/config/$stack.json" ]]; then
        echo "error: $file has no policy config: add policies/config/$stack.json" \
            "(copy policies/config/dev.json or prod.json and adjust the levels)" >&2
        status=1
    fi
    stacks+=("$stack")
done
if ((${#stacks[@]} == 0)); then
    echo "error: no Pulumi.<stack>.yaml in $PWD" >&2
    exit 1
fi
((status == 0)) || exit "$status"

if $json; then
    quoted=()
    for stack in "${stacks[@]}"; do
        quoted+=("\"$stack\"")
    done
    (IFS=,; echo "[${quoted[*]}]")
else
    printf '%s\n' "${stacks[@]}"
fi
