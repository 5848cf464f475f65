#!/usr/bin/env bash
# Tunnel benchmark: one nginx origin reached directly, through a Portway tunnel (edge + agent,
# reverse HTTP/2 over one link) and through an OpenSSH reverse tunnel (ssh -R to an sshd this
# script starts on loopback with a throwaway key), in interleaved rounds of one run. Then the
# edge's memory for 1,000 idle agent links. Method and figures: docs/benchmarks.md#tunnels.
#
#   bench/tunnel.sh                 # 5 rounds, 10 s per measurement (~6 minutes)
#   bench/tunnel.sh --quick         # 1 round, 3 s: a smoke check of the harness
#
# Options:
#   --rounds N   rounds (default 5)     --duration S   seconds per wrk run (10)
#   --warm S     load on the tunnel before measuring (15)
#   --links N    idle links for the memory measurement (1000; 0 skips it)
#   --no-build   reuse bench/results/build/
#   --edge-env K=V, --agent-env K=V   extra environment for the edge or the agent (repeatable),
#                e.g. --agent-env DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0
#   --agent-build DIR  run the agent from DIR/portway (e.g. a Native AOT publish) instead of this build
#   --edge-build DIR   run the edge from DIR/portway (e.g. an older commit's build) instead of this build
#   --link http2 the agent dials a second, HTTP/2-only (h2c) listener of the edge with
#                --link http2 (extended CONNECT); visitors still use the HTTP/1.1 listener
# Results: bench/results/tunnel-<time>/ (runs.tsv, summary.md, each wrk output, process logs).
. "$(dirname "$0")/lib.sh"

rounds=5 duration=10 warm=15 links=1000 build=1 edge_env=() agent_env=() link=http1 agent_build= edge_build=
while (($#)); do
  case $1 in
    --quick) rounds=1 duration=3 warm=5 links=100 ;;
    --rounds) rounds=$2; shift ;;
    --duration) duration=$2; shift ;;
    --warm) warm=$2; shift ;;
    --links) links=$2; shift ;;
    --no-build) build=0 ;;
    --edge-env) edge_env+=("$2"); shift ;;
    --agent-env) agent_env+=("$2"); shift ;;
    --agent-build) agent_build=$2; shift ;;
    --edge-build) edge_build=$2; shift ;;
    --link) link=$2; shift ;;
    -h|--help) sed -n '2,/^# Results/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

bench_init tunnel
build_dir="$REPO_DIR/bench/results/build"
if ((build)); then
  bench_log "building Portway (Release)"
  bench_build "$REPO_DIR/src/Portway/Portway.csproj" portway
fi
{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git -C "$REPO_DIR" rev-parse --short HEAD)$(git -C "$REPO_DIR" diff --quiet HEAD -- src bench || echo ' (with uncommitted changes)')"
  echo "cpus: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rounds: $rounds x ${duration}s; warm-up ${warm}s on the tunnel; wrk -t2 -c64; 100 MiB download with curl"
  echo "edge env: ${edge_env[*]:-(none)}; agent env: ${agent_env[*]:-(none)}; link: $link; agent build: ${agent_build:-this build}; edge build: ${edge_build:-this build}"
  echo "$(nginx -v 2>&1); $(ssh -V 2>&1); dotnet $(dotnet --version)"
} > "$BENCH_OUT/meta.txt"

# The origin: /small and a 100 MiB file.
mkdir -p "$BENCH_OUT/www" "$BENCH_OUT/tmp-origin" "$BENCH_OUT/ssh"
head -c $((100 * 1024 * 1024)) /dev/urandom > "$BENCH_OUT/www/100m.bin"
origin_port=$(bench_free_port)
bench_render "$BENCH_DIR/proxy/origin.nginx.conf" "$BENCH_OUT/origin.conf" OUT="$BENCH_OUT" ORIGIN_PORT="$origin_port"
bench_start origin nginx -c "$BENCH_OUT/origin.conf" -g 'daemon off;'
bench_wait_http "http://127.0.0.1:$origin_port/small" 30 origin

# Portway: an edge in dev mode and an agent for the origin's port.
edge_port=$(bench_free_port)
bench_render "$BENCH_DIR/tunnel/portway.yaml" "$BENCH_OUT/portway.yaml" PORT="$edge_port" ADMIN_PORT="$(bench_free_port)"
link_port=$edge_port
if [[ $link == http2 ]]; then
  link_port=$(bench_free_port)
  sed -i "s|^  - url: http://127.0.0.1:$edge_port\$|&\n  - name: link\n    url: http://127.0.0.1:$link_port\n    protocols: http2|" "$BENCH_OUT/portway.yaml"
fi
bench_start edge env "${edge_env[@]}" "${edge_build:-$build_dir/portway}/portway" serve --config "$BENCH_OUT/portway.yaml"
bench_wait_http "http://127.0.0.1:$edge_port/" 60 edge
bench_start agent env "${agent_env[@]}" "${agent_build:-$build_dir/portway}/portway" http "$origin_port" --edge "http://127.0.0.1:$link_port" --link "$link" --inspect false
for _ in $(seq 100); do grep -q '^Forwarding ' "$BENCH_OUT/agent.log" && break; sleep 0.2; done
tunnel_host=$(sed -n 's|^Forwarding http://\([^ :]*\).*|\1|p' "$BENCH_OUT/agent.log" | head -1)
[[ -n $tunnel_host ]] || { bench_log "the agent printed no URL"; cat "$BENCH_OUT/agent.log" >&2; exit 1; }

# OpenSSH: sshd on loopback with a throwaway host key; ssh -R publishes the origin on a port.
ssh-keygen -q -t ed25519 -N '' -f "$BENCH_OUT/ssh/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$BENCH_OUT/ssh/client_key"
sshd_port=$(bench_free_port)
ssh_port=$(bench_free_port)
bench_render "$BENCH_DIR/tunnel/sshd_config" "$BENCH_OUT/ssh/sshd_config" OUT="$BENCH_OUT" SSHD_PORT="$sshd_port"
mkdir -p /run/sshd 2>/dev/null || true
bench_start sshd "$(command -v sshd)" -D -e -f "$BENCH_OUT/ssh/sshd_config"
for _ in $(seq 50); do ss -Htln "( sport = :$sshd_port )" | grep -q . && break; sleep 0.1; done
bench_start ssh ssh -N -p "$sshd_port" -i "$BENCH_OUT/ssh/client_key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
  -o ExitOnForwardFailure=yes -o ServerAliveInterval=30 -R "127.0.0.1:$ssh_port:127.0.0.1:$origin_port" "$(id -un)@127.0.0.1"
bench_wait_http "http://127.0.0.1:$ssh_port/small" 30 ssh

# wrk cannot resolve *.localhost: reach the edge by address and name the tunnel in Host.
declare -A url=([direct]="http://127.0.0.1:$origin_port" [portway]="http://127.0.0.1:$edge_port" [ssh]="http://127.0.0.1:$ssh_port")
declare -A host=([direct]="" [portway]="$tunnel_host:$edge_port" [ssh]="")
declare -A measured=([direct]=origin [portway]=agent [ssh]=ssh)
WRK_HOST=""
bench_wrk() {
  local out=$1 u=$2 seconds=$3 threads=$4 conns=$5 extra=()
  [[ -n $WRK_HOST ]] && extra=(-H "Host: $WRK_HOST")
  wrk --latency -t"$threads" -c"$conns" -d"${seconds}s" --timeout 10s "${extra[@]}" "$u" > "$out" 2>&1 || true
  bench_parse_wrk "$out"
}
curl_get() { # NAME PATH OUT: a GET through NAME, Host set for the tunnel
  local args=(-sf --max-time 120 -o "$3")
  [[ -n ${host[$1]} ]] && args+=(-H "Host: ${host[$1]}")
  curl "${args[@]}" -w '%{speed_download}' "${url[$1]}$2"
}

# Pre-flight: every path answers the origin's bytes.
want=$(sha256sum < "$BENCH_OUT/www/100m.bin")
for name in direct portway ssh; do
  curl_get "$name" /files/100m.bin "$BENCH_OUT/check.bin" > /dev/null || { bench_log "$name: download failed"; exit 1; }
  [[ $(sha256sum < "$BENCH_OUT/check.bin") == "$want" ]] || { bench_log "$name: the 100 MiB body differs"; exit 1; }
done
rm -f "$BENCH_OUT/check.bin"

# .NET needs load before tiered JIT and PGO settle: warm the edge and agent through the tunnel.
bench_log "warming the tunnel for ${warm} s"; wrk -t2 -c64 -d"${warm}s" -H "Host: ${host[portway]}" "${url[portway]}/small" > /dev/null 2>&1 || true
for _ in 1 2; do curl_get portway /files/100m.bin /dev/null > /dev/null; done
WRK_HOST=""

names=(direct portway ssh)
for ((round = 1; round <= rounds; round++)); do
  bench_log "round $round of $rounds"
  for ((i = 0; i < 3; i++)); do
    name=${names[$(((i + round - 1) % 3))]}
    WRK_HOST=${host[$name]}
    # CPU and RSS are the tunnel client side's (origin for direct, the agent, ssh); the edge's
    # and sshd's are in the logs' meta below.
    bench_measure round="$round" proxy="$name" workload=small -- "${BENCH_PID[${measured[$name]}]}" "${url[$name]}/small" "$duration" 2 64
    WRK_HOST=""
    speed=$(curl_get "$name" /files/100m.bin /dev/null)
    mib=$(awk -v b="$speed" 'BEGIN { printf "%.1f", b / 1048576 }')
    printf '%s\t%s\t%s\t0\t0\t0\t1\t0\t%s\t0\t0\t0\n' "$round" "$name" download-100MiB "$mib" | tee -a "$BENCH_OUT/runs.tsv" >&2
  done
done
{
  echo "peak RSS MiB: edge $(( $(bench_rss_kb "${BENCH_PID[edge]}" VmHWM) / 1024 )), agent $(( $(bench_rss_kb "${BENCH_PID[agent]}" VmHWM) / 1024 )), sshd tree $(( $(bench_rss_kb "${BENCH_PID[sshd]}" VmHWM) / 1024 )), ssh $(( $(bench_rss_kb "${BENCH_PID[ssh]}" VmHWM) / 1024 ))"
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} >> "$BENCH_OUT/meta.txt"
bench_stop agent
bench_stop ssh

# Idle links: the edge's resident memory before and after N links (N/2 agents with 2 links each).
if ((links > 0)); then
  bench_stop edge
  bench_start edge "$build_dir/portway/portway" serve --config "$BENCH_OUT/portway.yaml"
  bench_wait_http "http://127.0.0.1:$edge_port/" 60 edge
  sleep 2
  before=$(bench_rss_kb "${BENCH_PID[edge]}")
  coproc IDLE { python3 "$BENCH_DIR/tunnel/idle_links.py" "$edge_port" "$links"; }
  read -r -t 120 ready count <&"${IDLE[0]}" || { bench_log "idle links did not come up"; exit 1; }
  # Two standby ping rounds (5 s each) so every link's steady state is counted, not the handshake peak alone.
  sleep 11
  after=$(bench_rss_kb "${BENCH_PID[edge]}")
  per=$(awk -v a="$after" -v b="$before" -v n="$count" 'BEGIN { printf "%.1f", (a - b) / n }')
  echo "idle links: $count on one edge; RSS ${before} KiB -> ${after} KiB; ${per} KiB per link" | tee -a "$BENCH_OUT/meta.txt" >&2
  exec {IDLE[1]}>&-
fi

cat "$BENCH_OUT/meta.txt"
echo
bench_summary ssh
