#!/usr/bin/env bash
# Profile Portway's proxy path under load with perf: where the CPU goes per small request.
#
#   bench/profile.sh                 # 15 s warm-up, then 10 s of perf record under wrk -t2 -c64
#   bench/profile.sh --seconds 20 --url-path /files/1m.bin --conns 16
#   bench/profile.sh --counters      # dotnet-counters (GC, allocation rate, thread pool) instead
#   bench/profile.sh --alloc         # dotnet-trace gc-verbose: bytes allocated per request by type and stack
#   bench/profile.sh --config bench/proxy/portway-rules.yaml --header "Authorization: Bearer $(cat bench/proxy/rules.jwt)"
#
# Portway runs with DOTNET_PerfMapEnabled=1 (perf resolves JIT-compiled frames through
# /tmp/perf-PID.map) and DOTNET_EnableWriteXorExecute=0 (with W^X on, JIT code lives in a
# double-mapped memfd that perf cannot symbolize). Both change the process slightly; use
# bench/proxy.sh, not this, for figures. Results: bench/results/profile-<time>/ (perf.data,
# top.txt: self time by DSO and by symbol; children.txt: inclusive time).
. "$(dirname "$0")/lib.sh"

seconds=10 warm=15 path=/small conns=64 mode=perf build=1 config=$(dirname "$0")/proxy/portway.yaml headers=()
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift ;;
    --warm) warm=$2; shift ;;
    --url-path) path=$2; shift ;;
    --conns) conns=$2; shift ;;
    --counters) mode=counters ;;
    --alloc) mode=alloc ;;
    --config) config=$(realpath "$2"); shift ;;
    --header) headers+=(-H "$2"); shift ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,/^# top.txt/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

bench_init profile
BENCH_WRK_ARGS=("${headers[@]}")
build_dir="$REPO_DIR/bench/results/build"
if ((build)); then
  bench_build "$REPO_DIR/src/Portway/Portway.csproj" portway
fi
if [[ $mode == alloc && ( $build == 1 || ! -f $build_dir/alloc-report/alloc-report.dll ) ]]; then
  bench_build "$BENCH_DIR/AllocReport/AllocReport.csproj" alloc-report
fi

mkdir -p "$BENCH_OUT/www" "$BENCH_OUT/tmp-origin"
head -c 1048576 /dev/urandom > "$BENCH_OUT/www/1m.bin"
origin_port=$(bench_free_port)
port=$(bench_free_port)
bench_render "$BENCH_DIR/proxy/origin.nginx.conf" "$BENCH_OUT/origin.conf" OUT="$BENCH_OUT" ORIGIN_PORT="$origin_port"
bench_start origin nginx -c "$BENCH_OUT/origin.conf" -g 'daemon off;'
bench_render "$config" "$BENCH_OUT/portway.yaml" PORT="$port" ADMIN_PORT="$(bench_free_port)" ORIGIN_PORT="$origin_port" BENCH_DIR="$BENCH_DIR"
bench_start portway env DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 "$build_dir/portway/portway" serve --config "$BENCH_OUT/portway.yaml"
bench_wait_http "http://127.0.0.1:$port$path" 60 portway
bench_warm "http://127.0.0.1:$port$path" "$warm" 2 "$conns"

pid=${BENCH_PID[portway]}
wrk "${BENCH_WRK_ARGS[@]}" --latency -t2 -c"$conns" -d$((seconds + 4))s "http://127.0.0.1:$port$path" > "$BENCH_OUT/wrk.txt" &
wrk_pid=$!
sleep 2
if [[ $mode == perf ]]; then
  perf record -F 999 -g -p "$pid" -o "$BENCH_OUT/perf.data" -- sleep "$seconds" 2> "$BENCH_OUT/perf.log"
elif [[ $mode == alloc ]]; then
  dotnet-trace collect -p "$pid" --profile gc-verbose --duration "00:00:00:$(printf %02d "$seconds")" \
    -o "$BENCH_OUT/alloc.nettrace" > "$BENCH_OUT/trace.log"
else
  dotnet-counters collect -p "$pid" --duration "00:00:$(printf %02d "$seconds")" --refresh-interval 1 --format csv \
    -o "$BENCH_OUT/counters.csv" --counters System.Runtime > /dev/null
fi
wait "$wrk_pid"
grep -E 'Requests/sec|99%' "$BENCH_OUT/wrk.txt"

set +o pipefail   # head closes the pipe early on purpose
if [[ $mode == perf ]]; then
  {
    echo "== self time by DSO"
    perf report -i "$BENCH_OUT/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -12
    echo "== self time by symbol"
    perf report -i "$BENCH_OUT/perf.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60
  } > "$BENCH_OUT/top.txt"
  perf report -i "$BENCH_OUT/perf.data" --children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' > "$BENCH_OUT/children.txt"
  head -40 "$BENCH_OUT/top.txt"
elif [[ $mode == alloc ]]; then
  # The trace covers $seconds of wrk's $((seconds + 4)) s: its share of the requests.
  requests=$(awk -v s="$seconds" '/requests in/ {print int($1 * s / (s + 4))}' "$BENCH_OUT/wrk.txt")
  dotnet "$build_dir/alloc-report/alloc-report.dll" "$BENCH_OUT/alloc.nettrace" "$requests" 25 > "$BENCH_OUT/alloc.txt"
  head -30 "$BENCH_OUT/alloc.txt"
else
  grep -E 'total_allocated|gc.collections|working_set|thread_pool.thread.count' "$BENCH_OUT/counters.csv" | tail -8
fi
