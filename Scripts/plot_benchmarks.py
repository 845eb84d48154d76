#!/usr/bin/env python3
"""Renders Docs/bench/*.json (from Scripts/benchmark) as an SVG bar chart and prints Markdown tables.

Usage: python3 Scripts/plot_benchmarks.py DIR OUT.svg   (no dependencies beyond the standard library)
"""
import json
import os
import sys

ORDER = ["b1_L16", "b1_L128", "b32_L16", "b32_L128", "b32_L256", "b32_mixed8-128"]


def load(path):
    if not os.path.exists(path):
        return []
    data = json.load(open(path))
    return data if isinstance(data, list) else [data]


def by_workload(rows, backend="blas"):
    return {r["workload"]: r for r in rows if r["backend"] == backend}


def main(directory, output):
    series = []
    for name, label, color in [
        ("encoder-native.json", "BLAS, OpenBLAS's own kernel, 2 threads", "#1f77b4"),
        ("encoder-env.json", "BLAS, environment's kernel, 2 threads", "#6baed6"),
        ("encoder-native-1thread.json", "BLAS, own kernel, 1 thread", "#9ecae1"),
    ]:
        rows = by_workload(load(os.path.join(directory, name)))
        if rows:
            core = next(iter(rows.values()))["blas_core"]
            series.append((f"{label} ({core})", color, rows))
    naive = by_workload(load(os.path.join(directory, "encoder-env.json")), "naive")
    if naive:
        series.append(("naive backend (plain Swift loops)", "#d62728", naive))

    width, height, left, top, bottom = 900, 420, 70, 40, 90
    plot_w, plot_h = width - left - 20, height - top - bottom
    peak = max((r["tokens_per_second"] for _, _, rows in series for r in rows.values()), default=1)
    group = plot_w / len(ORDER)
    bar = group * 0.8 / max(len(series), 1)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="15">all-MiniLM-L6-v2 encoder throughput (real tokens/s, higher is better)</text>']
    for i in range(6):
        value = peak * i / 5
        y = top + plot_h - plot_h * i / 5
        svg.append(f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        svg.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:,.0f}</text>')
    for g, workload in enumerate(ORDER):
        x0 = left + g * group + group * 0.1
        for s, (_, color, rows) in enumerate(series):
            r = rows.get(workload)
            if not r:
                continue
            h = plot_h * r["tokens_per_second"] / peak
            svg.append(f'<rect x="{x0 + s * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" fill="{color}"/>')
        svg.append(f'<text x="{left + g * group + group / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{workload}</text>')
    for s, (label, color, _) in enumerate(series):
        y = height - bottom + 34 + 14 * s
        svg.append(f'<rect x="{left}" y="{y - 10}" width="10" height="10" fill="{color}"/>')
        svg.append(f'<text x="{left + 16}" y="{y}">{label}</text>')
    svg.append("</svg>")
    open(output, "w").write("\n".join(svg) + "\n")

    # Markdown tables for Docs/Benchmarks.md
    print("| workload | tokens | " + " | ".join(label for label, _, _ in series) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in series) + " |")
    for workload in ORDER:
        cells = []
        tokens = ""
        for _, _, rows in series:
            r = rows.get(workload)
            if r:
                tokens = tokens or str(r["tokens"])
                cells.append(f'{r["tokens_per_second"]:,.0f} tok/s · {r["ms_per_batch"]:.2f} ms · eff {r["gemm_efficiency"]:.2f} · {r["peak_rss_mib"]:.0f} MiB'
                             + (f' ({r["tokens"]} tok)' if r["backend"] == "naive" else ""))
            else:
                cells.append("-")
        print(f"| {workload} | {tokens} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
