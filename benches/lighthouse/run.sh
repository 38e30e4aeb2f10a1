#!/usr/bin/env bash
# benches/lighthouse/run.sh — Lighthouse scores (performance, accessibility,
# best practices, SEO) of the example site's home page and a case study,
# mobile and desktop, with Debian's Chromium, offline on loopback.
#
# Usage: bash benches/lighthouse/run.sh     (needs chromium; npm install here first)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
[ -x /usr/bin/chromium ] || { echo "needs Chromium: apt-get install -y chromium"; exit 2; }
[ -d "$HERE/node_modules/lighthouse" ] || (cd "$HERE" && npm ci --no-audit --no-fund)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SITE=$(mktemp -d)
cd "$ROOT"
cargo build --release -q
"${CARGO_TARGET_DIR:-$ROOT/target}/release/casebook" build --root "$ROOT" --output "$SITE/public" --base-url "http://127.0.0.1:$PORT/" >/dev/null
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$SITE/public" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$SITE"' EXIT
sleep 1
mkdir -p "$HERE/report"
FLAGS="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync"
printf '%-48s %-8s %5s %5s %5s %5s\n' page form perf a11y bp seo
for page in "" "case-studies/search-mental-health-chatbot/"; do
  for form in mobile desktop; do
    name="$(echo "${page:-home}" | tr '/' '_')-$form"
    preset=(); [ $form = desktop ] && preset=(--preset=desktop)
    CHROME_PATH=/usr/bin/chromium "$HERE/node_modules/.bin/lighthouse" "http://127.0.0.1:$PORT/$page" --quiet \
      --chrome-flags="$FLAGS" "${preset[@]}" --output=json --output-path="$HERE/report/$name.json" >/dev/null 2>&1 || true
    python3 - "$HERE/report/$name.json" "/${page}" "$form" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["categories"]
s = [round((c[k]["score"] or 0) * 100) for k in ("performance", "accessibility", "best-practices", "seo")]
print(f"{sys.argv[2]:<48} {sys.argv[3]:<8} {s[0]:>5} {s[1]:>5} {s[2]:>5} {s[3]:>5}")
for k in ("performance", "accessibility", "best-practices", "seo"):
    for ref in c[k]["auditRefs"]:
        a = r["audits"][ref["id"]]
        if ref["weight"] > 0 and a["score"] is not None and a["score"] < 1:
            print(f"    {k}: {a['id']}: {a['title']} {a.get('displayValue', '')}")
PY
  done
done
