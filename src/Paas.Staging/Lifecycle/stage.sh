#!/usr/bin/env bash
# stage.sh: the staging driver, run inside a throwaway container on the stack
# image as uid 1000 (HOME=/app). It picks the buildpack(s) for the app in
# /app, runs their Heroku v2 `compile` and `release`, and leaves the results in
# /tmp/out for the staging service (Paas.Staging), which turns /app into the
# app image afterwards.
#
# Mounts (the container's view):
#   /app         build dir: the extracted source, owned by uid 1000
#   /buildpacks  read-only copy of the repo's buildpacks/ (order + <name>/bin/*)
#   /tmp/cache   read-write, kept per app between builds
#   /tmp/env     read-only, one file per config var (name = file name)
#   /tmp/out     read-write, results:
#                  buildpack    chosen buildpack name(s), comma-separated
#                  detected     display name(s) from detect, ", "-separated
#                  release.yml  release YAML (default_process_types); with
#                               several buildpacks their process types merged,
#                               a later buildpack winning for the same type
#                  release.N.yml  what buildpack N (0-based) printed, as is
#                  current      index of the buildpack being run (detect or
#                               compile or release), so a failure, a timeout
#                               or an out-of-memory kill can name it
#                  failed       index of the buildpack that failed, if any
#                buildpack/detected are written as soon as the choice is made,
#                so they also name the buildpack when compile/release fail.
#   /buildpacks-custom/N  read-only, fetched (custom) buildpacks, named in
#                PAAS_BUILDPACKS by absolute path
#
# Output: everything (the buildpacks' output included) goes to stdout, in
# order, line by line as it is produced; stderr is merged into it.
#
# Environment: STACK, SOURCE_VERSION (passed through to the buildpacks),
# PAAS_BUILDPACKS (optional, comma-separated built-in names or absolute
# directories of fetched buildpacks: all of them compile in that order, and
# each one's bin/detect must match, as on Heroku; unset or empty means detect
# via /buildpacks/order and use the first buildpack that matches).
#
# Multi-buildpack: each buildpack runs from a writable copy of itself; when a
# compile leaves an `export` file at the root of that copy, it is sourced
# before the next buildpack runs (the Heroku `export` convention), so later
# buildpacks see the PATH and variables an earlier one set up.
#
# Exit codes (Paas.Staging maps them to user-facing messages):
#   0   success
#   1   the staging environment itself is broken (missing mount, ...)
#   10  no buildpack detected, PAAS_BUILDPACKS names an unknown buildpack, or
#       a chosen buildpack's detect did not match (out/failed names it)
#   11  a buildpack's compile failed
#   12  a buildpack's release failed, or printed nothing
#
# For tests outside a container every path can be moved: PAAS_STAGE_ROOT
# prefixes all of them (e.g. $root/app, $root/tmp/out), and
# PAAS_STAGE_{BUILD,BUILDPACKS,CACHE,ENV,OUT}_DIR override them one by one.
# The defaults are the container paths above. (PAAS_STAGE_*, not the
# platform's own PAAS_BUILDPACKS_DIR, which names the host directory.)
set -euo pipefail

# One ordered log: the staging service streams our stdout to the user, and
# separate streams would lose the interleaving of messages and errors.
exec 2>&1

root=${PAAS_STAGE_ROOT:-}
BUILD_DIR=${PAAS_STAGE_BUILD_DIR:-$root/app}
BUILDPACKS_DIR=${PAAS_STAGE_BUILDPACKS_DIR:-$root/buildpacks}
CACHE_DIR=${PAAS_STAGE_CACHE_DIR:-$root/tmp/cache}
ENV_DIR=${PAAS_STAGE_ENV_DIR:-$root/tmp/env}
OUT_DIR=${PAAS_STAGE_OUT_DIR:-$root/tmp/out}

# Heroku's log conventions: "-----> " for steps, " !     " for errors.
step()  { echo "-----> $*"; }
info()  { echo "       $*"; }
error() { echo " !     $*"; }
broken() { error "Staging error: $*"; exit 1; }

[ -d "$BUILD_DIR" ]      || broken "build directory $BUILD_DIR is missing"
[ -d "$BUILDPACKS_DIR" ] || broken "buildpacks directory $BUILDPACKS_DIR is missing"
[ -d "$OUT_DIR" ] && [ -w "$OUT_DIR" ] || broken "output directory $OUT_DIR is missing or not writable"
mkdir -p "$CACHE_DIR" 2>/dev/null && [ -w "$CACHE_DIR" ] || broken "cache directory $CACHE_DIR is not writable"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/paas-stage.XXXXXX")
# The buildpacks receive an ENV_DIR even when no config vars were mounted.
if [ ! -d "$ENV_DIR" ]; then
  ENV_DIR="$scratch/env"
  mkdir -p "$ENV_DIR"
fi

# HOME is the build dir, so npm's default cache (~/.npm) would end up in the
# app image. Point it at the per-app cache for every buildpack, and remove a
# ~/.npm that appears during the build anyway (one the app ships is kept).
export npm_config_cache="$CACHE_DIR/npm"
npm_litter=""
[ -e "$BUILD_DIR/.npm" ] || npm_litter="$BUILD_DIR/.npm"
cleanup() {
  rm -rf "$scratch"
  if [ -n "$npm_litter" ]; then rm -rf "$npm_litter"; fi
}
trap cleanup EXIT

# Stale results from a reused out dir must never be mistaken for this build's.
rm -f "$OUT_DIR/buildpack" "$OUT_DIR/detected" "$OUT_DIR/release.yml" "$OUT_DIR"/release.*.yml \
  "$OUT_DIR/current" "$OUT_DIR/failed"

# Runs a buildpack script. Built-ins are executable, but a copy that lost its
# mode bits (e.g. extracted from an archive) still works through bash.
run_bin() {
  local script=$1; shift
  if [ -x "$script" ]; then "$script" "$@"; else bash "$script" "$@"; fi
}

is_buildpack() {
  [[ $1 =~ ^[a-z0-9][a-z0-9._-]*$ ]] && [ -f "$BUILDPACKS_DIR/$1/bin/compile" ] \
    && [ -f "$BUILDPACKS_DIR/$1/bin/detect" ] && [ -f "$BUILDPACKS_DIR/$1/bin/release" ]
}

# Where a chosen buildpack lives: a built-in name, or the absolute directory
# of a fetched one (which needs only bin/compile, as on Heroku).
buildpack_dir() {
  case $1 in
    /*) echo "$1" ;;
    *)  echo "$BUILDPACKS_DIR/$1" ;;
  esac
}

# Buildpack names from the order file: one per line, '#' comments allowed.
order_names() {
  [ -f "$BUILDPACKS_DIR/order" ] || return 0
  sed -e 's/#.*//' -e 's/[[:space:]]//g' "$BUILDPACKS_DIR/order" | grep -v '^$' || true
}

# What each built-in looks for, for the "nothing detected" message.
detect_hint() {
  case $1 in
    nodejs)   echo "package.json" ;;
    python)   echo "requirements.txt/pyproject.toml/setup.py/app.py" ;;
    static)   echo "index.html" ;;
    procfile) echo "Procfile" ;;
    *)        echo "what the $1 buildpack looks for" ;;
  esac
}

# Runs detect; prints the display name (first line of its output, or the
# buildpack name if it printed nothing) and succeeds when it matches.
detect() {
  local out dir
  dir=$(buildpack_dir "$1")
  # A fetched buildpack without bin/detect applies to every app.
  if [ ! -f "$dir/bin/detect" ]; then echo "${1##*/}"; return 0; fi
  out=$(run_bin "$dir/bin/detect" "$BUILD_DIR" 2>/dev/null < /dev/null) || return 1
  out=$(printf '%s\n' "$out" | head -n1)
  echo "${out:-${1##*/}}"
}

names=()     # chosen buildpacks, in compile order
displays=()  # their display names
requested_list=${PAAS_BUILDPACKS:-}

if [ -n "${requested_list//[[:space:],]/}" ]; then
  IFS=',' read -r -a requested <<< "$requested_list"
  for name in "${requested[@]}"; do
    name=${name//[[:space:]]/}
    [[ $name == /* ]] || name=${name,,}
    [ -n "$name" ] || continue
    [[ " ${names[*]} " == *" $name "* ]] && continue   # listed twice: once is enough
    index=${#names[@]}
    if [[ $name == /* ]]; then
      if [ ! -f "$name/bin/compile" ]; then
        echo "$index" > "$OUT_DIR/failed"
        error "The buildpack in $name has no bin/compile"
        exit 10
      fi
    elif ! is_buildpack "$name"; then
      echo "$index" > "$OUT_DIR/failed"
      available=$(order_names | paste -sd',' - | sed 's/,/, /g')
      error "Unknown buildpack \"$name\" in PAAS_BUILDPACKS (built-in buildpacks: ${available:-none})"
      exit 10
    fi
    names+=("$name")
    # As on Heroku, a buildpack chosen explicitly must still recognise the app.
    echo "$index" > "$OUT_DIR/current"
    if display=$(detect "$name"); then
      displays+=("$display")
    else
      echo "$index" > "$OUT_DIR/failed"
      error "The ${name##*/} buildpack's bin/detect did not recognise this app"
      exit 10
    fi
  done
else
  while read -r name; do
    is_buildpack "$name" || continue
    if display=$(detect "$name"); then
      names=("$name"); displays=("$display")
      break
    fi
  done < <(order_names)
fi

if [ "${#names[@]}" -eq 0 ]; then
  # "a, b, c or d", built from the order file so it stays accurate.
  hints=()
  while read -r name; do hints+=("$(detect_hint "$name")"); done < <(order_names)
  list=""
  for i in "${!hints[@]}"; do
    if [ "$i" -eq 0 ]; then list=${hints[$i]}
    elif [ "$i" -eq $(( ${#hints[@]} - 1 )) ]; then list+=" or ${hints[$i]}"
    else list+=", ${hints[$i]}"
    fi
  done
  error "No buildpack detected: this app has none of ${list:-the files any buildpack recognises}."
  exit 10
fi

joined_names="" joined_displays=""
for i in "${!names[@]}"; do
  joined_names+="${joined_names:+,}${names[$i]}"
  joined_displays+="${joined_displays:+, }${displays[$i]}"
done
echo "$joined_names" > "$OUT_DIR/buildpack"
echo "$joined_displays" > "$OUT_DIR/detected"

# Compile then release each buildpack in order. release runs right after its
# own compile, so it sees the build dir as that buildpack left it. Each one
# runs from a writable copy, where it may leave an `export` file for the next.
mkdir -p "$scratch/buildpacks"
for i in "${!names[@]}"; do
  name=${names[$i]} display=${displays[$i]}
  bp="$scratch/buildpacks/$i"
  cp -a "$(buildpack_dir "$name")" "$bp"
  echo "$i" > "$OUT_DIR/current"
  step "$display app detected"

  # The compile output goes straight to our stdout (no pipe, no capture), so
  # the user sees each line as soon as the buildpack prints it.
  rc=0
  started=$(date +%s%N)
  run_bin "$bp/bin/compile" "$BUILD_DIR" "$CACHE_DIR" "$ENV_DIR" < /dev/null 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "$i" > "$OUT_DIR/failed"
    error "$display buildpack compile failed (exit $rc)"
    exit 11
  fi
  elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
  info "$display compile took $((elapsed / 1000)).$(( (elapsed % 1000) / 100 )) s"

  if [ -f "$bp/bin/release" ]; then
    rc=0
    run_bin "$bp/bin/release" "$BUILD_DIR" < /dev/null > "$scratch/release.$i.yml" || rc=$?
    if [ "$rc" -ne 0 ]; then
      echo "$i" > "$OUT_DIR/failed"
      error "$display buildpack release failed (exit $rc)"
      exit 12
    fi
    if [ ! -s "$scratch/release.$i.yml" ]; then
      echo "$i" > "$OUT_DIR/failed"
      error "$display buildpack release failed (it printed nothing)"
      exit 12
    fi
  else
    printf -- '---\ndefault_process_types: {}\n' > "$scratch/release.$i.yml"
  fi
  cp "$scratch/release.$i.yml" "$OUT_DIR/release.$i.yml"

  # The export convention (heroku-buildpack-multi, Heroku's own buildpacks):
  # what this buildpack exported is in effect for the ones after it.
  if [ -f "$bp/export" ]; then
    info "Using the environment exported by the $display buildpack"
    # shellcheck disable=SC1091
    set +u; . "$bp/export"; set -u
  fi
done
rm -f "$OUT_DIR/current"

# One buildpack: its release YAML as is. Several: merge their
# default_process_types, a later buildpack overriding an earlier one for the
# same type (Heroku: the last buildpack is the app's primary language). Only
# the flat "  type: command" form the built-ins print is understood.
if [ "${#names[@]}" -eq 1 ]; then
  cp "$scratch/release.0.yml" "$OUT_DIR/release.yml"
else
  declare -A command_of=()
  types=()
  for i in "${!names[@]}"; do
    inside=false
    while IFS= read -r line || [ -n "$line" ]; do
      line=${line%$'\r'}
      if [[ $line =~ ^default_process_types: ]]; then inside=true; continue; fi
      [[ $line =~ ^[^[:space:]] ]] && inside=false
      if $inside && [[ $line =~ ^\ \ ([A-Za-z0-9_-]+):\ *(.*)$ ]]; then
        type=${BASH_REMATCH[1]}
        [ -n "${command_of[$type]+set}" ] || types+=("$type")
        command_of[$type]=${BASH_REMATCH[2]}
      fi
    done < "$scratch/release.$i.yml"
  done
  {
    echo "---"
    if [ "${#types[@]}" -gt 0 ]; then
      echo "default_process_types:"
      for type in "${types[@]}"; do echo "  $type: ${command_of[$type]}"; done
    else
      echo "default_process_types: {}"
    fi
  } > "$OUT_DIR/release.yml"
fi

# Heroku ends a build with the process types the app will get.
step "Discovering process types"
if [ -f "$BUILD_DIR/Procfile" ]; then
  declared=$(tr -d '\r' < "$BUILD_DIR/Procfile" | sed -nE 's/^([A-Za-z0-9_-]+):.*/\1/p' | paste -sd' ' -)
  info "Procfile declares types     -> ${declared:-(none)}"
fi
defaults=$(sed -nE 's/^  ([A-Za-z0-9_-]+):.*/\1/p' "$OUT_DIR/release.yml" | paste -sd' ' -)
info "Default types for buildpack -> ${defaults:-(none)}"
