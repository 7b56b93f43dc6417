#!/usr/bin/env bash
# Installs what RehabHost needs on a fresh Debian machine that already has Swift:
# the -dev packages of libserialport, libusb-1.0, libudev and libzstd (and pkg-config).
# It does nothing when pkg-config already finds all four. Safe to run repeatedly.
set -euo pipefail

need=()
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if command -v pkg-config >/dev/null 2>&1; then
  pkg-config --exists libserialport || need+=(libserialport-dev)
  pkg-config --exists libusb-1.0    || need+=(libusb-1.0-0-dev)
  pkg-config --exists libudev       || need+=(libudev-dev)
  pkg-config --exists libzstd       || need+=(libzstd-dev)
else
  need+=(libserialport-dev libusb-1.0-0-dev libudev-dev libzstd-dev)
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: the Swift toolchain is not on PATH; install Swift 6.1 or newer first (https://www.swift.org/install/linux/)" >&2
  exit 69
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: missing ${need[*]} and this is not a Debian-like system (no apt-get); install the equivalent packages by hand" >&2
  exit 69
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "setup: missing ${need[*]}; run as root or install sudo" >&2
    exit 77
  fi
fi

echo "setup: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh image often has no package lists yet; install once, and on failure refresh the lists and retry.
if ! "${as_root[@]}" apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
fi
echo "setup: done" >&2
