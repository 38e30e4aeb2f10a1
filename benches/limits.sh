#!/usr/bin/env bash
# benches/limits.sh — casebook under oversized input: 1,000 case studies of
# 1 MB each, one file of 50 MB, and one page for each of the densest kinds
# of Markdown just under the limit of marks per page (a list, emphasis,
# headings, a table: the worst cases for the Markdown reader's memory).
# Prints what each build said, its exit code, wall time and peak memory. It
# reports; it never fails on a number.
#
# Usage: bash benches/limits.sh            (scratch space: target/limits/, ~1.1 GB)
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/casebook
cargo build --release -q || exit 2
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null 2>&1 || { echo "needs /usr/bin/time (apt-get install time)"; exit 2; }
W=$ROOT/target/limits
rm -rf "$W" && mkdir -p "$W/big/content/case-studies" "$W/huge/content/case-studies"
printf 'title = "Limits"\nbase_url = "https://limits.example/"\n' > "$W/big/site.toml"
cp "$W/big/site.toml" "$W/huge/site.toml"
DENSE="list emph heading table"
for shape in $DENSE; do
  mkdir -p "$W/$shape/content/case-studies" && cp "$W/big/site.toml" "$W/$shape/site.toml"
  python3 - "$W/$shape/content/case-studies/dense.md" "$shape" <<'PY'
import sys
path, shape = sys.argv[1], sys.argv[2]
unit = {"list": "- item\n", "emph": "*a* ", "heading": "## h\n\n", "table": "| a | b |\n"}[shape]
marks = sum(unit.count(c) for c in "\n*_`[]!<>|~&\\")
body = ("| a | b |\n|---|---|\n" if shape == "table" else "") + unit * (999_000 // marks)
with open(path, "w") as f:
    f.write("---\ntitle: Dense\ndate: 2024-01-01\nngo: N\nsector: [Health]\nprogram: P\nsummary: s\n---\n" + body)
PY
done

# A paragraph of ~1 KB, repeated to make each body about 1 MB.
para="The programme team met the NGO's staff every week to review the data, agree the next changes to the forms and check that the dashboards answered the questions the field teams were asking. Each meeting ended with a short list of decisions, an owner for each and a date, and the list was shared with everyone who had been in the room as well as those who had not. Over the months the forms became shorter, the questions clearer and the numbers more trusted, and the team began to use them to plan rather than only to report. [A link](https://example.org/) and **bold** and *emphasis* keep the parser busy.
"
python3 - "$W/big/content/case-studies" "$para" <<'PY'
import sys, os
d, para = sys.argv[1], sys.argv[2]
body = (para + "\n") * (1024 * 1024 // (len(para) + 1))
for i in range(1000):
    with open(os.path.join(d, f"cs-{i:04}.md"), "w") as f:
        f.write(f"---\ntitle: Case study {i}\ndate: 2024-01-01\nngo: NGO {i % 50}\nsector: [Health]\nprogram: P\nsummary: A large case study.\n---\n## Section\n\n")
        f.write(body)
PY
python3 - "$W/huge/content/case-studies" "$para" <<'PY'
import sys, os
d, para = sys.argv[1], sys.argv[2]
body = (para + "\n") * (50 * 1024 * 1024 // (len(para) + 1))
with open(os.path.join(d, "huge.md"), "w") as f:
    f.write("---\ntitle: Huge\ndate: 2024-01-01\nngo: N\nsector: [Health]\nprogram: P\nsummary: s\n---\n")
    f.write(body)
PY
echo "content: $(du -sh "$W/big/content" | cut -f1) in $(ls "$W/big/content/case-studies" | wc -l) files; $(du -sh "$W/huge/content" | cut -f1) in one file"
for site in big huge $DENSE; do
  echo "== $site"
  /usr/bin/time -f "exit %x, %e s wall, %U s user, %S s sys, peak %M KB" \
    "$BIN" build --root "$W/$site" --output "$W/$site-out" --timings 2>&1 | tail -12
done
rm -rf "$W"
