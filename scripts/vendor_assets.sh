#!/usr/bin/env bash
# Refresh the vendored front-end assets in docs/assets/vendor/ from the npm registry.
# The site never loads KaTeX or Mermaid from a CDN: these copies are committed and served by the site.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/vendor/package.json" "$work/"
(cd "$work" && npm install --no-audit --no-fund --silent)
dest="$root/docs/assets/vendor"
rm -rf "$dest/katex" "$dest/mermaid"
mkdir -p "$dest/katex/fonts" "$dest/mermaid"
k="$work/node_modules/katex"
cp "$k/dist/katex.min.js" "$k/dist/contrib/auto-render.min.js" "$k/LICENSE" "$dest/katex/"
cp "$k"/dist/fonts/*.woff2 "$dest/katex/fonts/"
# Keep only the woff2 font sources: every browser the site supports reads woff2.
python3 - "$k/dist/katex.min.css" "$dest/katex/katex.min.css" <<'PY'
import re, sys
css = open(sys.argv[1], encoding="utf-8").read()
css = re.sub(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)', "", css)
open(sys.argv[2], "w", encoding="utf-8").write(css)
PY
cp "$work/node_modules/mermaid/dist/mermaid.min.js" "$work/node_modules/mermaid/LICENSE" "$dest/mermaid/"
echo "vendored: katex $(node -p "require('$k/package.json').version"), mermaid $(node -p "require('$work/node_modules/mermaid/package.json').version")"
