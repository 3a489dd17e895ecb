#!/bin/sh
# Peak RSS and throughput of `hopbudget analyze` in memory and spilled
# (--max-memory), on OTLP JSON Lines inputs of 1 GB per file made by
# ../shared/tracegen (shop scenario, a different seed per file) in
# $BENCH_DIR, never in the repository. Whole processes, measured by
# /usr/bin/time -v; the JSON reports of both modes must be identical.
#
#   SIZES="1 3 10"  input sizes in GB (1 GB files, generated once, kept)
#   MAXMEM=1GiB     --max-memory of the spilled runs
#   INMEM_MAX=3     largest size also run in memory (GB)
set -eu
GO=${GO:-go}
SIZES=${SIZES:-"1 3 10"}
MAXMEM=${MAXMEM:-1GiB}
INMEM_MAX=${INMEM_MAX:-3}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/hopbudget-bench-spill}
SPANS_PER_GB=1800000 # shop spans take ~555 bytes of OTLP JSON each

shared=""
for d in ../shared ../../shared; do
	if [ -f "$d/tracegen/main.go" ]; then shared=$d; break; fi
done
[ -n "$shared" ] || { echo "bench-spill: ../shared/tracegen not found" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench-spill: needs /usr/bin/time (GNU time)" >&2; exit 2; }
mkdir -p "$BENCH_DIR"
$GO build -o bin/hopbudget .
$GO -C "$shared/tracegen" build -o "$BENCH_DIR/tracegen" .

avail_gb() { df -Pk "$BENCH_DIR" | awk 'NR==2 {print int($4/1048576)}'; }

# measure LABEL ARGS...: runs hopbudget under time, prints wall, MB/s, RSS.
measure() {
	label=$1; shift
	/usr/bin/time -v -o "$BENCH_DIR/time.txt" ./bin/hopbudget "$@" >"$BENCH_DIR/$label.json" 2>"$BENCH_DIR/$label.err" || {
		echo "bench-spill: $label failed:" >&2; cat "$BENCH_DIR/$label.err" >&2; exit 1; }
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$BENCH_DIR/time.txt")
	rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$BENCH_DIR/time.txt")
	mbs=$(awk -v b="$bytes" -v w="$wall" 'BEGIN {printf "%.1f", b/1e6/w}')
	printf '%-22s %8.1f s %8s MB/s %7s MiB peak RSS\n' "$label" "$wall" "$mbs" "$rss"
}

for size in $SIZES; do
	files=""
	i=1
	while [ "$i" -le "$size" ]; do
		f="$BENCH_DIR/gb$i/traces.otlp.jsonl"
		if [ ! -f "$f" ]; then
			if [ "$(avail_gb)" -lt 3 ]; then
				echo "bench-spill: not enough disk in $BENCH_DIR for ${size} GB (and the spill files): stopping" >&2
				exit 0
			fi
			"$BENCH_DIR/tracegen" -scenario shop -spans $SPANS_PER_GB -seed "$i" -format otlp-jsonl -truth-traces 0 -o "$BENCH_DIR/gb$i" >/dev/null
		fi
		files="$files $f"
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	bytes=$(cat $files | wc -c)
	echo "== ${size} GB of OTLP JSON Lines ($bytes bytes)"
	if [ "$size" -le "$INMEM_MAX" ]; then
		# shellcheck disable=SC2086
		measure "${size}GB-in-memory" analyze -o json --max-memory 0 $files
	fi
	# shellcheck disable=SC2086
	measure "${size}GB-spilled-$MAXMEM" analyze -o json --max-memory "$MAXMEM" --tmp-dir "$BENCH_DIR" $files
	grep -h 'spilled to' "$BENCH_DIR/${size}GB-spilled-$MAXMEM.err" || echo "(not spilled: the input fits in --max-memory)"
	if [ -f "$BENCH_DIR/${size}GB-in-memory.json" ] && [ "$size" -le "$INMEM_MAX" ]; then
		cmp -s "$BENCH_DIR/${size}GB-in-memory.json" "$BENCH_DIR/${size}GB-spilled-$MAXMEM.json" &&
			echo "reports identical" || { echo "bench-spill: reports differ" >&2; exit 1; }
	fi
done
