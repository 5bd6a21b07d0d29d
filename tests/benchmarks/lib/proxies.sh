# Shared by the router benchmarks (router/bench.sh, router/real-app.sh): the peers our router is measured
# beside, configured the same way in every script, and the arithmetic on wrk's output. Source it; it defines
# functions only (and NGINX, HAPROXY).
#   install_proxy_tools                         wrk, nginx and HAProxy from Debian, if missing
#   nginx_proxy_conf DIR PORT UPSTREAM HOST WORKERS ACCESS_LOG   nginx as a proxy for HOST (ACCESS_LOG: off or a file)
#   haproxy_cfg FILE PORT UPSTREAM HOST THREADS LOG              HAProxy likewise (LOG: off, or on: to stdout)
#   to_ms VALUE          wrk's "1.23ms"/"456.00us"/"1.2s" in milliseconds
#   cpu_ticks PID...     CPU ticks (user + system, all threads) used so far by the processes
#   results_median FILE NAME COLUMN   median of COLUMN over FILE's lines whose first field is NAME

install_proxy_tools() {
  local need=()
  command -v wrk >/dev/null || need+=(wrk)
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
  command -v haproxy >/dev/null || [[ -x /usr/sbin/haproxy ]] || need+=(haproxy)
  if ((${#need[@]})); then
    echo "==> installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
  HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
}

# Same host route, upstream keep-alive, one worker per core it may use; unknown hosts get 404.
nginx_proxy_conf() { # DIR PORT UPSTREAM HOST WORKERS ACCESS_LOG
  local dir=$1 port=$2 upstream=$3 host=$4 workers=$5 access=$6
  [[ $access == off ]] || access="$access combined"
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<CONF
worker_processes $workers; daemon off; pid $dir/nginx.pid; error_log stderr error;
events { worker_connections 4096; }
http { access_log $access; keepalive_requests 1000000;
  upstream app { server $upstream; keepalive 256; }
  server { listen 127.0.0.1:$port default_server; server_name _; return 404; }
  server { listen 127.0.0.1:$port; server_name $host;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host \$host; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme; } } }
CONF
}

# Same host route, connection reuse; unknown hosts get 404.
haproxy_cfg() { # FILE PORT UPSTREAM HOST THREADS LOG
  local file=$1 port=$2 upstream=$3 host=$4 threads=$5 log=$6 global_log="" defaults_log=""
  if [[ $log == on ]]; then
    global_log="  log stdout format raw local0"
    defaults_log=$'  log global\n  option httplog'
  fi
  cat >"$file" <<CONF
global
  nbthread $threads
  maxconn 4000
$global_log
defaults
  mode http
$defaults_log
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  option forwardfor
  http-reuse always
frontend fe
  bind 127.0.0.1:$port
  use_backend app if { hdr(host) -i $host }
  default_backend none
backend app
  server s1 $upstream
backend none
  http-request return status 404
CONF
}

to_ms() { awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.3f", n }'; }

cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }

results_median() { awk -v n="$2" -v c="$3" '$1==n {print $c}' "$1" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
