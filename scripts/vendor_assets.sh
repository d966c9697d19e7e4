#!/usr/bin/env bash
# Refresh the vendored front-end libraries from the npm registry (versions: scripts/vendor/package.json).
# KaTeX goes to docs/assets/vendor/ (the site serves it; nothing comes from a CDN). Mermaid
# goes to scripts/vendor/mermaid/: only the build uses it (scripts/diagrams.py draws every
# diagram as SVG), so readers never download it. After a Mermaid update, run
# `python scripts/diagrams.py --prune` to redraw every diagram into docs/diagrams-cache/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/vendor/package.json" "$work/"
(cd "$work" && npm install --no-audit --no-fund --silent)
dest="$root/docs/assets/vendor"
rm -rf "$dest/katex" "$here/vendor/mermaid"
mkdir -p "$dest/katex/fonts" "$here/vendor/mermaid"
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
cp "$work/node_modules/mermaid/dist/mermaid.min.js" "$work/node_modules/mermaid/LICENSE" "$here/vendor/mermaid/"
echo "vendored: katex $(node -p "require('$k/package.json').version"), mermaid $(node -p "require('$work/node_modules/mermaid/package.json').version")"
