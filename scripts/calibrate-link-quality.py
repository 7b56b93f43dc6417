#!/usr/bin/env python3
"""Calibrates SR-1's POOR numbers against the stalls a host really has.

Record a few untuned sessions and export them, then replay their cycles through the link grading
(GOOD / FAIR with its 1 s recovery / POOR by FAIR share of 5 s or by episodes in 10 s) for candidate
numbers, and print how many 10 s sessions each pair would have paused:

    for i in 1 2 3 4 5 6; do
      rehabctl demo --duration 20 --record /tmp/cal-$i.mcap --json > /dev/null
      rehabctl export /tmp/cal-$i.mcap --csv /tmp/cal-$i
    done
    scripts/calibrate-link-quality.py /tmp/cal-*/loop_timing.csv [--good-age-ms 3] [--watchdog-ms 20]

It mirrors Sources/Control/Safety/LinkQuality.swift (state age and cycle gap; the late share is left
out), and prints the stall distribution it found.
"""
import argparse
import csv


def load(path):
    cycles, previous = [], None
    for row in csv.DictReader(open(path)):
        t = int(row["log_time_ns"])
        age = int(row["state_age_ns"] or 0)
        gap = (t - previous) if previous else 1_000_000
        previous = t
        cycles.append((t, age, gap))
    return cycles


def replay(cycles, share_limit, episode_limit, good_age, good_gap, lost):
    grade, last_trouble, episodes, fair_ns, fair_log = "GOOD", None, [], 0, []
    poor = lost_seen = False
    previous = None
    for t, age, gap in cycles:
        dt = (t - previous) if previous else 0
        previous = t
        if grade != "GOOD":
            fair_log.append((t, dt))
            fair_ns += dt
        troubled = age > good_age or gap > good_gap
        lost_seen |= age >= lost or gap >= lost
        if troubled:
            last_trouble = t
            if grade == "GOOD":
                episodes.append(t)
        share = sum(d for (ft, d) in fair_log if t - ft <= 5e9) / 5e9
        count = sum(1 for e in episodes if t - e <= 10e9)
        if (grade != "GOOD" or troubled) and (share > share_limit or count > episode_limit):
            poor = True
        if troubled:
            grade = "FAIR"
        elif grade == "FAIR" and t - last_trouble >= 1e9:
            grade = "GOOD"
    return poor, lost_seen, fair_ns, len(episodes)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", help="loop_timing.csv files from rehabctl export")
    parser.add_argument("--good-age-ms", type=float, default=3.0, help="max(3 T, 3 ms): 3 at 1 kHz, 6 at 500 Hz")
    parser.add_argument("--watchdog-ms", type=float, default=20.0, help="the device watchdog W")
    args = parser.parse_args()
    good_age, good_gap, lost = args.good_age_ms * 1e6, args.watchdog_ms / 4 * 1e6, 0.6 * args.watchdog_ms * 1e6
    sessions = []
    for path in args.files:
        cycles = load(path)
        stalls = [c for c in cycles if c[1] > good_age or c[2] > good_gap]
        seconds = (cycles[-1][0] - cycles[0][0]) / 1e9
        print(f"{path}: {seconds:.1f} s, {len(stalls)} troubled cycles, worst age {max(c[1] for c in cycles) / 1e6:.2f} ms")
        start = cycles[0][0]
        for k in range(int(seconds // 10)):
            part = [c for c in cycles if start + k * 10e9 <= c[0] < start + (k + 1) * 10e9]
            if part:
                sessions.append(part)
    print(f"{len(sessions)} sessions of 10 s")
    for share in (0.2, 0.4, 0.6, 0.8):
        for episodes in (3, 4, 5, 7):
            results = [replay(s, share, episodes, good_age, good_gap, lost) for s in sessions]
            paused = sum(r[0] for r in results)
            lost_count = sum(r[1] for r in results)
            fair = sum(r[2] for r in results) / (len(sessions) * 10e9)
            per_session = sum(r[3] for r in results) / len(sessions)
            print(f"share > {share:.0%}, episodes > {episodes}: POOR in {paused}/{len(sessions)}, LOST in {lost_count}, "
                  f"FAIR {fair:.1%} of the time, {per_session:.1f} episodes per session")


if __name__ == "__main__":
    main()
