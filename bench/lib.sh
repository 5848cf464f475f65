# bench/lib.sh: shared pieces of Portway's load harnesses. Source it from a bench script:
#
#   . "$(dirname "$0")/lib.sh"
#   bench_init tunnel                         # results go to bench/results/tunnel-<time>/
#   port=$(bench_free_port)
#   bench_start origin nginx -c "$BENCH_OUT/origin.conf" -g 'daemon off;'
#   bench_wait_http "http://127.0.0.1:$port/"
#   bench_warm "http://127.0.0.1:$port/" 15   # load a .NET process before measuring it
#   bench_measure round=1 proxy=edge workload=small -- "${BENCH_PID[edge]}" "http://..." 10 2 64
#   bench_summary                             # medians and ratios from $BENCH_OUT/runs.tsv
#
# Every process started with bench_start is stopped (by its own pid) when the script exits.
# bench_measure appends one row per wrk run to $BENCH_OUT/runs.tsv: the labels you pass
# (round, proxy, workload are what bench_summary groups by), wrk's req/s, p50/p99 latency,
# requests, errors and MiB/s, and the measured process tree's CPU seconds during the run, CPU µs
# per request (utime+stime deltas from /proc/PID/stat) and peak RSS so far (VmHWM).

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
BENCH_CLK_TCK=$(getconf CLK_TCK)
declare -gA BENCH_PID=()

bench_log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# bench_init NAME: makes $BENCH_OUT (bench/results/NAME-YYYYmmdd-HHMMSS) and the exit trap.
bench_init() {
  BENCH_OUT="$REPO_DIR/bench/results/$1-$(date -u +%Y%m%d-%H%M%S)"
  mkdir -p "$BENCH_OUT"
  printf 'round\tproxy\tworkload\trps\tp50_ms\tp99_ms\trequests\terrors\tmib_s\tcpu_s\tcpu_us_per_req\tpeak_rss_mb\n' > "$BENCH_OUT/runs.tsv"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  bench_log "results in $BENCH_OUT"
}

bench_cleanup() {
  local name
  for name in "${!BENCH_PID[@]}"; do bench_stop "$name"; done
}

# bench_free_port: a loopback TCP port no socket uses now and this run has not handed out before
# (handed-out ports are kept in $BENCH_OUT/ports). Drawn below the kernel's ephemeral range, so
# another program's outgoing connections cannot take it between this check and the bind.
bench_free_port() {
  local port low
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  ((low > 12000)) || low=32768
  touch "$BENCH_OUT/ports"
  while :; do
    port=$((10000 + RANDOM % (low - 10000)))
    grep -qx "$port" "$BENCH_OUT/ports" && continue
    if ! ss -Htan "( sport = :$port )" | grep -q .; then echo "$port" >> "$BENCH_OUT/ports"; echo "$port"; return; fi
  done
}

# bench_render TEMPLATE OUT KEY=VALUE...: copies TEMPLATE to OUT replacing each @KEY@.
bench_render() {
  local template=$1 out=$2 kv args=()
  shift 2
  for kv in "$@"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${args[@]}" "$template" > "$out"
  if grep -q '@[A-Z_]*@' "$out"; then bench_log "unreplaced placeholder in $out"; grep -n '@[A-Z_]*@' "$out" >&2; return 1; fi
}

# bench_start NAME CMD...: runs CMD in the background (output in $BENCH_OUT/NAME.log), pid in BENCH_PID[NAME].
bench_start() {
  local name=$1
  shift
  "$@" > "$BENCH_OUT/$name.log" 2>&1 &
  BENCH_PID[$name]=$!
  bench_log "started $name (pid $!): $*"
}

# bench_stop NAME: SIGTERM to the pid bench_start recorded, SIGKILL after 10 s.
bench_stop() {
  local name=$1 pid=${BENCH_PID[$1]:-} i
  [[ -n $pid ]] || return 0
  unset "BENCH_PID[$name]"
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# bench_wait_http URL [SECONDS [NAME]]: waits until URL answers with any HTTP status; gives up
# early when the process bench_start started as NAME has exited (its log is shown).
bench_wait_http() {
  local url=$1 deadline=$((SECONDS + ${2:-60})) name=${3:-}
  while ((SECONDS < deadline)); do
    if curl -s -o /dev/null --max-time 2 "$url"; then return 0; fi
    if [[ -n $name ]] && ! kill -0 "${BENCH_PID[$name]}" 2>/dev/null; then
      bench_log "$name exited; its output:"
      tail -20 "$BENCH_OUT/$name.log" >&2
      return 1
    fi
    sleep 0.2
  done
  bench_log "no answer from $url"
  return 1
}

# bench_build PROJECT NAME: dotnet build -c Release of PROJECT into bench/results/build/NAME
# (its output appended to $BENCH_OUT/build.log, shown and the script ended if it fails).
bench_build() {
  dotnet build -c Release -nologo -v q -o "$REPO_DIR/bench/results/build/$2" "$1" >> "$BENCH_OUT/build.log" 2>&1 \
    || { cat "$BENCH_OUT/build.log"; exit 1; }
}

# bench_pids ROOT: ROOT and all its descendants (nginx's workers, for example).
bench_pids() {
  local pid child
  for pid in "$@"; do
    [[ -d /proc/$pid ]] || continue
    echo "$pid"
    for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do bench_pids "$child"; done
  done
}

# bench_cpu_ticks ROOT: utime+stime of the process tree, in clock ticks.
bench_cpu_ticks() {
  local total=0 pid stat
  for pid in $(bench_pids "$1"); do
    stat=$(cat /proc/"$pid"/stat 2>/dev/null) || continue
    stat=${stat##*) }   # fields after "(comm) "; utime and stime are fields 14 and 15 of the line
    set -- $stat
    total=$((total + ${12} + ${13}))
  done
  echo "$total"
}

# bench_rss_kb ROOT [VmRSS|VmHWM]: resident set (default) or its peak, summed over the tree, in KiB.
bench_rss_kb() {
  local field=${2:-VmRSS} total=0 pid kb
  for pid in $(bench_pids "$1"); do
    kb=$(awk -v f="$field:" '$1 == f { print $2 }' /proc/"$pid"/status 2>/dev/null) || continue
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# BENCH_WRK_ARGS: extra wrk arguments for every run and warm-up (e.g. -H 'Authorization: …'),
# so every proxy of a run gets the same requests.
BENCH_WRK_ARGS=()

# bench_wrk OUT URL SECONDS THREADS CONNS: runs wrk --latency, keeps its output in OUT, and
# prints "rps p50_ms p99_ms requests errors mib_s". Errors = socket errors + non-2xx/3xx.
bench_wrk() {
  local out=$1 url=$2 seconds=$3 threads=$4 conns=$5
  wrk "${BENCH_WRK_ARGS[@]}" --latency -t"$threads" -c"$conns" -d"${seconds}s" --timeout 10s "$url" > "$out" 2>&1 || true
  bench_parse_wrk "$out"
}

# bench_parse_wrk FILE: the numbers bench_wrk prints, from a saved wrk --latency output.
bench_parse_wrk() {
  awk '
    function ms(v) { if (v ~ /us$/) return v * 0.001; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v + 0 }
    function mib(v) { if (v ~ /GB$/) return v * 1024; if (v ~ /MB$/) return v + 0; if (v ~ /KB$/) return v / 1024; return v / 1048576 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    $2 == "requests" && $3 == "in" { requests = $1 }
    $1 == "Socket" && $2 == "errors:" { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
    /^ *Non-2xx or 3xx responses:/ { errors += $NF }
    $1 == "Requests/sec:" { rps = $2 }
    $1 == "Transfer/sec:" { rate = mib($2) }
    END { printf "%.0f %.3f %.3f %d %d %.1f\n", rps, p50, p99, requests, errors, rate }
  ' "$1"
}

# bench_warm URL SECONDS [THREADS CONNS]: load without measuring (JIT tiering, pools, caches).
bench_warm() {
  bench_log "warming $1 for $2 s"
  wrk "${BENCH_WRK_ARGS[@]}" -t"${3:-2}" -c"${4:-64}" -d"$2s" "$1" > /dev/null 2>&1 || true
}

# bench_jit_ticks PID: CPU ticks of the process's tiered-compilation thread (".NET Tiered Com"),
# which recompiles hot methods with PGO in the background for a while after start-up.
bench_jit_ticks() {
  local total=0 task stat
  for task in /proc/"$1"/task/*; do
    [[ $(cat "$task/comm" 2>/dev/null) == ".NET Tiered Com"* ]] || continue
    stat=$(cat "$task/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    set -- $stat
    total=$((total + ${12} + ${13}))
  done
  echo "$total"
}

# bench_warm_dotnet PID URL SECONDS [THREADS CONNS]: bench_warm for SECONDS, then on in 5 s steps
# until the tiered compiler is quiet (≤ 20 ms of its CPU in a step; at most 60 s more). A .NET
# process still recompiling while measured spends CPU on the JIT and runs slower code; two
# otherwise identical Portways then differ by 10 % or more.
bench_warm_dotnet() {
  local pid=$1 url=$2 seconds=$3 threads=${4:-2} conns=${5:-64} extra=0 before after
  bench_warm "$url" "$seconds" "$threads" "$conns"
  while ((extra < 60)); do
    before=$(bench_jit_ticks "$pid")
    wrk "${BENCH_WRK_ARGS[@]}" -t"$threads" -c"$conns" -d5s "$url" > /dev/null 2>&1 || true
    after=$(bench_jit_ticks "$pid")
    extra=$((extra + 5))
    if (((after - before) * 1000 / BENCH_CLK_TCK <= 20)); then
      bench_log "tiered JIT quiet after $((seconds + extra)) s"
      return
    fi
  done
  bench_log "tiered JIT still busy after $((seconds + extra)) s (measuring anyway)"
}

# bench_measure LABEL=VALUE... -- PID URL SECONDS THREADS CONNS: one wrk run against URL while
# recording PID's process tree CPU and peak RSS; appends a row to runs.tsv and prints it.
bench_measure() {
  local labels=()
  while [[ $1 != -- ]]; do labels+=("$1"); shift; done
  shift
  local pid=$1 url=$2 seconds=$3 threads=$4 conns=$5
  local round='' proxy='' workload='' kv
  for kv in "${labels[@]}"; do
    case ${kv%%=*} in round) round=${kv#*=} ;; proxy) proxy=${kv#*=} ;; workload) workload=${kv#*=} ;; esac
  done
  local before after rps p50 p99 requests errors rate cpu_s us_per_req rss_mb
  before=$(bench_cpu_ticks "$pid")
  read -r rps p50 p99 requests errors rate < <(bench_wrk "$BENCH_OUT/wrk-$proxy-$workload-r$round.txt" "$url" "$seconds" "$threads" "$conns")
  after=$(bench_cpu_ticks "$pid")
  cpu_s=$(awk -v t=$((after - before)) -v hz="$BENCH_CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')
  us_per_req=$(awk -v s="$cpu_s" -v n="$requests" 'BEGIN { printf "%.1f", (n > 0 ? s * 1e6 / n : 0) }')
  rss_mb=$(awk -v kb="$(bench_rss_kb "$pid" VmHWM)" 'BEGIN { printf "%.1f", kb / 1024 }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$proxy" "$workload" "$rps" "$p50" "$p99" \
    "$requests" "$errors" "$rate" "$cpu_s" "$us_per_req" "$rss_mb" | tee -a "$BENCH_OUT/runs.tsv" >&2
}

# bench_summary [BASELINE]: median table (markdown) of runs.tsv with ratios to BASELINE
# (default nginx), written to $BENCH_OUT/summary.md and printed.
bench_summary() {
  python3 "$BENCH_DIR/summarize.py" "$BENCH_OUT/runs.tsv" "${1:-nginx}" | tee "$BENCH_OUT/summary.md"
}
