#!/usr/bin/env bash
# Profile a Portway tunnel under load with perf: where the edge's and the agent's CPU goes per
# small request (one nginx origin, edge in dev mode, one agent, wrk -t2 -c64 through the tunnel).
#
#   bench/tunnel-profile.sh                  # 15 s warm-up, then 10 s of perf record on both
#   bench/tunnel-profile.sh --seconds 20 --no-build
#   bench/tunnel-profile.sh --env NAME=VALUE # extra environment for edge and agent (repeatable)
#
# Like bench/profile.sh, the processes run with DOTNET_PerfMapEnabled=1 and W^X off so perf can
# name JIT-compiled frames; use bench/tunnel.sh, not this, for figures.
# Results: bench/results/tunnel-profile-<time>/ (edge.perf.data, agent.perf.data, top-*.txt).
. "$(dirname "$0")/lib.sh"

seconds=10 warm=15 build=1 extra_env=()
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift ;;
    --warm) warm=$2; shift ;;
    --env) extra_env+=("$2"); shift ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,/^# Results/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

bench_init tunnel-profile
build_dir="$REPO_DIR/bench/results/build"
if ((build)); then
  bench_build "$REPO_DIR/src/Portway/Portway.csproj" portway
fi
mkdir -p "$BENCH_OUT/www" "$BENCH_OUT/tmp-origin"
origin_port=$(bench_free_port)
bench_render "$BENCH_DIR/proxy/origin.nginx.conf" "$BENCH_OUT/origin.conf" OUT="$BENCH_OUT" ORIGIN_PORT="$origin_port"
bench_start origin nginx -c "$BENCH_OUT/origin.conf" -g 'daemon off;'
bench_wait_http "http://127.0.0.1:$origin_port/small" 30 origin

edge_port=$(bench_free_port)
bench_render "$BENCH_DIR/tunnel/portway.yaml" "$BENCH_OUT/portway.yaml" PORT="$edge_port" ADMIN_PORT="$(bench_free_port)"
perf_env=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 "${extra_env[@]}")
bench_start edge env "${perf_env[@]}" "$build_dir/portway/portway" serve --config "$BENCH_OUT/portway.yaml"
bench_wait_http "http://127.0.0.1:$edge_port/" 60 edge
bench_start agent env "${perf_env[@]}" "$build_dir/portway/portway" http "$origin_port" --edge "http://127.0.0.1:$edge_port" --inspect false
for _ in $(seq 100); do grep -q '^Forwarding ' "$BENCH_OUT/agent.log" && break; sleep 0.2; done
host=$(sed -n 's|^Forwarding http://\([^ ]*\) .*|\1|p' "$BENCH_OUT/agent.log" | head -1)
[[ -n $host ]] || { bench_log "the agent printed no URL"; cat "$BENCH_OUT/agent.log" >&2; exit 1; }

wrk -t2 -c64 -d"${warm}s" -H "Host: $host" "http://127.0.0.1:$edge_port/small" > /dev/null 2>&1 || true
wrk --latency -t2 -c64 -d$((seconds + 4))s -H "Host: $host" "http://127.0.0.1:$edge_port/small" > "$BENCH_OUT/wrk.txt" &
wrk_pid=$!
sleep 2
perf_pids=()
for role in edge agent; do
  perf record -F 999 -g -p "${BENCH_PID[$role]}" -o "$BENCH_OUT/$role.perf.data" -- sleep "$seconds" 2> "$BENCH_OUT/$role.perf.log" &
  perf_pids+=($!)
done
wait "$wrk_pid" "${perf_pids[@]}"
grep -E 'Requests/sec|99%' "$BENCH_OUT/wrk.txt"

set +o pipefail   # head closes the pipe early on purpose
for role in edge agent; do
  {
    echo "== $role: samples"
    perf report -i "$BENCH_OUT/$role.perf.data" --stdio 2>/dev/null | grep -m1 'Samples'
    echo "== $role: self time by DSO"
    perf report -i "$BENCH_OUT/$role.perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -12
    echo "== $role: self time by symbol"
    perf report -i "$BENCH_OUT/$role.perf.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -50
  } > "$BENCH_OUT/top-$role.txt"
  perf report -i "$BENCH_OUT/$role.perf.data" --children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' > "$BENCH_OUT/children-$role.txt"
done
head -30 "$BENCH_OUT/top-edge.txt" "$BENCH_OUT/top-agent.txt"
