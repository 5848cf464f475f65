#!/usr/bin/env bash
# Rule cost measured at the same moment (issue 12: "a route with five rules costs at most 5 % CPU
# per request against the same route without rules, same run"). This machine's speed drifts by
# 20–40 % within a minute (a shared VM), so runs taken one after the other, as bench/rules.sh
# takes them, spread 0.8–1.3 per round. Here two identical Portways (a and b, this tree's build,
# bench/proxy/portway-rule-cost.yaml) are loaded at once, one on the plain route and the other on
# the rules route (or `again`, the noise floor), then the other way round; the drift hits both
# halves alike, and the pair's geometric mean, sqrt((rules_b / plain_a) × (rules_a / plain_b)),
# cancels the difference between the two processes (their JIT and PGO settle apart).
#
#   bench/rules-concurrent.sh                  # 20 rounds of 4 s per half (~8 minutes)
#   bench/rules-concurrent.sh --rounds 10 --no-build
#   bench/rules-concurrent.sh --build DIR      # Portways from an earlier build (dotnet build -c Release -o DIR)
#   bench/rules-concurrent.sh --paced 8        # each connection waits 8 ms between requests
#
# Saturated (the default), a request without rules gets cheaper as wake-ups are shared by more
# requests while the rules' work per request stays the same, so the ratio climbs with the load;
# --paced offers both halves the same load below saturation (bench/proxy/paced.lua).
#
# Prints per round the pair ratios rules/plain and again/plain, then their medians and quartiles.
. "$(dirname "$0")/lib.sh"

rounds=20 duration=4 warm=15 conns=32 build=1 dir="" paced=()
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift ;;
    --duration) duration=$2; shift ;;
    --warm) warm=$2; shift ;;
    --conns) conns=$2; shift ;;
    --no-build) build=0 ;;
    --build) dir=$2; build=0; shift ;;
    --paced) export WRK_DELAY_MS=$2; paced=(-s "$(dirname "$0")/proxy/paced.lua"); shift ;;
    -h|--help) sed -n '2,/^# Prints/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

bench_init rules-concurrent
dir=${dir:-$REPO_DIR/bench/results/build/portway}
if ((build)); then
  bench_log "building Portway (Release)"
  bench_build "$REPO_DIR/src/Portway/Portway.csproj" portway
fi
[[ -x $dir/portway ]] || { bench_log "no portway in $dir (build it with dotnet build -c Release -o DIR)"; exit 2; }
{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git -C "$REPO_DIR" rev-parse --short HEAD)$(git -C "$REPO_DIR" diff --quiet HEAD -- src bench || echo ' (with uncommitted changes)')"
  echo "build: $dir"
  echo "cpus: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rounds: $rounds, two halves of ${duration}s per route; each Portway: wrk -t1 -c$conns at the same time${WRK_DELAY_MS:+, paced: $WRK_DELAY_MS ms between requests per connection}"
} > "$BENCH_OUT/meta.txt"

mkdir -p "$BENCH_OUT/www" "$BENCH_OUT/tmp-origin"
origin_port=$(bench_free_port)
bench_render "$BENCH_DIR/proxy/origin.nginx.conf" "$BENCH_OUT/origin.conf" OUT="$BENCH_OUT" ORIGIN_PORT="$origin_port"
bench_start origin nginx -c "$BENCH_OUT/origin.conf" -g 'daemon off;'
bench_wait_http "http://127.0.0.1:$origin_port/small" 30 origin
declare -A ports=([a]=$(bench_free_port) [b]=$(bench_free_port))
for p in a b; do
  bench_render "$BENCH_DIR/proxy/portway-rule-cost.yaml" "$BENCH_OUT/$p.yaml" PORT="${ports[$p]}" ADMIN_PORT="$(bench_free_port)" ORIGIN_PORT="$origin_port" BENCH_DIR="$BENCH_DIR"
  bench_start "$p" "$dir/portway" serve --config "$BENCH_OUT/$p.yaml"
  bench_wait_http "http://127.0.0.1:${ports[$p]}/small" 60 "$p"
done

token="Authorization: Bearer $(cat "$BENCH_DIR/proxy/rules.jwt")"
for p in a b; do
  url="http://127.0.0.1:${ports[$p]}/small"
  # Without the token the rules route refuses: the rules really run.
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: rules.bench" "$url")
  [[ $status == 401 ]] || { bench_log "$p: the rules route answered $status without a token (want 401)"; exit 1; }
  for route in plain again rules; do
    BENCH_WRK_ARGS=(-H "$token" -H "Host: $route.bench")
    bench_warm_dotnet "${BENCH_PID[$p]}" "$url" "$warm" 2 "$((2 * conns))"
  done
done

# half ROUND ROUTE_A ROUTE_B: both Portways loaded at once, a on ROUTE_A, b on ROUTE_B.
half() {
  local round=$1 ra=$2 rb=$3 pid
  (BENCH_WRK_ARGS=("${paced[@]}" -H "$token" -H "Host: $ra.bench")
   bench_measure round="$round" proxy="a-$ra" workload="$ra-$rb" -- "${BENCH_PID[a]}" "http://127.0.0.1:${ports[a]}/small" "$duration" 1 "$conns") &
  pid=$!
  BENCH_WRK_ARGS=("${paced[@]}" -H "$token" -H "Host: $rb.bench")
  bench_measure round="$round" proxy="b-$rb" workload="$ra-$rb" -- "${BENCH_PID[b]}" "http://127.0.0.1:${ports[b]}/small" "$duration" 1 "$conns"
  wait "$pid"
}
for ((round = 1; round <= rounds; round++)); do
  bench_log "round $round of $rounds"
  for route in rules again; do
    # Which Portway takes the plain route first alternates too, so neither always goes first.
    if ((round % 2)); then half "$round" plain "$route"; half "$round" "$route" plain
    else half "$round" "$route" plain; half "$round" plain "$route"; fi
  done
done

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$BENCH_OUT/meta.txt"
cat "$BENCH_OUT/meta.txt"
python3 - "$BENCH_OUT/runs.tsv" <<'PY' | tee "$BENCH_OUT/summary.md"
import csv, math, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
us = {(r["round"], r["workload"], r["proxy"]): float(r["cpu_us_per_req"]) for r in rows}
rounds = sorted({r["round"] for r in rows}, key=int)
ratios = {"rules": [], "again": []}
print("\n| round | plain µs/req | rules/plain | again/plain |\n|--:|--:|--:|--:|")
for n in rounds:
    cells, plain = [], []
    for route in ratios:
        x_b = us[(n, f"plain-{route}", f"b-{route}")] / us[(n, f"plain-{route}", "a-plain")]
        x_a = us[(n, f"{route}-plain", f"a-{route}")] / us[(n, f"{route}-plain", "b-plain")]
        plain += [us[(n, f"plain-{route}", "a-plain")], us[(n, f"{route}-plain", "b-plain")]]
        ratios[route].append(math.sqrt(x_a * x_b))
        cells.append(f"{ratios[route][-1]:.3f}")
    print(f"| {n} | {statistics.median(plain):.1f} | {cells[0]} | {cells[1]} |")
print()
for route, values in ratios.items():
    q = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    print(f"{route}/plain: median {statistics.median(values):.3f} (quartiles {q[0]:.3f}–{q[2]:.3f}) over {len(values)} rounds")
PY
