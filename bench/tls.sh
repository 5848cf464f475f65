#!/usr/bin/env bash
# TLS benchmark: Portway and nginx terminating TLS in front of one nginx origin, same run,
# interleaved rounds. Two workloads (docs/benchmarks.md#tls):
#   handshake  - wrk with "Connection: close": every request is a new TCP connection and a full
#                TLS handshake (wrk never resumes sessions), so req/s = handshakes/s
#   keepalive  - wrk -c64 over kept-alive TLS connections: the cost of TLS record processing
#
#   bench/tls.sh              # 5 rounds, 10 s per measurement (~5 minutes)
#   bench/tls.sh --quick      # 1 round of 3 s: checks the harness, not a measurement
# Options: --rounds N (5), --duration S (10), --warm S (15), --handshake-conns N (16),
#          --keepalive-conns N (64), --no-build (reuse bench/results/build/),
#          --no-yarp (skip the bare YARP app terminating TLS, the .NET reference)
# Results: bench/results/tls-<time>/ (runs.tsv, summary.md, each wrk output, process logs).
. "$(dirname "$0")/lib.sh"

rounds=5 duration=10 warm=15 hs_conns=16 ka_conns=64 build=1 yarp=1
while (($#)); do
  case $1 in
    --quick) rounds=1 duration=3 warm=5 ;;
    --rounds) rounds=$2; shift ;;
    --duration) duration=$2; shift ;;
    --warm) warm=$2; shift ;;
    --handshake-conns) hs_conns=$2; shift ;;
    --keepalive-conns) ka_conns=$2; shift ;;
    --no-build) build=0 ;;
    --no-yarp) yarp=0 ;;
    -h|--help) sed -n '2,/^# Results/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

bench_init tls
build_dir="$REPO_DIR/bench/results/build"
if ((build)); then
  bench_log "building Portway (Release)"
  bench_build "$REPO_DIR/src/Portway/Portway.csproj" portway
  if ((yarp)); then
    bench_build "$BENCH_DIR/BareYarp/BareYarp.csproj" bare-yarp
  fi
fi

# One ECDSA P-256 certificate for both servers (the ACME default key type).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench.test \
  -addext subjectAltName=DNS:bench.test -keyout "$BENCH_OUT/key.pem" -out "$BENCH_OUT/cert.pem" 2> /dev/null

{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git -C "$REPO_DIR" rev-parse --short HEAD)$(git -C "$REPO_DIR" diff --quiet HEAD -- src bench || echo ' (with uncommitted changes)')"
  echo "cpus: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rounds: $rounds x ${duration}s; warm-up ${warm}s for each .NET process"
  echo "handshake: wrk -t2 -c$hs_conns -H 'Connection: close'; keepalive: wrk -t2 -c$ka_conns"
  echo "certificate: ECDSA P-256; $(nginx -v 2>&1); $(openssl version); dotnet $(dotnet --version)"
} > "$BENCH_OUT/meta.txt"

mkdir -p "$BENCH_OUT/www" "$BENCH_OUT"/tmp-{origin,nginx,nginx-proxy}
origin_port=$(bench_free_port)
bench_render "$BENCH_DIR/proxy/origin.nginx.conf" "$BENCH_OUT/origin.conf" OUT="$BENCH_OUT" ORIGIN_PORT="$origin_port"
bench_start origin nginx -c "$BENCH_OUT/origin.conf" -g 'daemon off;'
bench_wait_http "http://127.0.0.1:$origin_port/small" 30 origin

declare -A port=()
names=(portway nginx)
port[nginx]=$(bench_free_port)
bench_render "$BENCH_DIR/tls/nginx.conf" "$BENCH_OUT/nginx.conf" OUT="$BENCH_OUT" PORT="${port[nginx]}" ORIGIN_PORT="$origin_port"
bench_start nginx nginx -c "$BENCH_OUT/nginx.conf" -g 'daemon off;'
port[portway]=$(bench_free_port)
bench_render "$BENCH_DIR/tls/portway.yaml" "$BENCH_OUT/portway.yaml" OUT="$BENCH_OUT" PORT="${port[portway]}" ADMIN_PORT="$(bench_free_port)" ORIGIN_PORT="$origin_port"
bench_start portway "$build_dir/portway/portway" serve --config "$BENCH_OUT/portway.yaml"
if ((yarp)); then
  # The .NET reference: stock Kestrel terminating TLS with the same certificate, YARP forwarding.
  names+=(yarp)
  port[yarp]=$(bench_free_port)
  bench_start yarp "$build_dir/bare-yarp/bare-yarp" --urls "https://127.0.0.1:${port[yarp]}" --origin "http://127.0.0.1:$origin_port" \
    --Kestrel:Certificates:Default:Path "$BENCH_OUT/cert.pem" --Kestrel:Certificates:Default:KeyPath "$BENCH_OUT/key.pem"
fi

# Both must answer correctly over TLS 1.3 with HTTP/1.1 and HTTP/2 before anything is measured.
expected=$(curl -sf "http://127.0.0.1:$origin_port/small")
for name in "${names[@]}"; do
  url="https://127.0.0.1:${port[$name]}/small"
  deadline=$((SECONDS + 60))
  until curl -skf -o /dev/null "$url"; do
    ((SECONDS < deadline)) && kill -0 "${BENCH_PID[$name]}" 2>/dev/null || { bench_log "$name does not answer on $url"; tail -20 "$BENCH_OUT/$name.log" >&2; exit 1; }
    sleep 0.2
  done
  for v in --http1.1 --http2; do
    got=$(curl -sk "$v" -w '|%{http_version}' "$url")
    body=${got%|*}
    if [[ ${body%$'\n'} != "$expected" ]]; then bench_log "$name answers wrongly ($v): '$got'"; exit 1; fi
    bench_log "$name ok over $v (HTTP ${got##*|})"
  done
done

for name in "${names[@]}"; do
  [[ $name == nginx ]] && continue
  bench_warm "https://127.0.0.1:${port[$name]}/small" "$warm" 2 "$ka_conns"
  wrk -t2 -c"$hs_conns" -d5s -H 'Connection: close' "https://127.0.0.1:${port[$name]}/small" > /dev/null 2>&1 || true
done
bench_warm "https://127.0.0.1:${port[nginx]}/small" 2 2 "$ka_conns"

# bench_measure runs plain wrk; the handshake workload needs a header, so wrap wrk for it.
measure_handshake() {
  local name=$1 round=$2 before after cpu_s out="$BENCH_OUT/wrk-$1-handshake-r$2.txt" rps p50 p99 requests errors rate
  before=$(bench_cpu_ticks "${BENCH_PID[$name]}")
  wrk --latency -t2 -c"$hs_conns" -d"${duration}s" --timeout 10s -H 'Connection: close' "https://127.0.0.1:${port[$name]}/small" > "$out" 2>&1 || true
  after=$(bench_cpu_ticks "${BENCH_PID[$name]}")
  read -r rps p50 p99 requests errors rate < <(bench_parse_wrk "$out")
  cpu_s=$(awk -v t=$((after - before)) -v hz="$BENCH_CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" handshake "$rps" "$p50" "$p99" "$requests" "$errors" "$rate" "$cpu_s" \
    "$(awk -v s="$cpu_s" -v n="$requests" 'BEGIN { printf "%.1f", (n > 0 ? s * 1e6 / n : 0) }')" \
    "$(awk -v kb="$(bench_rss_kb "${BENCH_PID[$name]}" VmHWM)" 'BEGIN { printf "%.1f", kb / 1024 }')" | tee -a "$BENCH_OUT/runs.tsv" >&2
}

for ((round = 1; round <= rounds; round++)); do
  bench_log "round $round of $rounds"
  for ((i = 0; i < ${#names[@]}; i++)); do
    name=${names[$(((i + round - 1) % ${#names[@]}))]}
    measure_handshake "$name" "$round"
    bench_measure round="$round" proxy="$name" workload=keepalive -- "${BENCH_PID[$name]}" "https://127.0.0.1:${port[$name]}/small" "$duration" 2 "$ka_conns"
  done
done

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$BENCH_OUT/meta.txt"
cat "$BENCH_OUT/meta.txt"
echo
bench_summary nginx
