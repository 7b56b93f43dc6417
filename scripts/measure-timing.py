#!/usr/bin/env python3
"""Measures the control loop next to cyclictest, for docs/performance.md.

For each rate, alternately runs `cyclictest -m -p80 -i<period> -D<s>` (Debian: rt-tests) and
`rehabctl bench --rate <rate> --duration <s> --json`, REPEAT times, and prints the medians as a
Markdown table. Needs root (or rtprio/memlock limits) for SCHED_FIFO. Bounded: about
RATES x REPEAT x 2 x DURATION seconds.

usage: scripts/measure-timing.py [--duration 10] [--repeat 2] [--rates 1000,2000,4000] [--cpu N] [--rehabctl PATH]
       scripts/measure-timing.py --exercises NAME,... [--warm-up-us 0,50] [--repeat 2] [--cpu N] [--rehabctl PATH]

--cpu N pins the loop, the simulator and cyclictest to CPU N (use after `scripts/rt-tune.sh apply N`).

--exercises (hardware/exercises names or paths) measures the therapy modes instead, at 1 kHz: for each
exercise, `rehabctl bench --exercise` with each --warm-up-us value in turn (alternated, REPEAT
rounds, a cyclictest before each round), on a shortened copy of the file (2 repetitions, or 10 s),
and prints the medians per exercise and lead (docs/performance.md, session H). Runs that a safety
stop ended early count up to the stop; the table says how many cycles each ran.
"""
import argparse
import json
import os
import tempfile
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


def bench(rehabctl, cpu, options):
    """`rehabctl bench --json` with `options`; None when it was refused before running (e.g. the link pre-flight)."""
    pin = ["--cpu", str(cpu), "--simulator-cpu", str(cpu)] if cpu is not None else []
    run = subprocess.run([rehabctl, "bench", "--json"] + options + pin, capture_output=True, text=True)
    try:
        report = json.loads(run.stdout)
    except ValueError:
        return None
    report["exit_code"] = run.returncode
    return report if "cycles" in report else None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=1):
    return "—" if value is None else f"{value:.{digits}f}"


def shortened(exercise, directory):
    """A copy of an exercise file with 2 repetitions (or 10 s), so that a run fits between host stalls."""
    path = exercise if exercise.endswith(".json") else os.path.join("hardware", "exercises", exercise + ".json")
    with open(path) as source:
        definition = json.load(source)
    if "repetitions" in definition:
        definition["repetitions"] = 2
    if "duration_s" in definition:
        definition["duration_s"] = 10
    copy = os.path.join(directory, os.path.basename(path))
    with open(copy, "w") as target:
        json.dump(definition, target)
    return copy


def measure_modes(args):
    leads = [int(v) for v in args.warm_up_us.split(",")]
    exercises = args.exercises.split(",")
    runs = {(e, w): [] for e in exercises for w in leads}
    cyclictests = []
    with tempfile.TemporaryDirectory() as directory:
        copies = {e: shortened(e, directory) for e in exercises}
        for round_index in range(args.repeat):
            cyclictests.append(cyclictest(1000, 10, args.cpu))
            for exercise in exercises:
                for lead in leads:
                    report = bench(args.rehabctl, args.cpu, ["--exercise", copies[exercise], "--warm-up-us", str(lead)])
                    if report is not None:
                        runs[(exercise, lead)].append(report)
                    print(f"round {round_index + 1}: {exercise}, --warm-up-us {lead}: "
                          + (f"{report['cycles']} cycles" if report else "refused before running"), file=sys.stderr)
    print(f"cyclictest -m -p80 -i1000 -D10 before each round: p50/p99/max "
          + "; ".join(f"{fmt(c['p50'], 0)}/{fmt(c['p99'], 0)}/{fmt(c['max'], 0)} µs" for c in cyclictests))
    print("| exercise | --warm-up-us | compute p50 / p99 [µs] (p99 range) | supervisor p99 [µs] | wake p50 [µs] | rehearsal p50 [µs] | "
          "control thread CPU | allocating cycles | cycles run |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (exercise, lead), reports in runs.items():
        if not reports:
            print(f"| {exercise} | {lead} | — | — | — | — | — | — | refused before running |")
            continue

        def m(key, sub):
            return median([r[key][sub] if r.get(key) else None for r in reports])
        p99s = [r["compute_us"]["p99"] for r in reports]
        cycles = " / ".join(str(r["cycles"]) + (f" ({r['latched_cause']})" if r.get("latched_cause") else "") for r in reports)
        print(f"| {exercise} | {lead} | {fmt(m('compute_us', 'p50'), 2)} / {fmt(m('compute_us', 'p99'), 2)} "
              f"({fmt(min(p99s), 2)}–{fmt(max(p99s), 2)}) | {fmt(m('supervisor_us', 'p99'), 2)} | {fmt(m('wake_latency_us', 'p50'), 2)} | "
              f"{fmt(m('rehearsal_us', 'p50'), 2)} | {fmt(100 * median([r['control_thread_cpu_seconds_per_second'] for r in reports]))} % | "
              f"{sum(r['allocating_cycles'] for r in reports)} | {cycles} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rates", default="1000,2000,4000")
    parser.add_argument("--rehabctl", default=".build/release/rehabctl")
    parser.add_argument("--cpu", type=int, default=None)
    parser.add_argument("--exercises", default=None)
    parser.add_argument("--warm-up-us", default="0,50")
    args = parser.parse_args()
    if args.exercises:
        return measure_modes(args)
    rows = []
    for rate in [int(r) for r in args.rates.split(",")]:
        period = round(1e6 / rate)
        ct, bb, nw = [], [], []
        refused = 0
        for _ in range(args.repeat):
            ct.append(cyclictest(period, int(args.duration), args.cpu))
            report = bench(args.rehabctl, args.cpu, ["--rate", str(rate), "--duration", str(args.duration), "--reply-wait", "cycle"])
            if report is None:
                refused += 1
            else:
                bb.append(report)
            if rate == 1000:
                report = bench(args.rehabctl, args.cpu, ["--rate", str(rate), "--duration", str(args.duration), "--reply-wait", "next-wake"])
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
