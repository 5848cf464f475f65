#!/usr/bin/env bash
# Reverse-proxy load benchmark: Portway against nginx, HAProxy and a bare YARP app, all in front
# of one nginx origin, in interleaved rounds of one run. Method: docs/benchmarks.md#method.
#
#   bench/proxy.sh                  # 5 rounds, 10 s per measurement (~8 minutes)
#   bench/proxy.sh --quick          # 1 round, 3 s: a smoke check of the harness
#   bench/proxy.sh --proxies portway,nginx --variant pgo-off:DOTNET_TieredPGO=0
#   bench/proxy.sh --variant main:@/tmp/portway-main     # another build, same run
#   bench/proxy.sh --proxies portway --variant rules:config=bench/proxy/portway-rules.yaml \
#                  --header "Authorization: Bearer $(cat bench/proxy/rules.jwt)"   # rule cost
#
# Options:
#   --rounds N          rounds (default 5)          --duration S   seconds per wrk run (10)
#   --warm S            load on each .NET process before measuring (15)
#   --proxies LIST      any of portway,nginx,haproxy,yarp (default all four)
#   --variant NAME:SPEC an extra Portway, SPEC = comma list of ENV=VALUE, @BUILD_DIR
#                       (a directory holding a built `portway`) and/or config=TEMPLATE (its
#                       config instead of bench/proxy/portway.yaml); repeatable
#   --header H          a request header every wrk run sends, to every proxy; repeatable
#   --small-conns N     wrk connections for the small body (64); --large-conns N for 1 MiB (16)
#   --workloads LIST    small,1MiB (default both)
#   --no-build          reuse bench/results/build/
# Results: bench/results/proxy-<time>/ (runs.tsv, summary.md, each wrk output, process logs).
. "$(dirname "$0")/lib.sh"

rounds=5 duration=10 warm=15 proxies=portway,nginx,haproxy,yarp small_conns=64 large_conns=16 build=1 workloads=small,1MiB
declare -A variant_env=() variant_dir=() variant_config=()
variants=() headers=()
while (($#)); do
  case $1 in
    --quick) rounds=1 duration=3 warm=5 ;;
    --rounds) rounds=$2; shift ;;
    --duration) duration=$2; shift ;;
    --warm) warm=$2; shift ;;
    --proxies) proxies=$2; shift ;;
    --variant)
      name=${2%%:*} spec=${2#*:}
      variants+=("$name")
      variant_env[$name]='' variant_dir[$name]='' variant_config[$name]=''
      IFS=, read -ra parts <<< "$spec"
      for part in "${parts[@]}"; do
        case $part in
          @*) variant_dir[$name]=${part#@} ;;
          config=*) variant_config[$name]=$(realpath "${part#config=}") ;;
          *) variant_env[$name]+="$part " ;;
        esac
      done
      shift ;;
    --header) headers+=(-H "$2"); shift ;;
    --small-conns) small_conns=$2; shift ;;
    --large-conns) large_conns=$2; shift ;;
    --workloads) workloads=$2; shift ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,/^# Results/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
IFS=, read -ra names <<< "$proxies"
names+=("${variants[@]}")

bench_init proxy
BENCH_WRK_ARGS=("${headers[@]}")
build_dir="$REPO_DIR/bench/results/build"
if ((build)); then
  bench_log "building Portway and BareYarp (Release)"
  bench_build "$REPO_DIR/src/Portway/Portway.csproj" portway
  bench_build "$BENCH_DIR/BareYarp/BareYarp.csproj" bare-yarp
fi

{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git -C "$REPO_DIR" rev-parse --short HEAD)$(git -C "$REPO_DIR" diff --quiet HEAD -- src bench || echo ' (with uncommitted changes)')"
  echo "cpus: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rounds: $rounds x ${duration}s; warm-up ${warm}s per .NET process"
  echo "small: wrk -t2 -c$small_conns; 1 MiB: wrk -t2 -c$large_conns"
  echo "$(nginx -v 2>&1); $(haproxy -v | head -1); dotnet $(dotnet --version)"
  for v in "${variants[@]}"; do echo "variant $v: ${variant_env[$v]}${variant_dir[$v]:+build ${variant_dir[$v]} }${variant_config[$v]:+config ${variant_config[$v]}}"; done
  if ((${#headers[@]})); then echo "request headers (every proxy): $((${#headers[@]} / 2))"; fi
} > "$BENCH_OUT/meta.txt"

# The origin: nginx with a small fixed body and a 1 MiB file.
mkdir -p "$BENCH_OUT/www" "$BENCH_OUT"/tmp-{origin,nginx,nginx-proxy}
head -c 1048576 /dev/urandom > "$BENCH_OUT/www/1m.bin"
origin_port=$(bench_free_port)
bench_render "$BENCH_DIR/proxy/origin.nginx.conf" "$BENCH_OUT/origin.conf" OUT="$BENCH_OUT" ORIGIN_PORT="$origin_port"
bench_start origin nginx -c "$BENCH_OUT/origin.conf" -g 'daemon off;'
bench_wait_http "http://127.0.0.1:$origin_port/small" 30 origin

declare -A port=() dotnet=()
for name in "${names[@]}"; do
  port[$name]=$(bench_free_port)
  case $name in
    nginx)
      bench_render "$BENCH_DIR/proxy/nginx.conf" "$BENCH_OUT/nginx.conf" OUT="$BENCH_OUT" PORT="${port[$name]}" ORIGIN_PORT="$origin_port"
      bench_start nginx nginx -c "$BENCH_OUT/nginx.conf" -g 'daemon off;' ;;
    haproxy)
      bench_render "$BENCH_DIR/proxy/haproxy.cfg" "$BENCH_OUT/haproxy.cfg" OUT="$BENCH_OUT" PORT="${port[$name]}" ORIGIN_PORT="$origin_port"
      bench_start haproxy haproxy -f "$BENCH_OUT/haproxy.cfg" ;;
    yarp)
      dotnet[$name]=1
      bench_start yarp "$build_dir/bare-yarp/bare-yarp" --urls "http://127.0.0.1:${port[$name]}" --origin "http://127.0.0.1:$origin_port" ;;
    *)
      # portway, or a variant of it.
      if [[ $name != portway && -z ${variant_env[$name]+x} ]]; then echo "unknown proxy '$name'" >&2; exit 2; fi
      dotnet[$name]=1
      bench_render "${variant_config[$name]:-$BENCH_DIR/proxy/portway.yaml}" "$BENCH_OUT/$name.yaml" PORT="${port[$name]}" ADMIN_PORT="$(bench_free_port)" ORIGIN_PORT="$origin_port" BENCH_DIR="$BENCH_DIR"
      dir=${variant_dir[$name]:-$build_dir/portway}
      # shellcheck disable=SC2086 # the variant's env is a word list on purpose
      bench_start "$name" env ${variant_env[$name]:-} "$dir/portway" serve --config "$BENCH_OUT/$name.yaml" ;;
  esac
done

# Check every proxy answers correctly before anything is measured.
expected_small=$(curl -sf "http://127.0.0.1:$origin_port/small")
for name in "${names[@]}"; do
  bench_wait_http "http://127.0.0.1:${port[$name]}/small" 60 "$name"
  got=$(curl -sf "${headers[@]}" "http://127.0.0.1:${port[$name]}/small") || true
  size=$(curl -sf "${headers[@]}" -o /dev/null -w '%{size_download}' "http://127.0.0.1:${port[$name]}/files/1m.bin") || true
  if [[ $got != "$expected_small" || $size != 1048576 ]]; then
    bench_log "$name answers wrongly: small='$got' (want '$expected_small'), 1 MiB file size=$size"
    exit 1
  fi
done

# JIT tiering (and PGO) needs load before a .NET process reaches steady state; native servers
# only need their connection pools filled.
for name in "${names[@]}"; do
  if [[ -n ${dotnet[$name]:-} ]]; then
    bench_warm_dotnet "${BENCH_PID[$name]}" "http://127.0.0.1:${port[$name]}/small" "$warm" 2 "$small_conns"
    bench_warm "http://127.0.0.1:${port[$name]}/files/1m.bin" 3 2 "$large_conns"
  else
    bench_warm "http://127.0.0.1:${port[$name]}/small" 2 2 "$small_conns"
  fi
done

# Interleaved rounds, the order rotated each round so no proxy always runs first or last.
count=${#names[@]}
for ((round = 1; round <= rounds; round++)); do
  bench_log "round $round of $rounds"
  for ((i = 0; i < count; i++)); do
    name=${names[$(((i + round - 1) % count))]}
    pid=${BENCH_PID[$name]}
    if [[ ,$workloads, == *,small,* ]]; then
      bench_measure round="$round" proxy="$name" workload=small -- "$pid" "http://127.0.0.1:${port[$name]}/small" "$duration" 2 "$small_conns"
    fi
    if [[ ,$workloads, == *,1MiB,* ]]; then
      bench_measure round="$round" proxy="$name" workload=1MiB -- "$pid" "http://127.0.0.1:${port[$name]}/files/1m.bin" "$duration" 2 "$large_conns"
    fi
  done
done

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$BENCH_OUT/meta.txt"
cat "$BENCH_OUT/meta.txt"
echo
bench_summary nginx
