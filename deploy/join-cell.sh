#!/usr/bin/env bash
# Turns a fresh Debian 12 machine into a cell host of the Paas platform whose controller is at
# CONTROLLER_ADDR: installs Docker, lets it pull from the platform's registry (as an insecure registry on the
# cluster network, or trusting the registry's CA), installs the cell agent and its settings
# (/etc/paas/cell.env, 0600) and enables paas-cell.service, then waits until the agent answers.
# The credentials come from `deploy/cluster-secrets.sh` run on the controller's host (--secrets FILE), the
# agent from `make cell-bundle` there (--bundle FILE or URL: self-contained, so this host needs no .NET).
# Run as root, from a checkout of Paas. Nothing is done with --dry-run: every step is printed instead.
# usage: join-cell.sh CONTROLLER_ADDR --secrets FILE [options]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
controller=
secrets=
name=$(hostname -s 2>/dev/null || echo cell)
zone=zone-1
address=
cell_port=8091
registry_ca=
agent_dir=
bundle=
dry_run=0

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'TEXT'

usage: join-cell.sh CONTROLLER_ADDR --secrets FILE [options]

options:
  --secrets FILE      the output of deploy/cluster-secrets.sh (PAAS_CELL_SECRET, PAAS_REDIS, PAAS_REGISTRY...)
  --name NAME         the cell's name, a DNS label unique in the platform (default: the short host name)
  --zone ZONE         its zone, for placement's spreading (default: zone-1)
  --address ADDR      the address the controller, routers and other hosts reach this host at
                      (default: this host's source address towards CONTROLLER_ADDR)
  --port PORT         the agent's API port (default: 8091)
  --registry-ca FILE  trust the registry over TLS with this CA certificate instead of listing it as insecure
  --bundle FILE|URL   the cell agent, self-contained with its own .NET runtime: the tarball `make cell-bundle`
                      makes on the controller's host (.build/paas-cell-linux-x64.tar.gz), copied here or
                      served over HTTP(S) (default: that file in this checkout, when it is there)
  --agent DIR         a published cell agent directory to install instead (framework-dependent ones
                      need the .NET 10 runtime on this host)
  --dry-run           print every step and change nothing
  -h, --help          this text

steps:
  1. install docker.io (and curl) with apt-get
  2. let Docker pull from the registry: "insecure-registries" in /etc/docker/daemon.json,
     or the CA in /etc/docker/certs.d/REGISTRY/ca.crt; restart Docker
  3. install the cell agent in /opt/paas/cell (unpack the bundle, or copy --agent DIR)
  4. write /etc/paas/cell.env (0600): name, zone, address, Redis, cell secret, registry credentials
  5. install and enable paas-cell.service
  6. wait until the agent's /healthz answers
TEXT
}

fail() {
  echo "join-cell.sh: $1" >&2
  exit 2
}

while (($#)); do
  case $1 in
  -h | --help) usage; exit 0 ;;
  --dry-run) dry_run=1; shift ;;
  --secrets | --name | --zone | --address | --port | --registry-ca | --agent | --bundle)
    (($# >= 2)) && [[ $2 != --* ]] || fail "$1 needs a value; see --help."
    case $1 in
    --secrets) secrets=$2 ;;
    --name) name=$2 ;;
    --zone) zone=$2 ;;
    --address) address=$2 ;;
    --port) cell_port=$2 ;;
    --registry-ca) registry_ca=$2 ;;
    --agent) agent_dir=$2 ;;
    --bundle) bundle=$2 ;;
    esac
    shift 2
    ;;
  -*) fail "unknown option '$1'; see --help." ;;
  *)
    [[ -z $controller ]] || fail "one controller address only ('$controller', then '$1'); see --help."
    controller=$1
    shift
    ;;
  esac
done

[[ -n $controller ]] || fail "give the controller's address (join-cell.sh CONTROLLER_ADDR --secrets FILE); see --help."
[[ $controller =~ ^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$ ]] || fail "'$controller' is not a host name or an IP address."
[[ $name =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || fail "the cell name '$name' must be a DNS label (lower-case letters, digits, '-'); give one with --name."
[[ $cell_port =~ ^[0-9]+$ ]] && ((cell_port >= 1 && cell_port <= 65535)) || fail "'$cell_port' is not a port (1 to 65535)."
if [[ -n $secrets && ! -r $secrets ]]; then fail "cannot read the secrets file $secrets."; fi
if [[ -z $secrets ]] && ((!dry_run)); then fail "give the cluster's credentials with --secrets FILE (the output of deploy/cluster-secrets.sh on the controller's host)."; fi
if [[ -n $registry_ca && ! -r $registry_ca ]]; then fail "cannot read the registry CA certificate $registry_ca."; fi
if [[ -n $agent_dir && ! -f $agent_dir/Paas.Cell.dll ]]; then fail "$agent_dir holds no Paas.Cell.dll (publish src/Paas.Cell there)."; fi
if [[ -n $agent_dir && -n $bundle ]]; then fail "give the agent once: --bundle or --agent, not both."; fi
if [[ -z $agent_dir && -z $bundle && -s $ROOT/.build/paas-cell-linux-x64.tar.gz ]]; then bundle=$ROOT/.build/paas-cell-linux-x64.tar.gz; fi
bundle_url=0
if [[ $bundle =~ ^https?:// ]]; then
  bundle_url=1
elif [[ -n $bundle ]]; then
  [[ -r $bundle ]] || fail "cannot read the agent bundle $bundle (make it with \`make cell-bundle\` on the controller's host)."
  tar -tzf "$bundle" 2>/dev/null | grep -x 'paas-cell/Paas.Cell' >/dev/null || fail "$bundle is not a cell bundle: it holds no paas-cell/Paas.Cell (make it with \`make cell-bundle\`)."
fi
if [[ -z $agent_dir && -z $bundle ]] && ((!dry_run)); then fail "give the cell agent with --bundle FILE|URL (\`make cell-bundle\` on the controller's host makes it)."; fi
if ((!dry_run)) && ((EUID != 0)); then fail "run it as root (it installs packages and writes /etc)."; fi

# The credentials: only the keys this script expects, read as data (the file is never sourced).
declare -A cluster=([PAAS_CELL_SECRET]="" [PAAS_REDIS]="" [PAAS_REGISTRY]="" [PAAS_REGISTRY_USERNAME]="" [PAAS_REGISTRY_PASSWORD]="")
if [[ -n $secrets ]]; then
  while IFS='=' read -r key value; do
    [[ -n ${cluster[$key]+set} ]] && cluster[$key]=$value
  done < <(grep -E '^PAAS_[A-Z_]+=' "$secrets")
  for key in PAAS_CELL_SECRET PAAS_REDIS; do
    [[ -n ${cluster[$key]} ]] || fail "$secrets has no $key line (make it with deploy/cluster-secrets.sh)."
  done
fi
# Shown in a dry run instead of values nobody gave, and instead of secrets that were given.
placeholder() { if [[ -n ${cluster[$1]} ]]; then [[ $1 == *SECRET* || $1 == *PASSWORD* ]] && echo "<from $secrets>" || echo "${cluster[$1]}"; else echo "<$1 from --secrets>"; fi; }
registry=${cluster[PAAS_REGISTRY]:-$controller:5000}

if [[ -z $address ]]; then
  address=$(ip -o route get "$controller" 2>/dev/null | sed -n 's/.* src \([^ ]*\).*/\1/p' || true)
  [[ -n $address ]] || address=$(hostname -I 2>/dev/null | awk '{print $1}')
  [[ -n $address ]] || fail "cannot tell this host's address towards $controller; give it with --address."
fi

step=0
heading() {
  step=$((step + 1))
  echo "==> $step. $1"
}
# run COMMAND...: runs it, or prints it in a dry run.
run() {
  if ((dry_run)); then
    printf '    would run:'
    printf ' %q' "$@"
    printf '\n'
  else
    printf '    $'
    printf ' %q' "$@"
    printf '\n'
    "$@"
  fi
}
# write PATH MODE: writes stdin to PATH with MODE, or prints what it would write (secrets shown as placeholders).
write() {
  local path=$1 mode=$2 content
  content=$(cat)
  if ((dry_run)); then
    echo "    would write $path (mode $mode):"
    sed 's/^/      | /' <<<"$content"
  else
    echo "    writing $path (mode $mode)"
    mkdir -p "$(dirname "$path")"
    (umask 077 && printf '%s\n' "$content" >"$path.tmp")
    chmod "$mode" "$path.tmp"
    mv "$path.tmp" "$path"
  fi
}
value() { if ((dry_run)); then placeholder "$1"; else echo "${cluster[$1]}"; fi; }

((dry_run)) && echo "Dry run: nothing is changed. Joining this host as cell '$name' ($address) to the controller at $controller."
if [[ -r /etc/os-release ]] && ! grep -q '^VERSION_ID="12"' /etc/os-release; then
  echo "    note: this is not Debian 12 ($(. /etc/os-release && echo "${PRETTY_NAME:-unknown}")); the steps assume it."
fi

heading "install Docker"
run env DEBIAN_FRONTEND=noninteractive apt-get update -q
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io curl ca-certificates

heading "let Docker pull from the registry $registry"
if [[ -n $registry_ca ]]; then
  # Docker trusts a registry's CA per registry address, without any daemon setting.
  write "/etc/docker/certs.d/$registry/ca.crt" 644 <"$registry_ca"
else
  daemon=/etc/docker/daemon.json
  if [[ -s $daemon ]] && ((dry_run)); then
    echo "    would add \"$registry\" to \"insecure-registries\" in the existing $daemon, keeping its other settings"
  elif [[ -s $daemon ]]; then
    # Keeps every other setting of an existing daemon.json.
    merged=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d.setdefault("insecure-registries", []); (sys.argv[2] in r) or r.append(sys.argv[2]); print(json.dumps(d, indent=2))' "$daemon" "$registry") ||
      fail "cannot read $daemon as JSON; add \"insecure-registries\": [\"$registry\"] to it by hand and run again."
    write "$daemon" 644 <<<"$merged"
  else
    write "$daemon" 644 <<<"{ \"insecure-registries\": [\"$registry\"] }"
  fi
fi
run systemctl restart docker

heading "install the cell agent in /opt/paas/cell"
# paas-cell.service runs /opt/paas/cell/Paas.Cell: a bundle carries its own .NET runtime; a framework-dependent
# --agent DIR needs the .NET 10 runtime (Microsoft's Debian packages, not in Debian itself).
if [[ -n $agent_dir ]]; then
  run mkdir -p /opt/paas/cell
  run cp -a "$agent_dir/." /opt/paas/cell/
else
  archive=${bundle:-<the bundle from --bundle>}
  if ((bundle_url)); then
    archive=/tmp/paas-cell-bundle.tar.gz
    run curl -fsSL --retry 3 -o "$archive" "$bundle"
  fi
  # Unpacked beside the old agent, then swapped: a failed unpack leaves the running agent as it was.
  run rm -rf /opt/paas/cell.new
  run mkdir -p /opt/paas/cell.new
  run tar -xzf "$archive" -C /opt/paas/cell.new --strip-components=1
  run test -x /opt/paas/cell.new/Paas.Cell
  run rm -rf /opt/paas/cell
  run mv /opt/paas/cell.new /opt/paas/cell
  if ((bundle_url)); then run rm -f "$archive"; fi
fi

heading "write /etc/paas/cell.env"
write /etc/paas/cell.env 600 <<ENV
# Made by deploy/join-cell.sh for the controller at $controller. See deploy/systemd/cell.env.example.
PAAS_CELL_NAME=$name
PAAS_CELL_ZONE=$zone
PAAS_CELL_ADDRESS=$address
PAAS_CELL_BIND=$address
PAAS_CELL_PORT=$cell_port
PAAS_DATA_DIR=/var/lib/paas
PAAS_CELL_SECRET=$(value PAAS_CELL_SECRET)
PAAS_REDIS=$(value PAAS_REDIS)
PAAS_REGISTRY=$registry
PAAS_REGISTRY_USERNAME=$(value PAAS_REGISTRY_USERNAME)
PAAS_REGISTRY_PASSWORD=$(value PAAS_REGISTRY_PASSWORD)
ENV

heading "install and enable paas-cell.service"
run install -m 644 "$ROOT/deploy/systemd/paas-cell.service" /etc/systemd/system/paas-cell.service
run systemctl daemon-reload
run systemctl enable --now paas-cell.service
run systemctl restart paas-cell.service

heading "wait until the agent answers http://$address:$cell_port/healthz"
if ((dry_run)); then
  echo "    would wait up to 60 s for 200 ok"
  echo "Dry run done: $step steps, nothing changed."
  exit 0
fi
for ((i = 0; i < 600; i++)); do
  if curl -fsS --max-time 1 "http://$address:$cell_port/healthz" >/dev/null 2>&1; then
    echo "==> cell '$name' joined: it answers at http://$address:$cell_port; \`paas cells\` on the controller lists it."
    exit 0
  fi
  sleep 0.1
done
echo "join-cell.sh: the agent did not answer within 60 s; see \`journalctl -u paas-cell\` (its /healthz names what it cannot reach)." >&2
exit 1
