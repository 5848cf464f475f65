#!/usr/bin/env bash
# Rule cost in one process (issue 12: "a route with five rules costs at most 5 % CPU per request
# against the same route without rules, same run"). One Portway serves three routes to the same
# origin (bench/proxy/portway-rule-cost.yaml): plain, again (the same route once more: the noise
# floor) and rules (ip, rate_limit, jwt, headers, geo). Rounds alternate between them, the order
# rotated each round, every request carrying the same RS256 token; the process's CPU during each
# wrk run over its requests is the figure. One process means one JIT and one heap for all three,
# so the spread between separately started Portways (±6–12 % here) does not enter the ratio.
#
#   bench/rules.sh                 # 10 rounds of 10 s (~7 minutes)
#   bench/rules.sh --rounds 5 --duration 5 --no-build
#   bench/rules.sh --paced 8       # each connection waits 8 ms between requests (bench/proxy/paced.lua)
#   bench/rules.sh --before DIR    # also a Portway built from an earlier commit (dotnet build -o DIR),
#                                  # same origin, same rounds: the rule cost before and after, one run
#
# Saturated (the default), a slower route also loses batching (fewer requests per wake-up, more
# syscalls each), so its CPU per request grows by more than its own work; --paced offers every
# route the same load below saturation, so the CPU per request compares the work itself.
#
# Prints the medians, and per round the ratios rules/plain and again/plain, with their median:
# pairing within a round takes out the drift of a busy machine between rounds.
. "$(dirname "$0")/lib.sh"

rounds=10 duration=10 warm=15 conns=64 build=1 paced=() before=""
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift ;;
    --duration) duration=$2; shift ;;
    --warm) warm=$2; shift ;;
    --conns) conns=$2; shift ;;
    --no-build) build=0 ;;
    --before) before=$2; shift ;;
    --paced) export WRK_DELAY_MS=$2; paced=(-s "$(dirname "$0")/proxy/paced.lua"); shift ;;
    -h|--help) sed -n '2,/^# pairing/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

bench_init rules
build_dir="$REPO_DIR/bench/results/build"
if ((build)); then
  bench_log "building Portway (Release)"
  bench_build "$REPO_DIR/src/Portway/Portway.csproj" portway
fi
{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git -C "$REPO_DIR" rev-parse --short HEAD)$(git -C "$REPO_DIR" diff --quiet HEAD -- src bench || echo ' (with uncommitted changes)')"
  echo "cpus: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rounds: $rounds x ${duration}s; wrk -t2 -c$conns${WRK_DELAY_MS:+, paced: $WRK_DELAY_MS ms between requests per connection}"
} > "$BENCH_OUT/meta.txt"

mkdir -p "$BENCH_OUT/www" "$BENCH_OUT/tmp-origin"
head -c 1048576 /dev/urandom > "$BENCH_OUT/www/1m.bin"
origin_port=$(bench_free_port) port=$(bench_free_port)
bench_render "$BENCH_DIR/proxy/origin.nginx.conf" "$BENCH_OUT/origin.conf" OUT="$BENCH_OUT" ORIGIN_PORT="$origin_port"
bench_start origin nginx -c "$BENCH_OUT/origin.conf" -g 'daemon off;'
bench_wait_http "http://127.0.0.1:$origin_port/small" 30 origin
# Each Portway under test: its name, build and port ("before" only with --before).
declare -A ports=([portway]=$port) builds=([portway]="$build_dir/portway")
[[ -n $before ]] && { ports[before]=$(bench_free_port); builds[before]=$before; }
for p in "${!ports[@]}"; do
  [[ -x ${builds[$p]}/portway ]] || { bench_log "no portway in ${builds[$p]} (build it with dotnet build -c Release -o DIR)"; exit 2; }
  bench_render "$BENCH_DIR/proxy/portway-rule-cost.yaml" "$BENCH_OUT/$p.yaml" PORT="${ports[$p]}" ADMIN_PORT="$(bench_free_port)" ORIGIN_PORT="$origin_port" BENCH_DIR="$BENCH_DIR"
  bench_start "$p" "${builds[$p]}/portway" serve --config "$BENCH_OUT/$p.yaml"
  bench_wait_http "http://127.0.0.1:${ports[$p]}/small" 60 "$p"
done
[[ -n $before ]] && echo "before: $before (the second Portway; 'portway' is this tree's build)" >> "$BENCH_OUT/meta.txt"

token="Authorization: Bearer $(cat "$BENCH_DIR/proxy/rules.jwt")"
expected=$(curl -sf "http://127.0.0.1:$origin_port/small")
for p in "${!ports[@]}"; do
  url="http://127.0.0.1:${ports[$p]}/small"
  for route in plain again rules; do
    got=$(curl -sf -H "$token" -H "Host: $route.bench" "$url") || true
    [[ $got == "$expected" ]] || { bench_log "$p: route $route answers wrongly: '$got' (want '$expected')"; exit 1; }
  done
  # Without the token the rules route refuses: the rules really run.
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: rules.bench" "$url")
  [[ $status == 401 ]] || { bench_log "$p: the rules route answered $status without a token (want 401)"; exit 1; }
  for route in plain again rules; do
    BENCH_WRK_ARGS=(-H "$token" -H "Host: $route.bench")
    bench_warm_dotnet "${BENCH_PID[$p]}" "$url" "$warm" 2 "$conns"
  done
done

# Every run of a round, as "portway:route"; the order rotates each round.
runs=()
for p in portway ${before:+before}; do
  for route in plain again rules; do runs+=("$p:$route"); done
done
for ((round = 1; round <= rounds; round++)); do
  bench_log "round $round of $rounds"
  for ((i = 0; i < ${#runs[@]}; i++)); do
    run=${runs[$(((i + round - 1) % ${#runs[@]}))]}
    p=${run%%:*} route=${run#*:}
    BENCH_WRK_ARGS=("${paced[@]}" -H "$token" -H "Host: $route.bench")
    label=$route; [[ $p == before ]] && label=before-$route
    bench_measure round="$round" proxy="$label" workload=small -- "${BENCH_PID[$p]}" "http://127.0.0.1:${ports[$p]}/small" "$duration" 2 "$conns"
  done
done

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$BENCH_OUT/meta.txt"
cat "$BENCH_OUT/meta.txt"
echo
bench_summary plain
python3 - "$BENCH_OUT/runs.tsv" <<'PY' | tee -a "$BENCH_OUT/summary.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
us = {(r["round"], r["proxy"]): float(r["cpu_us_per_req"]) for r in rows}
rounds = sorted({r["round"] for r in rows}, key=int)
builds = [("", "this tree")] + ([("before-", "before")] if any(r["proxy"].startswith("before-") for r in rows) else [])
for prefix, name in builds:
    print(f"\n{name}:\n\n| round | plain µs/req | again/plain | rules/plain |\n|--:|--:|--:|--:|")
    ra, rr = [], []
    for n in rounds:
        p, a, r = (us[(n, prefix + k)] for k in ("plain", "again", "rules"))
        ra.append(a / p); rr.append(r / p)
        print(f"| {n} | {p:.1f} | {a / p:.3f} | {r / p:.3f} |")
    print(f"\n{name}: median of the paired ratios: again/plain {statistics.median(ra):.3f}, rules/plain {statistics.median(rr):.3f}")
PY
