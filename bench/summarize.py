#!/usr/bin/env python3
"""Median table of a bench run: summarize.py RUNS_TSV [BASELINE].

Groups the rows of runs.tsv (written by bench_measure in bench/lib.sh) by workload and proxy,
takes the median of each figure over the rounds, and prints a markdown table with ratios to the
baseline proxy of the same run (nginx by default). Peak RSS is the maximum over the rounds.
"""
import csv
import statistics
import sys


def main() -> None:
    path = sys.argv[1]
    baseline = sys.argv[2] if len(sys.argv) > 2 else "nginx"
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if not rows:
        sys.exit(f"{path}: no runs")

    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault((row["workload"], row["proxy"]), []).append(row)

    def med(runs: list[dict[str, str]], key: str) -> float:
        return statistics.median(float(r[key]) for r in runs)

    summary = {}
    for key, runs in groups.items():
        summary[key] = {
            "rounds": len(runs),
            "rps": med(runs, "rps"),
            "p50": med(runs, "p50_ms"),
            "p99": med(runs, "p99_ms"),
            "mib_s": med(runs, "mib_s"),
            "cpu_s": med(runs, "cpu_s"),
            "us": med(runs, "cpu_us_per_req"),
            "us_min": min(float(r["cpu_us_per_req"]) for r in runs),
            "rss": max(float(r["peak_rss_mb"]) for r in runs),
            "errors": sum(int(r["errors"]) for r in runs),
            "spread": (min(float(r["rps"]) for r in runs), max(float(r["rps"]) for r in runs)),
        }

    def ratio(value: float, base: float | None) -> str:
        return f"{value / base:.2f}" if base else "–"

    order = []
    for workload, proxy in groups:
        if workload not in order:
            order.append(workload)
    print(f"Medians of {max(s['rounds'] for s in summary.values())} round(s); ratios are to {baseline} in the same run.\n")
    for workload in order:
        print(f"**{workload}**\n")
        print("| proxy | req/s | × {b} | MiB/s | p50 ms | p99 ms | p99 × {b} | CPU s | CPU µs/req | µs/req × {b} | min µs/req | peak RSS MB | errors | req/s min–max |".format(b=baseline))
        print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        base = summary.get((workload, baseline))
        proxies = [p for (w, p) in groups if w == workload]
        for proxy in proxies:
            s = summary[(workload, proxy)]
            print(
                f"| {proxy} | {s['rps']:.0f} | {ratio(s['rps'], base and base['rps'])} | {s['mib_s']:.0f} | {s['p50']:.2f} | {s['p99']:.2f} "
                f"| {ratio(s['p99'], base and base['p99'])} | {s['cpu_s']:.2f} | {s['us']:.1f} | {ratio(s['us'], base and base['us'])} "
                f"| {s['us_min']:.1f} | {s['rss']:.0f} | {s['errors']} | {s['spread'][0]:.0f}–{s['spread'][1]:.0f} |"
            )
        print()


if __name__ == "__main__":
    main()
