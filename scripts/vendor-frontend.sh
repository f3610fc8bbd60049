#!/usr/bin/env bash
# Re-vendor the dashboard's front-end libraries from npm at pinned versions (`make vendor`).
# Each tarball is checked against its pinned sha512 (npm's `dist.integrity`) before anything
# is copied, so a re-run reproduces the committed files byte for byte or fails. To upgrade:
# change VERSION and INTEGRITY below (`npm view <name>@<version> dist.integrity`), re-run,
# update docs/api.md's table and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."

DEST=service/ecommerce_analytics/dashboard/static/vendor

UPLOT_VERSION=1.6.32
UPLOT_INTEGRITY=sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==
REDOC_VERSION=2.5.4
REDOC_INTEGRITY=sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ==

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fetch NAME VERSION INTEGRITY: unpacks the verified tarball into $work/NAME.
fetch() {
  local name=$1 version=$2 integrity=$3 tarball actual
  tarball=$(cd "$work" && npm pack --silent "$name@$version")
  actual="sha512-$(openssl dgst -sha512 -binary "$work/$tarball" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    echo "error: $name@$version tarball is $actual, pinned $integrity" >&2
    exit 1
  fi
  mkdir -p "$work/$name"
  tar -xzf "$work/$tarball" -C "$work/$name" --strip-components=1
}

fetch uplot "$UPLOT_VERSION" "$UPLOT_INTEGRITY"
fetch redoc "$REDOC_VERSION" "$REDOC_INTEGRITY"

rm -rf "$DEST"
mkdir -p "$DEST/uplot" "$DEST/redoc"
cp "$work/uplot/dist/uPlot.iife.min.js" "$work/uplot/dist/uPlot.min.css" \
  "$work/uplot/LICENSE" "$DEST/uplot/"
cp "$work/redoc/LICENSE" "$work/redoc/bundles/redoc.standalone.js.LICENSE.txt" "$DEST/redoc/"
# Two edits, so that /docs loads nothing from elsewhere: the source map (4 MB) is not
# vendored, so the comment pointing at it goes (developer tools would report a missing file);
# the sidebar's "API docs by Redocly" link fetches its logo from cdn.redoc.ly, which the page's
# Content-Security-Policy refuses (a console error): it becomes an empty inline image.
logo=https://cdn.redoc.ly/redoc/logo-mini.svg
blank="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"
if [ "$(grep -o "$logo" "$work/redoc/bundles/redoc.standalone.js" | wc -l)" != 1 ]; then
  echo "error: redoc@$REDOC_VERSION no longer loads $logo exactly once; review the edit" >&2
  exit 1
fi
sed -e '/^\/\/# sourceMappingURL=/d' -e "s|$logo|$blank|" \
  "$work/redoc/bundles/redoc.standalone.js" > "$DEST/redoc/redoc.standalone.js"
cat > "$DEST/VERSIONS" <<VERSIONS
# Written by scripts/vendor-frontend.sh; do not edit by hand.
uplot $UPLOT_VERSION MIT $UPLOT_INTEGRITY
redoc $REDOC_VERSION MIT $REDOC_INTEGRITY
VERSIONS
echo "vendored uplot $UPLOT_VERSION and redoc $REDOC_VERSION into $DEST"
