#!/usr/bin/env bash
# Cache-hit load benchmark: Portway's shared cache against nginx proxy_cache (lock and
# revalidate on), both in front of one nginx origin whose responses are fresh for an hour, in
# interleaved rounds of one run. Every measured request is a hit. Method: docs/benchmarks.md#cache.
#
#   bench/cache.sh                  # 5 rounds, 10 s per measurement (~5 minutes)
#   bench/cache.sh --quick          # 1 round, 3 s: a smoke check of the harness
#
# Options:
#   --rounds N   rounds (default 5)     --duration S   seconds per wrk run (10)
#   --warm S     load on Portway before measuring (15)
#   --conns N    wrk connections (64)   --no-build     reuse bench/results/build/
# Results: bench/results/cache-<time>/ (runs.tsv, summary.md, each wrk output, process logs).
. "$(dirname "$0")/lib.sh"

rounds=5 duration=10 warm=15 conns=64 build=1
while (($#)); do
  case $1 in
    --quick) rounds=1 duration=3 warm=5 ;;
    --rounds) rounds=$2; shift ;;
    --duration) duration=$2; shift ;;
    --warm) warm=$2; shift ;;
    --conns) conns=$2; shift ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,/^# Results/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

bench_init cache
build_dir="$REPO_DIR/bench/results/build"
if ((build)); then
  bench_log "building Portway (Release)"
  bench_build "$REPO_DIR/src/Portway/Portway.csproj" portway
fi

{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git -C "$REPO_DIR" rev-parse --short HEAD)$(git -C "$REPO_DIR" diff --quiet HEAD -- src bench || echo ' (with uncommitted changes)')"
  echo "cpus: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rounds: $rounds x ${duration}s; warm-up ${warm}s on Portway; wrk -t2 -c$conns"
  echo "$(nginx -v 2>&1); dotnet $(dotnet --version)"
} > "$BENCH_OUT/meta.txt"

mkdir -p "$BENCH_OUT/www" "$BENCH_OUT"/tmp-{origin,nginx,nginx-proxy} "$BENCH_OUT/nginx-cache"
head -c 102400 /dev/urandom > "$BENCH_OUT/www/100k.bin"
origin_port=$(bench_free_port)
bench_render "$BENCH_DIR/cache/origin.nginx.conf" "$BENCH_OUT/origin.conf" OUT="$BENCH_OUT" ORIGIN_PORT="$origin_port"
bench_start origin nginx -c "$BENCH_OUT/origin.conf" -g 'daemon off;'
bench_wait_http "http://127.0.0.1:$origin_port/small" 30 origin

names=(portway nginx)
declare -A port=()
port[portway]=$(bench_free_port)
port[nginx]=$(bench_free_port)
bench_render "$BENCH_DIR/cache/portway.yaml" "$BENCH_OUT/portway.yaml" PORT="${port[portway]}" ADMIN_PORT="$(bench_free_port)" ORIGIN_PORT="$origin_port"
bench_start portway "$build_dir/portway/portway" serve --config "$BENCH_OUT/portway.yaml"
bench_render "$BENCH_DIR/cache/nginx.conf" "$BENCH_OUT/nginx.conf" OUT="$BENCH_OUT" PORT="${port[nginx]}" ORIGIN_PORT="$origin_port"
bench_start nginx nginx -c "$BENCH_OUT/nginx.conf" -g 'daemon off;'

# Pre-flight: both answer correctly, and the second request for each object is a cache hit.
declare -A hit_header=([portway]=Cache-Status [nginx]=X-Cache) hit_value=([portway]='Portway; hit' [nginx]=HIT)
for name in "${names[@]}"; do
  bench_wait_http "http://127.0.0.1:${port[$name]}/small" 60 "$name"
  for path in /small /files/100k.bin; do
    curl -sf -o /dev/null "http://127.0.0.1:${port[$name]}$path"
    headers=$(curl -sf -D - -o "$BENCH_OUT/check.bin" "http://127.0.0.1:${port[$name]}$path")
    if ! grep -qi "^${hit_header[$name]}: ${hit_value[$name]}" <<< "$headers"; then
      bench_log "$name did not serve $path from its cache:"; echo "$headers" >&2; exit 1
    fi
    if ! cmp -s "$BENCH_OUT/check.bin" <(curl -sf "http://127.0.0.1:$origin_port$path"); then
      bench_log "$name served a different body for $path"; exit 1
    fi
  done
done
origin_cpu_before=$(bench_cpu_ticks "${BENCH_PID[origin]}")

# .NET needs load before JIT tiering and PGO reach steady state; nginx only its pools.
bench_warm "http://127.0.0.1:${port[portway]}/small" "$warm" 2 "$conns"
bench_warm "http://127.0.0.1:${port[portway]}/files/100k.bin" 3 2 "$conns"
bench_warm "http://127.0.0.1:${port[nginx]}/small" 2 2 "$conns"

for ((round = 1; round <= rounds; round++)); do
  bench_log "round $round of $rounds"
  for ((i = 0; i < 2; i++)); do
    name=${names[$(((i + round - 1) % 2))]}
    pid=${BENCH_PID[$name]}
    bench_measure round="$round" proxy="$name" workload=hit-small -- "$pid" "http://127.0.0.1:${port[$name]}/small" "$duration" 2 "$conns"
    bench_measure round="$round" proxy="$name" workload=hit-100KB -- "$pid" "http://127.0.0.1:${port[$name]}/files/100k.bin" "$duration" 2 "$conns"
  done
done

origin_cpu=$(( $(bench_cpu_ticks "${BENCH_PID[origin]}") - origin_cpu_before ))
echo "origin CPU during warm-up and rounds: $origin_cpu ticks (≈0 means every request was a hit)" >> "$BENCH_OUT/meta.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$BENCH_OUT/meta.txt"
cat "$BENCH_OUT/meta.txt"
echo
bench_summary nginx
