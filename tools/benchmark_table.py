#!/usr/bin/env python3
"""Where the time goes: one table per rule from Snakemake's benchmark files.

    python tools/benchmark_table.py [benchmarks/] [--sort total|median|rss|rule] [--tsv]

Every rule writes ``benchmarks/<rule>/<wildcard values>.tsv`` (or
``benchmarks/<rule>.tsv`` without wildcards), the table Snakemake's ``benchmark:``
directive writes: wall-clock seconds ``s``, peak memory ``max_rss`` (MB) and more, one
row per repeat.  This prints, per rule: the number of jobs, the median and total
wall-clock seconds, the longest job, and the largest peak memory (MB) of any job,
slowest rules first, and a total line.  ``--tsv`` prints the same table tab-separated
for other programs.  Only the standard library is used.

Wall-clock times of jobs that ran at the same time add up to more than the workflow's
elapsed time; the total says how much work each rule is, not how long one waits.
"""

import argparse
import csv
import statistics
import sys
from pathlib import Path

COLUMNS = ("rule", "jobs", "median_s", "total_s", "max_s", "max_rss_mb")
SORTS = {
    "total": lambda row: (-row["total_s"], row["rule"]),
    "median": lambda row: (-row["median_s"], row["rule"]),
    "rss": lambda row: (-row["max_rss_mb"], row["rule"]),
    "rule": lambda row: row["rule"],
}


def _number(text):
    """A benchmark cell as a float ("-" or "NA", written when not measured, as 0)."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0


def read_benchmarks(folder):
    """{rule: [(seconds, max_rss_mb) per job]} from every .tsv under ``folder``.

    The rule is the first path component below ``folder`` (without ``.tsv`` for
    rules without wildcards).  A file with several repeats counts as one job, with
    the mean time and the largest memory of its repeats.
    """
    folder = Path(folder)
    jobs = {}
    for path in sorted(folder.rglob("*.tsv")):
        relative = path.relative_to(folder)
        rule = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        if not rows or "s" not in rows[0]:
            print(f"warning: {path}: not a Snakemake benchmark file; skipped", file=sys.stderr)
            continue
        seconds = statistics.fmean(_number(row["s"]) for row in rows)
        rss = max(_number(row.get("max_rss")) for row in rows)
        jobs.setdefault(rule, []).append((seconds, rss))
    return jobs


def summarise(jobs, sort="total"):
    """One row per rule (dicts with :data:`COLUMNS`), sorted by ``sort``."""
    rows = []
    for rule, measured in jobs.items():
        seconds = [s for s, _ in measured]
        rows.append({
            "rule": rule,
            "jobs": len(measured),
            "median_s": statistics.median(seconds),
            "total_s": sum(seconds),
            "max_s": max(seconds),
            "max_rss_mb": max(rss for _, rss in measured),
        })
    return sorted(rows, key=SORTS[sort])


def _cells(row):
    return [
        row["rule"],
        str(row["jobs"]),
        f"{row['median_s']:.2f}",
        f"{row['total_s']:.2f}",
        f"{row['max_s']:.2f}",
        f"{row['max_rss_mb']:.0f}",
    ]


def format_table(rows, tsv=False):
    """The table as text: aligned columns with a total line, or TSV."""
    header = ["rule", "jobs", "median s", "total s", "max s", "max RSS MB"]
    if tsv:
        return "\n".join("\t".join(cells) for cells in [list(COLUMNS)] + [_cells(r) for r in rows]) + "\n"
    body = [_cells(row) for row in rows]
    total = [
        "total",
        str(sum(row["jobs"] for row in rows)),
        "",
        f"{sum(row['total_s'] for row in rows):.2f}",
        f"{max((row['max_s'] for row in rows), default=0):.2f}",
        f"{max((row['max_rss_mb'] for row in rows), default=0):.0f}",
    ]
    widths = [max(len(line[i]) for line in [header, total] + body) for i in range(len(header))]

    def line(cells):
        first = cells[0].ljust(widths[0])
        return "  ".join([first] + [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:])])

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule] + [line(cells) for cells in body] + [rule, line(total)]) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", default="benchmarks", help="default: benchmarks")
    parser.add_argument("--sort", choices=sorted(SORTS), default="total", help="default: total")
    parser.add_argument("--tsv", action="store_true", help="tab-separated output")
    args = parser.parse_args(argv)
    if not Path(args.folder).is_dir():
        parser.error(f"{args.folder}: no such folder (run the workflow first)")
    jobs = read_benchmarks(args.folder)
    if not jobs:
        parser.error(f"{args.folder}: no benchmark files")
    sys.stdout.write(format_table(summarise(jobs, args.sort), tsv=args.tsv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
