#!/usr/bin/env bash
# Real-time tuning for a machine without isolated CPUs: keeps the kernel's CPU-holding threads and
# the tty layer's workers apart, so that serial/PTY transfers are not held up behind them.
#
#   scripts/rt-tune.sh status          show the settings this script touches
#   scripts/rt-tune.sh apply [CPU]     confine unbound kernel workers (the tty flush work) to CPU
#                                      (default: the last CPU) and move kdamond off it; then run
#                                      rehabctl with --cpu CPU --simulator-cpu CPU
#   scripts/rt-tune.sh revert          restore what apply changed
#
# Needs root. Changes last until reboot or revert; the previous values are kept in
# /run/rehabhost-rt-tune.state. Measured on the development VM: 1 kHz demos stopped by SR-1 went
# from 1–5 in 10 to 0 in 10, PTY round-trip p99 from ~650 µs to ~100 µs (docs/performance.md).
set -euo pipefail

STATE=/run/rehabhost-rt-tune.state
CPUMASK=/sys/devices/virtual/workqueue/cpumask

cpu_count() { getconf _NPROCESSORS_ONLN; }
kernel_threads() { for pid in $(pgrep -x 'kdamond\.[0-9]+' 2>/dev/null || true); do echo "$pid"; done; }
mask_of_cpu() { printf '%x' $((1 << $1)); }
mask_without_cpu() { printf '%x' $(( ((1 << $(cpu_count)) - 1) & ~(1 << $1) )); }

status() {
  echo "unbound workqueue cpumask: $(cat "$CPUMASK" 2>/dev/null || echo 'not available')"
  for pid in $(kernel_threads); do echo "$(cat /proc/$pid/comm) (pid $pid): $(taskset -p "$pid" | awk '{print $NF}')"; done
  if [ -f "$STATE" ]; then echo "applied for CPU $(awk '$1 == "cpu" {print $2}' "$STATE") (state in $STATE)"; else echo "not applied"; fi
}

apply() {
  local cpu=${1:-$(( $(cpu_count) - 1 ))}
  [ "$(id -u)" -eq 0 ] || { echo "rt-tune: needs root" >&2; exit 77; }
  [ "$(cpu_count)" -ge 2 ] || { echo "rt-tune: needs at least 2 CPUs" >&2; exit 78; }
  [ "$cpu" -lt "$(cpu_count)" ] || { echo "rt-tune: CPU $cpu does not exist" >&2; exit 64; }
  [ -w "$CPUMASK" ] || { echo "rt-tune: $CPUMASK is not writable on this kernel" >&2; exit 69; }
  if [ ! -f "$STATE" ]; then
    {
      echo "cpu $cpu"
      echo "cpumask $(cat "$CPUMASK")"
      for pid in $(kernel_threads); do echo "affinity $pid $(taskset -p "$pid" | awk '{print $NF}')"; done
    } > "$STATE"
  fi
  echo "$(mask_of_cpu "$cpu")" > "$CPUMASK"
  for pid in $(kernel_threads); do taskset -p "$(mask_without_cpu "$cpu")" "$pid" > /dev/null; done
  echo "rt-tune: unbound kernel workers on CPU $cpu, kdamond elsewhere; run: rehabctl demo --cpu $cpu --simulator-cpu $cpu"
}

revert() {
  [ -f "$STATE" ] || { echo "rt-tune: nothing to revert"; exit 0; }
  while read -r kind a b; do
    case $kind in
      cpu) ;;
      cpumask) echo "$a" > "$CPUMASK" ;;
      affinity) [ -d "/proc/$a" ] && taskset -p "$b" "$a" > /dev/null || true ;;
    esac
  done < "$STATE"
  rm -f "$STATE"
  echo "rt-tune: reverted"
}

case "${1:-status}" in
  status) status ;;
  apply) apply "${2:-}" ;;
  revert) revert ;;
  -h|--help) sed -n '2,16p' "$0" ;;
  *) echo "usage: scripts/rt-tune.sh status|apply [CPU]|revert" >&2; exit 64 ;;
esac
