#!/usr/bin/env bash
# Builds the browser SDK into internal/web/static/sdk/ (the output is
# committed, so that `go build` needs no npm). Run after changing
# package.json or src/: `bash ui/build.sh`.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts
out=../internal/web/static/sdk
mkdir -p "$out"
version=$(node -p 'require("@segment/analytics-next/package.json").version')
# One self-contained file: no code splitting, so analytics-next's lazily
# imported modules are bundled in and nothing is loaded from a CDN.
./node_modules/.bin/esbuild src/revloop.js --bundle --minify --format=iife --target=es2018 \
  --legal-comments=eof --define:process.env.NODE_ENV='"production"' \
  --banner:js="/*! revloop browser SDK; bundles @segment/analytics-next ${version} (MIT) */" \
  --outfile="$out/revloop.js"
cp node_modules/@segment/analytics-next/LICENSE.MD "$out/LICENSE.analytics-next.txt" 2>/dev/null || true
echo "built $out/revloop.js ($(wc -c < "$out/revloop.js") bytes)"

# The pages' libraries, served as they are published (minified builds),
# each with its license beside it.
vendor=../internal/web/static/vendor
mkdir -p "$vendor"
cp node_modules/htmx.org/dist/htmx.min.js "$vendor/htmx.min.js"
cp node_modules/htmx.org/LICENSE "$vendor/htmx.min.js.LICENSE.txt"
cp node_modules/echarts/dist/echarts.min.js "$vendor/echarts.min.js"
cat node_modules/echarts/LICENSE node_modules/echarts/NOTICE > "$vendor/echarts.min.js.LICENSE.txt"
echo "copied htmx $(node -p 'require("htmx.org/package.json").version') and echarts $(node -p 'require("echarts/package.json").version') into $vendor"
