#!/usr/bin/env bash
# Native AOT against JIT for the same commit: start-up time and idle RSS of the edge
# (`portway serve`, a config with only a listener and the admin listener) and of the agent
# (`portway http`, against a native edge), in interleaved rounds of one run, and the size of each
# build. No req/s: bench/proxy.sh and bench/tunnel.sh do not take a native binary yet.
# Figures: docs/benchmarks.md#native-aot.
#
#   bench/native.sh               # 5 rounds, 5 s idle before each RSS reading
#   bench/native.sh --rounds 3 --idle 3
#
# Start-up = from the fork to the first HTTP answer on the edge's listener (edge), or to the
# agent's "Forwarding" line, i.e. its link to the edge is up (agent); polled every 10 ms.
# Results: bench/results/native-<time>/ (runs.tsv, summary.md, process logs).
. "$(dirname "$0")/lib.sh"

rounds=5 idle=5
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift ;;
    --idle) idle=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

bench_init native
printf 'round\trole\tbuild\tstartup_ms\tidle_rss_mb\n' > "$BENCH_OUT/startup.tsv"

bench_log "building: JIT (framework-dependent publish) and Native AOT"
dotnet publish "$REPO_DIR/src/Portway" -c Release -o "$BENCH_OUT/jit" > "$BENCH_OUT/build-jit.log" 2>&1 || { tail -20 "$BENCH_OUT/build-jit.log"; exit 1; }
dotnet publish "$REPO_DIR/src/Portway" -c Release -r linux-x64 -p:PublishAot=true -o "$BENCH_OUT/native" > "$BENCH_OUT/build-native.log" 2>&1 || { tail -20 "$BENCH_OUT/build-native.log"; exit 1; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# edge_config FILE: a listener and the admin listener on fresh ports; prints the listener's port.
edge_config() {
  local port admin
  port=$(bench_free_port); admin=$(bench_free_port)
  printf 'listeners:\n  - url: http://127.0.0.1:%s\nadmin:\n  url: http://127.0.0.1:%s\n' "$port" "$admin" > "$1"
  echo "$port"
}

# A native edge for the agents to dial, up for the whole run.
link_port=$(edge_config "$BENCH_OUT/link-edge.yaml")
bench_start link-edge "$BENCH_OUT/native/portway" serve --config "$BENCH_OUT/link-edge.yaml"
bench_wait_http "http://127.0.0.1:$link_port/" 60 link-edge

for round in $(seq "$rounds"); do
  for build in jit native; do
    bin="$BENCH_OUT/$build/portway"

    port=$(edge_config "$BENCH_OUT/edge-$build.yaml")
    t0=$(now_ms)
    bench_start "edge-$build" "$bin" serve --config "$BENCH_OUT/edge-$build.yaml"
    until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; do
      kill -0 "${BENCH_PID[edge-$build]}" 2>/dev/null || { tail -20 "$BENCH_OUT/edge-$build.log"; exit 1; }
      sleep 0.01
    done
    t1=$(now_ms)
    sleep "$idle"   # idle on purpose: the RSS reading is of a process that has settled
    rss=$(bench_rss_kb "${BENCH_PID[edge-$build]}")
    printf '%s\tedge\t%s\t%s\t%s\n' "$round" "$build" $((t1 - t0)) "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" >> "$BENCH_OUT/startup.tsv"
    bench_stop "edge-$build"

    t0=$(now_ms)
    # The agent's origin is never asked in this run; the link edge's own port stands in for it.
    bench_start "agent-$build" "$bin" http "$link_port" --edge "http://127.0.0.1:$link_port" --inspect false
    until grep -q 'Forwarding http://' "$BENCH_OUT/agent-$build.log"; do
      kill -0 "${BENCH_PID[agent-$build]}" 2>/dev/null || { tail -20 "$BENCH_OUT/agent-$build.log"; exit 1; }
      sleep 0.01
    done
    t1=$(now_ms)
    sleep "$idle"
    rss=$(bench_rss_kb "${BENCH_PID[agent-$build]}")
    printf '%s\tagent\t%s\t%s\t%s\n' "$round" "$build" $((t1 - t0)) "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" >> "$BENCH_OUT/startup.tsv"
    bench_stop "agent-$build"
  done
  bench_log "round $round of $rounds done, load average $(cut -d" " -f1-3 /proc/loadavg)"
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
{
  echo "| role | build | start-up ms (median of $rounds) | idle RSS MB (median) |"
  echo "|---|---|---|---|"
  for role in edge agent; do
    for build in jit native; do
      s=$(awk -F'\t' -v r="$role" -v b="$build" '$2 == r && $3 == b { print $4 }' "$BENCH_OUT/startup.tsv" | median)
      m=$(awk -F'\t' -v r="$role" -v b="$build" '$2 == r && $3 == b { print $5 }' "$BENCH_OUT/startup.tsv" | median)
      echo "| $role | $build | $s | $m |"
    done
  done
  echo
  echo "native binary: $(stat -c %s "$BENCH_OUT/native/portway") bytes (portway.dbg, symbols, not counted)"
  echo "JIT publish directory: $(du -sb --exclude='*.pdb' "$BENCH_OUT/jit" | cut -f1) bytes without .pdb, plus the shared .NET runtime"
} > "$BENCH_OUT/summary.md"
cat "$BENCH_OUT/summary.md"
