#!/usr/bin/env bash
# A single-node Slurm cluster on this (Debian) host, to try `umbra export slurm`
# and for umbra's integration test.
#
#   experiments/slurm/local-cluster.sh install            # apt-get install slurm-wlm munge (root)
#   eval "$(experiments/slurm/local-cluster.sh up)"       # start it; exports SLURM_CONF
#   sinfo; sbatch ...; squeue                             # use it
#   experiments/slurm/local-cluster.sh down               # stop it and remove its folder
#
# Options (every command): --dir DIR (default $UMBRA_SLURM_DIR, else
# ${TMPDIR:-/tmp}/umbra-slurm); up also takes --cpus N (default: nproc) and
# --owner-pid PID (a watchdog brings the cluster down when that process ends,
# so a crashed test leaves no daemon behind).
#
# What it touches, all of it undone by `down`:
#   - DIR and everything in it: slurm.conf, Slurm's state and spool folders,
#     the logs, and MUNGE's folder (a fresh key, socket, pid, seed and log
#     files), which goes to a /tmp/umbra-munge.XXXXXX folder instead when the
#     munge user cannot reach DIR (e.g. DIR below a 0700 folder);
#   - three daemons it starts and records by PID (and start time): munged (as
#     the munge user), slurmctld and slurmd (as root), plus the watchdog when
#     --owner-pid is given; two free TCP ports (picked among 20000-32767) for
#     slurmctld and slurmd.
# It never reads or writes /etc/slurm or /etc/munge and never talks to the
# host's own munged or Slurm daemons: clients find this cluster through
# SLURM_CONF=DIR/slurm.conf, which names the private MUNGE socket (AuthInfo).
# Processes are stopped by the PIDs recorded at start, never by name.
#
# Exit codes: 0 done, 1 failed (the logs' tails are printed), 2 bad usage,
# 3 cannot run here (not root, Slurm or MUNGE not installed): the reason is
# printed on stderr.
set -euo pipefail

SELF=$(readlink -f "$0")

say() { printf 'local-cluster: %s\n' "$*" >&2; }
die() { say "$1"; exit "${2:-1}"; }

usage() {
  sed -n '2,13p' "$SELF" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
DIR=${UMBRA_SLURM_DIR:-${TMPDIR:-/tmp}/umbra-slurm}
CPUS=""
OWNER_PID=""
OWNER_START=""
while [ $# -gt 0 ]; do
  case $1 in
    --dir) DIR=${2:?--dir needs a folder}; shift 2 ;;
    --dir=*) DIR=${1#--dir=}; shift ;;
    --cpus) CPUS=${2:?--cpus needs a number}; shift 2 ;;
    --cpus=*) CPUS=${1#--cpus=}; shift ;;
    --owner-pid) OWNER_PID=${2:?--owner-pid needs a PID}; shift 2 ;;
    --owner-pid=*) OWNER_PID=${1#--owner-pid=}; shift ;;
    --owner-start) OWNER_START=${2:?}; shift 2 ;; # internal (watchdog)
    -h|--help) usage ;;
    *) say "unknown option: $1"; usage ;;
  esac
done
DIR=$(realpath -m -- "$DIR")
[ "$DIR" != / ] || die "--dir must not be /" 2
CONF=$DIR/slurm.conf
STATE=$DIR/cluster.env
MARK=$DIR/.umbra-local-slurm

# --- processes, identified by PID and start time (a PID can be reused) -------

starttime() { # PID -> start time in clock ticks since boot, or fail
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  printf '%s\n' "${20}"
}

same_process() { # PID START -> running (not a zombie) and still the process we started
  [ -n "$1" ] && [ -n "$2" ] || return 1
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- "$2" $s
  [ "$2" != Z ] && [ "${21}" = "$1" ]
}

stop_process() { # NAME PID START: TERM, up to 10 s, then KILL
  local name=$1 pid=$2 start=$3 i
  same_process "$pid" "$start" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    same_process "$pid" "$start" || { say "stopped $name (pid $pid)"; return 0; }
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 25; i++)); do
    same_process "$pid" "$start" || break
    sleep 0.2
  done
  say "killed $name (pid $pid): it did not stop on SIGTERM"
}

session_of() { # PID -> session id
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  printf '%s\n' "$4"
}

# Job steps outlive slurmd: slurmd starts each slurmstepd detached (parent:
# init) in a session of its own, and the job's processes run in that session.
# A slurmstepd of this cluster is recognised by holding this cluster's slurmd
# log open (it inherits the descriptor); its environment is no help, as it
# writes its process title over it. Normally none is left once the jobs are
# cancelled; this catches those of a controller that died first.
stop_leftovers() {
  local p f exe sid sessions=" " found=""
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = $$ ] && continue
    exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
    case ${exe##*/} in slurmstepd*|slurmd*) ;; *) continue ;; esac
    for f in "/proc/$p/fd/"*; do
      case $(readlink "$f" 2>/dev/null) in
        "$DIR/log/slurmd.log"|"$DIR/log/slurmd.log (deleted)")
          sid=$(session_of "$p" 2>/dev/null) || break
          sessions="$sessions$sid "
          found="$found $p"
          break ;;
      esac
    done
  done
  [ -n "$found" ] || return 0
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = $$ ] && continue
    sid=$(session_of "$p" 2>/dev/null) || continue
    case $sessions in *" $sid "*) case " $found " in *" $p "*) ;; *) found="$found $p" ;; esac ;; esac
  done
  # all at once (slurmstepd ignores SIGTERM): TERM, up to 5 s, then KILL
  local pids=() starts=() i j alive
  for p in $found; do
    say "stopping leftover process $p: $({ tr '\0' ' ' < "/proc/$p/cmdline"; } 2>/dev/null | cut -c1-80)"
    pids+=("$p")
    starts+=("$(starttime "$p" 2>/dev/null || echo gone)")
    kill -TERM "$p" 2>/dev/null || true
  done
  for ((j = 0; j < 25; j++)); do
    alive=0
    for i in "${!pids[@]}"; do same_process "${pids[$i]}" "${starts[$i]}" && alive=1; done
    [ $alive = 0 ] && return 0
    sleep 0.2
  done
  for i in "${!pids[@]}"; do
    same_process "${pids[$i]}" "${starts[$i]}" && kill -KILL "${pids[$i]}" 2>/dev/null || true
  done
}

# --- state file --------------------------------------------------------------

load_state() { # sets the recorded variables; fails when there is no state
  [ -f "$STATE" ] || return 1
  local k v
  while IFS='=' read -r k v; do
    case $k in
      MUNGE_DIR|MUNGED_PID|MUNGED_START|SLURMCTLD_PID|SLURMCTLD_START|SLURMD_PID|SLURMD_START|WATCHDOG_PID|WATCHDOG_START|NODE|CTLD_PORT|SLURMD_PORT|MUNGE_SOCKET)
        printf -v "$k" '%s' "$v" ;;
    esac
  done < "$STATE"
}

save_state() {
  local tmp=$STATE.tmp-$$
  {
    echo "SLURM_CONF=$CONF"
    echo "NODE=${NODE:-}"
    echo "CTLD_PORT=${CTLD_PORT:-}"
    echo "SLURMD_PORT=${SLURMD_PORT:-}"
    echo "MUNGE_DIR=${MUNGE_DIR:-}"
    echo "MUNGE_SOCKET=${MUNGE_SOCKET:-}"
    echo "MUNGED_PID=${MUNGED_PID:-}"
    echo "MUNGED_START=${MUNGED_START:-}"
    echo "SLURMCTLD_PID=${SLURMCTLD_PID:-}"
    echo "SLURMCTLD_START=${SLURMCTLD_START:-}"
    echo "SLURMD_PID=${SLURMD_PID:-}"
    echo "SLURMD_START=${SLURMD_START:-}"
    echo "WATCHDOG_PID=${WATCHDOG_PID:-}"
    echo "WATCHDOG_START=${WATCHDOG_START:-}"
  } > "$tmp"
  mv -f "$tmp" "$STATE"
}

# --- ports -------------------------------------------------------------------

used_ports() { # every local TCP/UDP port in use, one per line (decimal)
  local f
  for f in /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6; do
    [ -r "$f" ] || continue
    awk 'NR > 1 { split($2, a, ":"); print a[2] }' "$f"
  done | while read -r hex; do echo $((16#$hex)); done | sort -un
}

pick_ports() { # two free consecutive ports below the ephemeral range, starting at a place that depends on DIR
  local used base p i
  used=" $(used_ports | tr '\n' ' ') "
  base=$(( 20000 + $(printf '%s' "$DIR" | cksum | cut -d' ' -f1) % 12000 ))
  for ((i = 0; i < 12000; i += 2)); do
    p=$(( 20000 + (base - 20000 + i) % 12000 ))
    case $used in *" $p "*|*" $((p + 1)) "*) continue ;; esac
    CTLD_PORT=$p
    SLURMD_PORT=$((p + 1))
    return 0
  done
  die "no two free TCP ports between 20000 and 32000"
}

# --- commands ----------------------------------------------------------------

slurm_env() { env SLURM_CONF="$CONF" "$@"; }

cluster_up_already() {
  load_state 2>/dev/null && same_process "${SLURMCTLD_PID:-}" "${SLURMCTLD_START:-}" && same_process "${SLURMD_PID:-}" "${SLURMD_START:-}"
}

do_down() { # quiet when there is nothing to stop
  # only a folder this script made (its marker file), so a stray --dir cannot name other processes
  [ -f "$MARK" ] || return 0
  if ! load_state; then
    rm -rf -- "$DIR"
    return 0
  fi
  # jobs first, while the controller can still cancel them (their steps are slurmd's children)
  if same_process "${SLURMCTLD_PID:-}" "${SLURMCTLD_START:-}"; then
    local ids i
    ids=$(slurm_env timeout 10 squeue -h -o %A 2>/dev/null | tr '\n' ' ' || true)
    if [ -n "${ids// /}" ]; then
      # shellcheck disable=SC2086
      slurm_env timeout 10 scancel $ids 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        [ -z "$(slurm_env timeout 5 squeue -h -o %A 2>/dev/null | tr -d ' \n' || true)" ] && break
        sleep 0.2
      done
    fi
  fi
  stop_process slurmd "${SLURMD_PID:-}" "${SLURMD_START:-}"
  stop_process slurmctld "${SLURMCTLD_PID:-}" "${SLURMCTLD_START:-}"
  stop_leftovers
  stop_process munged "${MUNGED_PID:-}" "${MUNGED_START:-}"
  if [ -n "${MUNGE_DIR:-}" ] && [ -f "$MUNGE_DIR/.umbra-local-slurm" ]; then rm -rf -- "$MUNGE_DIR"; fi
  if [ "${WATCHDOG_PID:-}" != $$ ]; then stop_process watchdog "${WATCHDOG_PID:-}" "${WATCHDOG_START:-}"; fi
  rm -rf -- "$DIR"
  say "down: $DIR removed"
}

print_env() {
  printf 'export SLURM_CONF=%q\n' "$CONF"
}

logs_tail() {
  local f
  for f in "$DIR"/log/* ${MUNGE_DIR:+"$MUNGE_DIR/munged.log"}; do
    [ -s "$f" ] || continue
    say "--- ${f#"$DIR"/} (last lines)"
    tail -n 15 "$f" >&2 || true
  done
}

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed (${2}); run: $SELF install" 3; }

do_up() {
  [ "$(id -u)" = 0 ] || die "must run as root: slurmd starts jobs as their users and munged runs as the munge user" 3
  need munged "package munge"
  need slurmctld "package slurm-wlm"
  need slurmd "package slurm-wlm"
  need sbatch "package slurm-wlm"
  need setpriv "package util-linux"
  id munge >/dev/null 2>&1 || die "no munge user (package munge creates it)" 3
  if cluster_up_already; then
    say "already up in $DIR"
    print_env
    return 0
  fi
  do_down # leftovers of a cluster that died
  if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ] && [ ! -f "$MARK" ]; then
    die "$DIR exists and was not made by this script; choose another --dir" 2
  fi
  trap 'status=$?; if [ $status -ne 0 ]; then logs_tail; do_down; fi' EXIT

  NODE=$(hostname -s)
  CPUS=${CPUS:-$(nproc)}
  [[ $CPUS =~ ^[1-9][0-9]*$ ]] || die "--cpus expects a positive integer, got \"$CPUS\"" 2
  pick_ports
  mkdir -p "$DIR"
  chmod 0755 "$DIR" # munged (as munge) and job users must reach their subfolders
  : > "$MARK"
  mkdir -p "$DIR/log" "$DIR/state" "$DIR/spool" "$DIR/run"
  chmod 0700 "$DIR/state" "$DIR/spool"
  # munged runs as the munge user, which must reach its folder: inside DIR when
  # every folder above DIR lets it through, else a folder of its own in /tmp
  if setpriv --reuid=munge --regid=munge --clear-groups test -x "$DIR/log"; then
    MUNGE_DIR=$DIR/munge
    mkdir -p "$MUNGE_DIR"
  else
    MUNGE_DIR=$(mktemp -d /tmp/umbra-munge.XXXXXX)
  fi
  : > "$MUNGE_DIR/.umbra-local-slurm"
  chown -R munge:munge "$MUNGE_DIR"
  chmod 0755 "$MUNGE_DIR" # clients connect to the socket in here
  MUNGE_SOCKET=$MUNGE_DIR/munge.socket.2
  save_state
  local key=$MUNGE_DIR/munge.key
  if command -v mungekey >/dev/null 2>&1; then
    setpriv --reuid=munge --regid=munge --clear-groups mungekey --create --keyfile="$key"
  else
    head -c 1024 /dev/urandom > "$key"
    chown munge:munge "$key"
  fi
  chmod 0400 "$key"
  save_state

  # each daemon in its own session (setsid execs in place, so $! is the daemon)
  setsid setpriv --reuid=munge --regid=munge --clear-groups munged --foreground \
    --key-file="$key" --socket="$MUNGE_SOCKET" --pid-file="$MUNGE_DIR/munged.pid" \
    --seed-file="$MUNGE_DIR/munged.seed" --log-file="$MUNGE_DIR/munged.log" \
    < /dev/null > "$DIR/log/munged.out" 2>&1 &
  MUNGED_PID=$!
  MUNGED_START=$(starttime "$MUNGED_PID" || echo gone)
  save_state
  local i
  for ((i = 0; i < 100; i++)); do
    [ -S "$MUNGE_SOCKET" ] && break
    same_process "$MUNGED_PID" "$MUNGED_START" || die "munged exited at start"
    sleep 0.1
  done
  [ -S "$MUNGE_SOCKET" ] || die "munged did not open $MUNGE_SOCKET within 10 s"
  if command -v munge >/dev/null 2>&1; then
    munge -n -S "$MUNGE_SOCKET" | unmunge -S "$MUNGE_SOCKET" >/dev/null || die "munge credentials do not round-trip through $MUNGE_SOCKET"
  fi

  cat > "$CONF" <<EOF
# Single-node Slurm cluster written by umbra's experiments/slurm/local-cluster.sh.
ClusterName=umbra-local
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
PlugStackConfig=$DIR/plugstack.conf
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=local Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
  : > "$DIR/plugstack.conf"

  # env and setsid exec in place: $! is the daemon
  env SLURM_CONF="$CONF" setsid slurmctld -D -f "$CONF" < /dev/null > "$DIR/log/slurmctld.out" 2>&1 &
  SLURMCTLD_PID=$!
  SLURMCTLD_START=$(starttime "$SLURMCTLD_PID" || echo gone)
  save_state
  env SLURM_CONF="$CONF" setsid slurmd -D -f "$CONF" -N "$NODE" < /dev/null > "$DIR/log/slurmd.out" 2>&1 &
  SLURMD_PID=$!
  SLURMD_START=$(starttime "$SLURMD_PID" || echo gone)
  save_state

  local st=""
  for ((i = 0; i < 150; i++)); do
    same_process "$SLURMCTLD_PID" "$SLURMCTLD_START" || die "slurmctld exited at start"
    same_process "$SLURMD_PID" "$SLURMD_START" || die "slurmd exited at start"
    st=$(slurm_env timeout 5 sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
    case $st in idle*|mixed*|allocated*) break ;; esac
    sleep 0.2
  done
  case $st in idle*|mixed*|allocated*) ;; *) die "node $NODE did not become idle within 30 s (state: ${st:-no answer})" ;; esac

  if [ -n "$OWNER_PID" ]; then
    OWNER_START=$(starttime "$OWNER_PID") || die "--owner-pid $OWNER_PID: no such process" 2
    setsid "$SELF" watch --dir "$DIR" --owner-pid "$OWNER_PID" --owner-start "$OWNER_START" < /dev/null > "$DIR/log/watchdog.out" 2>&1 &
    WATCHDOG_PID=$!
    WATCHDOG_START=$(starttime "$WATCHDOG_PID" || echo gone)
    save_state
  fi
  trap - EXIT
  say "up: node $NODE ($CPUS CPUs, partition local), slurmctld port $CTLD_PORT (pid $SLURMCTLD_PID), slurmd port $SLURMD_PORT (pid $SLURMD_PID), munged pid $MUNGED_PID; folder $DIR"
  print_env
}

do_watch() { # until the owner ends or the cluster is brought down, then bring it down
  [ -n "$OWNER_PID" ] && [ -n "$OWNER_START" ] || die "watch needs --owner-pid and --owner-start" 2
  while same_process "$OWNER_PID" "$OWNER_START" && [ -f "$STATE" ]; do sleep 1; done
  [ -f "$STATE" ] || exit 0
  say "owner $OWNER_PID ended: bringing the cluster down"
  WATCHDOG_PID=$$
  do_down
}

case $cmd in
  up) do_up ;;
  down) do_down ;;
  watch) do_watch ;;
  env)
    cluster_up_already || die "no cluster is up in $DIR"
    print_env ;;
  status)
    cluster_up_already || die "no cluster is up in $DIR"
    slurm_env sinfo
    slurm_env squeue ;;
  install)
    [ "$(id -u)" = 0 ] || die "install needs root (apt-get)" 3
    command -v apt-get >/dev/null 2>&1 || die "no apt-get here: install Slurm and MUNGE with this system's packages" 3
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge ;;
  *) say "unknown command: $cmd"; usage ;;
esac
