#!/usr/bin/env bash
# benches/compare.sh — time `casebook build` against Hugo on the same generated corpus.
#
# Usage (from anywhere in the repository):
#
#   bash benches/compare.sh [SIZES...]          # default: 1000 10000
#   RUNS=7 bash benches/compare.sh 1000         # runs per tool (default: 5 below 5,000 pages, else 3)
#   SEED=7 bash benches/compare.sh              # another corpus (default seed 42)
#   OUT=/dev/shm/cb bash benches/compare.sh     # write the builds to a RAM disk (default target/bench/out)
#
# What it does:
#   1. Installs what is missing, from Debian's packages: `hugo` (apt-get install -y hugo) and GNU
#      time (/usr/bin/time, apt-get install -y time). Needs root for that; nothing else.
#   2. Builds casebook in release mode (`cargo build --release`, and the gen_corpus example).
#   3. For each size N, generates target/bench/N/{casebook,hugo} (unless the same size, seed and
#      generator made them already: a stamp file says so) with
#      `gen_corpus --n N --out target/bench/N --seed SEED` (examples/gen_corpus.rs): the same
#      N case studies, as a casebook site and as a Hugo site with minimal layouts doing the same
#      template work. It also makes target/bench/N/casebook-nofeeds: the same casebook site with
#      `feed = false` on its four taxonomies. Hugo's RSS is disabled, and by default casebook
#      writes one Atom feed per term (most of its output bytes), so this row is the closest to
#      Hugo's output set; the `casebook` row is casebook's default behaviour.
#   4. Builds each site ALTERNATELY (casebook, cp, casebook-nofeeds, cp-nofeeds, hugo; then
#      again), RUNS times, each into a new output folder of its own, after a `sync` so that no run
#      pays for writing back another's files. No output is deleted while runs are timed (see
#      "runs" below for why); it all goes at the end but for the last run's. Measured with
#      `/usr/bin/time -f`: wall time, CPU time (user+sys) and peak RSS:
#        casebook:          target/release/casebook build --root DIR/casebook --output OUT
#        casebook-nofeeds:  target/release/casebook build --root DIR/casebook-nofeeds --output OUT
#        hugo:              hugo --source DIR/hugo --destination OUT --quiet
#        cp:                cp -r <casebook's output of the same round> OUT   (the disk-bound
#                           floor: writing the same bytes casebook writes, with no work to
#                           produce them)
#        cp-nofeeds:        cp -r <casebook-nofeeds' output of that round> OUT   (its floor)
#      The page cache is warm (no caches are dropped); the machine should be otherwise idle.
#   5. Checks the builds wrote the same HTML files: prints each tool's count of *.html and says
#      MISMATCH loudly if they differ. casebook's pages that Hugo has no counterpart for
#      (explore/, outcomes/, the empty reports/ list) are left out of the comparison but not of
#      the timings: they, search-index.json and the open-data files are extra work for casebook.
#   6. Prints a table of medians per size and tool (wall s, CPU s, peak MiB) and the ratios
#      casebook/Hugo (wall, memory) and casebook/cp (wall; each casebook row against the copy
#      of its own output).
#
# It is a benchmark, not a test: it never fails on a number. It exits non-zero only when
# something could not run (a build that fails, a missing tool that cannot be installed).
# Scratch space: target/bench/: the corpus, and while it runs, every run's output (about 1.4 GB
# per round at 10,000 pages, so 7 GB at RUNS=5). With less room free it falls back to deleting
# each round's output before the next, and says so.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(1000 10000)
SEED=${SEED:-42}
BENCH="$ROOT/target/bench"
# Where the builds write. OUT=/dev/shm/casebook-bench puts them on a RAM disk, which takes the
# disk (shared and noisy on these machines) out of the figures and leaves the CPU work.
OUTDIR=${OUT:-$BENCH/out}
TIME=/usr/bin/time
failed=0

say() { printf '%s\n' "$*"; }
die() { printf 'compare.sh: %s\n' "$*" >&2; exit 2; }

# ---------------------------------------------------------------- tools
apt_install() {
    say "installing $* from Debian's packages"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null 2>&1; then
        apt-get update >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null || die "could not install $*"
    fi
}
command -v hugo >/dev/null 2>&1 || apt_install hugo
[ -x "$TIME" ] || apt_install time
command -v cargo >/dev/null 2>&1 || die "cargo is needed to build casebook"

say "== building casebook (release)"
cargo build --release --quiet || die "cargo build --release failed"
cargo build --release --quiet --example gen_corpus || die "cargo build --release --example gen_corpus failed"
# Copies, so that a `cargo build` elsewhere during the runs cannot swap the binary under us.
mkdir -p "$BENCH/bin"
cp "$ROOT/target/release/casebook" "$ROOT/target/release/examples/gen_corpus" "$BENCH/bin/"
CASEBOOK="$BENCH/bin/casebook"
GEN="$BENCH/bin/gen_corpus"

# ---------------------------------------------------------------- machine
say ""
say "== machine"
say "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
say "nproc:    $(nproc)"
say "cpu:      $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
say "kernel:   $(uname -sr)"
[ -r /etc/debian_version ] && say "debian:   $(cat /etc/debian_version)"
say "memory (free -g):"
free -g | sed 's/^/  /'
say "hugo:     $(hugo version)"
say "casebook: $("$CASEBOOK" --version) (git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ', src/ has uncommitted changes'))"
say "rustc:    $(rustc --version)"

# ---------------------------------------------------------------- helpers
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }
count_html() { find "$1" -type f -name '*.html' | wc -l; }

# run_one TOOL SIZE OUT ROUND: one timed run into OUT, which does not exist yet; appends
# "wall cpu maxrss_kib" to the tool's results file. Prints the tool's own output only when it fails.
run_one() {
    local tool=$1 size=$2 out=$3 round=$4 dir="$BENCH/$2" log="$BENCH/results/$1.$2.log" tf
    tf=$(mktemp)
    # The previous runs' pages are written back to the disk now, outside every timing, so that
    # no tool pays for another's.
    sync
    local cmd
    case $tool in
        casebook) cmd=("$CASEBOOK" build --root "$dir/casebook" --output "$out") ;;
        casebook-nofeeds) cmd=("$CASEBOOK" build --root "$dir/casebook-nofeeds" --output "$out") ;;
        hugo) cmd=(hugo --source "$dir/hugo" --destination "$out" --quiet) ;;
        cp) cmd=(cp -r "$round/casebook" "$out") ;;
        cp-nofeeds) cmd=(cp -r "$round/casebook-nofeeds" "$out") ;;
    esac
    if "$TIME" -f '%e %U %S %M' -o "$tf" "${cmd[@]}" >"$log" 2>&1; then
        awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$tf" >>"$BENCH/results/$tool.$size"
        # casebook's warnings (if any) are worth seeing once.
        if [ "$tool" = casebook ] && grep -qi 'warn' "$log"; then
            say "  note: casebook printed warnings:"; sed 's/^/    /' "$log" | head -20
        fi
    else
        say "  FAILED: $tool on $size pages: ${cmd[*]}"
        sed 's/^/    /' "$log" | grep -v '^    Command exited' | head -40
        failed=1
    fi
    rm -f "$tf"
}

# ---------------------------------------------------------------- runs
# Every run writes into a folder of its own, and no output is deleted until all runs are done.
# On this machine's ext4 (no journal), making a file soon after many were deleted is slow: the
# inode allocator passes over each inode freed in the last minute (six minutes while its inode
# table block waits to be written back), one at a time (fs/ext4/ialloc.c, recently_deleted()). Deleting the previous run's 13,000 files before each run made
# every tool's figure depend on how recently something was deleted: `cp -r` of the same
# 10,000-page output took 0.9 s to 4.0 s (BENCHMARKS.md, "Disk noise"). So: each invocation
# writes under a folder of its own, the runs' outputs are deleted only at the end, and a corpus
# that is already there (same size, seed and generator) is reused instead of rewritten.
mkdir -p "$BENCH/results" "$OUTDIR"
rm -f "$BENCH"/results/*
TOOLS=(casebook cp casebook-nofeeds cp-nofeeds hugo)
EXTRA_HTML="explore/index.html outcomes/index.html reports/index.html"
INVOCATION="$OUTDIR/run-$(date +%s)-$$"
declare -A LAST=()
KEEP=1

for size in "${SIZES[@]}"; do
    runs=${RUNS:-}
    [ -z "$runs" ] && { if [ "$size" -lt 5000 ]; then runs=5; else runs=3; fi; }
    dir="$BENCH/$size"
    say ""
    stamp="seed $SEED, size $size, generator $(cksum <"$GEN" | cut -d' ' -f1)"
    if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then
        say "== $size case studies: reusing $dir (seed $SEED)"
    else
        say "== $size case studies: generating $dir (seed $SEED)"
        rm -f "$dir/.stamp"
        "$GEN" --n "$size" --out "$dir" --seed "$SEED" || die "gen_corpus failed"
        mkdir -p "$dir/casebook-nofeeds"
        cp -r "$dir/casebook/content" "$dir/casebook-nofeeds/"
        awk '{print} /^\[\[taxonomies\]\]/ {print "feed = false"}' "$dir/casebook/site.toml" >"$dir/casebook-nofeeds/site.toml"
        printf '%s' "$stamp" >"$dir/.stamp"
        say "  (a new corpus replaced an old one: the first runs may meet the slow inode allocation described above)"
    fi

    say "  load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    for ((r = 1; r <= runs; r++)); do
        round="$INVOCATION/$size.$r"
        if [ "$KEEP" = 1 ] && [ "$r" -gt 1 ]; then
            # Room for the rest of the runs, going by the first one's output (and 1 GiB spare)?
            used=$(du -sm "$INVOCATION/$size.1" | cut -f1)
            free=$(df -Pm "$OUTDIR" | awk 'NR == 2 {print $4}')
            if [ $((used * (runs - r + 1) + 1024)) -gt "$free" ]; then
                KEEP=0
                say "  note: only $free MiB free on the disk; from now on each run deletes the one before it, so the"
                say "        figures include the slow inode allocation that follows a deletion (see above)"
            fi
        fi
        if [ "$KEEP" = 0 ] && [ "$r" -gt 1 ]; then rm -rf "$INVOCATION/$size.$((r - 1))"; fi
        mkdir -p "$round"
        say "  run $r/$runs"
        for tool in "${TOOLS[@]}"; do
            if [ "$tool" = cp ] && [ ! -d "$round/casebook" ]; then continue; fi
            if [ "$tool" = cp-nofeeds ] && [ ! -d "$round/casebook-nofeeds" ]; then continue; fi
            run_one "$tool" "$size" "$round/$tool" "$round"
        done
    done
    LAST[$size]="$INVOCATION/$size.$runs"
    last="${LAST[$size]}"

    say "  load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

    # Same output set? Compare the HTML files of the last runs.
    say "  HTML files written:"
    declare -A n=()
    for tool in casebook casebook-nofeeds hugo; do
        if [ -d "$last/$tool" ]; then n[$tool]=$(count_html "$last/$tool"); else n[$tool]=0; fi
    done
    # casebook's own pages beyond the issue's output set: the explorer, the outcomes overview and
    # the (empty) report list. They are extra work for casebook, so they stay in the timings but
    # are left out of the comparison of file sets.
    for tool in casebook casebook-nofeeds; do
        for extra in $EXTRA_HTML; do
            if [ -f "$last/$tool/$extra" ]; then n[$tool]=$((n[$tool] - 1)); fi
        done
    done
    say "    (casebook's counts leave out its extra pages: $EXTRA_HTML)"
    for tool in casebook casebook-nofeeds hugo; do say "    $(printf '%-17s %7d' "$tool" "${n[$tool]}")"; done
    if [ "${n[casebook]}" -ne "${n[hugo]}" ] || [ "${n[casebook-nofeeds]}" -ne "${n[hugo]}" ]; then
        say "    !!!!!!!! MISMATCH: casebook and Hugo wrote different numbers of HTML files !!!!!!!!"
    fi
    d=$(diff <(cd "$last/casebook" 2>/dev/null && find . -name '*.html' ! -path ./reports/index.html ! -path ./explore/index.html ! -path ./outcomes/index.html | sort) \
             <(cd "$last/hugo" 2>/dev/null && find . -name '*.html' | sort))
    if [ -n "$d" ]; then
        say "    !!!!!!!! MISMATCH in the HTML paths (< casebook only, > hugo only), first lines:"
        printf '%s\n' "$d" | grep '^[<>]' | head -10 | sed 's/^/      /'
    else
        say "    same HTML paths in casebook's and Hugo's output"
    fi
    for tool in casebook casebook-nofeeds hugo; do
        [ -d "$last/$tool" ] && say "    $(printf '%-17s' "$tool") total output $(du -sm "$last/$tool" | cut -f1) MiB in $(find "$last/$tool" -type f | wc -l) files"
    done
    unset n
done

# ---------------------------------------------------------------- table
say ""
say "== results (medians; wall and CPU in seconds, peak RSS in MiB)"
printf '%-7s %-17s %4s %8s %8s %9s %10s %9s %9s\n' pages tool runs wall cpu peak_MiB wall/hugo mem/hugo wall/cp
for size in "${SIZES[@]}"; do
    declare -A W=() C=() M=() R=()
    for tool in "${TOOLS[@]}"; do
        f="$BENCH/results/$tool.$size"
        if [ -s "$f" ]; then
            W[$tool]=$(cut -d' ' -f1 "$f" | median)
            C[$tool]=$(cut -d' ' -f2 "$f" | median)
            M[$tool]=$(cut -d' ' -f3 "$f" | median | awk '{printf "%.0f", $1 / 1024}')
            R[$tool]=$(wc -l <"$f")
        fi
    done
    ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
    for tool in casebook cp casebook-nofeeds cp-nofeeds hugo; do
        [ -n "${W[$tool]:-}" ] || { printf '%-7s %-17s %s\n' "$size" "$tool" "no successful run"; continue; }
        wh=-; mh=-; wc=-
        if [[ $tool == casebook* ]]; then
            wh=$(ratio "${W[$tool]}" "${W[hugo]:-}")
            mh=$(ratio "${M[$tool]}" "${M[hugo]:-}")
            if [ "$tool" = casebook ]; then wc=$(ratio "${W[$tool]}" "${W[cp]:-}"); else wc=$(ratio "${W[$tool]}" "${W[cp-nofeeds]:-}"); fi
        fi
        printf '%-7s %-17s %4s %8.2f %8.2f %9s %10s %9s %9s\n' "$size" "$tool" "${R[$tool]}" \
            "${W[$tool]}" "${C[$tool]}" "${M[$tool]}" "$wh" "$mh" "$wc"
    done
    unset W C M R
done
say ""
# Every earlier run's output, and what earlier invocations left, goes now that the timing is over.
say "deleting the earlier runs' output (wait six minutes before timing file writes on this disk again)"
for old in "$OUTDIR"/*; do
    [ -e "$old" ] || continue
    if [ "$old" = "$INVOCATION" ]; then
        for round in "$INVOCATION"/*; do
            keep=0
            for size in "${SIZES[@]}"; do [ "$round" = "${LAST[$size]:-}" ] && keep=1; done
            [ "$keep" = 1 ] || rm -rf "$round"
        done
    else
        rm -rf "$old"
    fi
done
say "output of the last runs: ${LAST[*]}"
say "raw runs (wall cpu maxrss_KiB per line): $BENCH/results/"
exit $failed
