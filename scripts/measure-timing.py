#!/usr/bin/env python3
"""Measures the control loop next to cyclictest, for docs/performance.md.

For each rate, alternately runs `cyclictest -m -p80 -i<period> -D<s>` (Debian: rt-tests) and
`rehabctl bench --rate <rate> --duration <s> --json`, REPEAT times, and prints the medians as a
Markdown table. Needs root (or rtprio/memlock limits) for SCHED_FIFO. Bounded: about
RATES x REPEAT x 2 x DURATION seconds.

usage: scripts/measure-timing.py [--duration 10] [--repeat 2] [--rates 1000,2000,4000] [--cpu N] [--rehabctl PATH]

--cpu N pins the loop, the simulator and cyclictest to CPU N (use after `scripts/rt-tune.sh apply N`).
"""
import argparse
import json
import statistics
import subprocess
import sys


def cyclictest(period_us, duration, cpu):
    pin = [f"-a{cpu}"] if cpu is not None else []
    out = subprocess.run(["cyclictest", "-m", "-p80", f"-i{period_us}", f"-D{duration}", "-q", "-h", "20000"] + pin,
                         capture_output=True, text=True, check=True).stdout
    counts, overflow, maximum = {}, 0, 0
    for line in out.splitlines():
        if line.startswith("# Histogram Overflows:"):
            overflow = int(line.split(":")[1].split()[0])
        elif line.startswith("# Max Latencies:"):
            maximum = int(line.split(":")[1].split()[0])
        elif line and not line.startswith("#"):
            value, count = line.split()[:2]
            counts[int(value)] = int(count)
    total = sum(counts.values()) + overflow

    def quantile(q):
        rank, seen = q * total, 0
        for value in sorted(counts):
            seen += counts[value]
            if seen >= rank:
                return value
        return maximum

    return {"p50": quantile(0.5), "p99": quantile(0.99), "p999": quantile(0.999), "max": maximum}


def bench(rehabctl, rate, duration, reply_wait, cpu):
    pin = ["--cpu", str(cpu), "--simulator-cpu", str(cpu)] if cpu is not None else []
    run = subprocess.run([rehabctl, "bench", "--rate", str(rate), "--duration", str(duration), "--json",
                          "--reply-wait", reply_wait] + pin, capture_output=True, text=True)
    report = json.loads(run.stdout)
    report["exit_code"] = run.returncode
    return report if "cycles" in report else None  # refused before running (e.g. the link pre-flight)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=1):
    return "—" if value is None else f"{value:.{digits}f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rates", default="1000,2000,4000")
    parser.add_argument("--rehabctl", default=".build/release/rehabctl")
    parser.add_argument("--cpu", type=int, default=None)
    args = parser.parse_args()
    rows = []
    for rate in [int(r) for r in args.rates.split(",")]:
        period = round(1e6 / rate)
        ct, bb, nw = [], [], []
        refused = 0
        for _ in range(args.repeat):
            ct.append(cyclictest(period, int(args.duration), args.cpu))
            report = bench(args.rehabctl, rate, args.duration, "cycle", args.cpu)
            if report is None:
                refused += 1
            else:
                bb.append(report)
            if rate == 1000:
                report = bench(args.rehabctl, rate, args.duration, "next-wake", args.cpu)
                if report is not None:
                    nw.append(report)
        rows.append((rate, period, ct, bb, nw, refused))
        print(f"measured {rate} Hz", file=sys.stderr)

    print("| rate | cyclictest wake p50 / p99 / p99.9 / max [µs] | bench wake p50 / p99 / p99.9 / max [µs] | p99 ratio | "
          "compute p50 / p99 [µs] | supervisor p99 [µs] | round trip p50 / p99 / max [µs] | missed | cycles run | "
          "allocations / cycle | CPU host / simulator |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for rate, period, ct, bb, nw, refused in rows:
        def m(key, sub):
            return median([b[key][sub] if b.get(key) else None for b in bb])
        cw = [median([c[k] for c in ct]) for k in ("p50", "p99", "p999", "max")]
        cycles = " / ".join([str(b["cycles"]) for b in bb] + ["refused at the link pre-flight"] * refused)
        if not bb:
            print(f"| {rate} Hz | {' / '.join(fmt(v, 0) for v in cw)} | — | — | — | — | — | — | {cycles} | — | — |")
            continue
        bw = [m("wake_latency_us", k) for k in ("p50", "p99", "p999", "max")]
        ratio = bw[1] / cw[1] if cw[1] else None
        stops = [", ".join(e["cause"] for e in b["safety_events"]) for b in bb if b["safety_events"]]
        print(f"| {rate} Hz | {' / '.join(fmt(v, 0) for v in cw)} | {' / '.join(fmt(v) for v in bw)} | {fmt(ratio, 2)} | "
              f"{fmt(m('compute_us', 'p50'))} / {fmt(m('compute_us', 'p99'))} | {fmt(m('supervisor_us', 'p99'))} | "
              f"{fmt(m('round_trip_us', 'p50'))} / {fmt(m('round_trip_us', 'p99'))} / {fmt(m('round_trip_us', 'max'))} | "
              f"{fmt(median([b['missed_deadlines'] for b in bb]), 0)} | {cycles}{' (stopped: ' + '; '.join(stops) + ')' if stops else ''} | "
              f"{fmt(median([b['allocations_per_cycle'] for b in bb]), 3)} | "
              f"{fmt(100 * median([b['cpu_seconds_per_second'] for b in bb]))} % / "
              f"{fmt(100 * median([b['simulator_cpu_seconds_per_second'] for b in bb]))} % |")
        if nw:
            print(f"| {rate} Hz, --reply-wait next-wake | | wake p99 {fmt(median([b['wake_latency_us']['p99'] for b in nw]))} | | | | | "
                  f"{fmt(median([b['missed_deadlines'] for b in nw]), 0)} | {' / '.join(str(b['cycles']) for b in nw)} | "
                  f"{fmt(median([b['allocations_per_cycle'] for b in nw]), 3)} | "
                  f"{fmt(100 * median([b['cpu_seconds_per_second'] for b in nw]))} % / "
                  f"{fmt(100 * median([b['simulator_cpu_seconds_per_second'] for b in nw]))} % |")


if __name__ == "__main__":
    main()
