#!/usr/bin/env python3
"""Run the session-cache benchmark against OpenSSL and sesscache; report.

For each heap layout of --layouts (bench/layout.h: server, nginx, pooled),
runs the two binaries alternately (OpenSSL first) --runs times each, keeps
the median figure per (workload, threads) and prints, one table per layout,

    workload | threads | unit | OpenSSL | sesscache | ratio | range

ratio = sesscache / OpenSSL of the medians; range: the lowest and highest
ratio of the single runs (run i of one library against run i of the other).
For throughput rows higher is better; for the rows marked "lower" (memory,
flush time, harness time) lower is better.
Also writes <outdir>/results.csv (every layout) and, per layout, a chart:
<outdir>/throughput.svg for the first layout, throughput-<layout>.svg for
the others.

Python 3 standard library only.
"""
import argparse
import csv
import os
import subprocess
import statistics
import sys

LOWER_IS_BETTER = {"memory", "flush", "harness"}
ORDER = ["fill", "memory", "lookup", "resume", "churn", "mixed", "flush", "handshake", "harness"]
LIBS = ["openssl", "sesscache"]
LABEL = {"openssl": "OpenSSL", "sesscache": "sesscache"}
COLOR = {"openssl": "#d9534f", "sesscache": "#337ab7"}
CHART_WORKLOADS = ["lookup", "resume", "mixed", "churn"]


def parse_results(text):
    out = []
    for line in text.splitlines():
        if not line.startswith("RESULT "):
            continue
        kv = {}
        for tok in line.split()[1:]:
            if "=" in tok:
                k, v = tok.split("=", 1)
                kv[k] = v
        try:
            kv["threads"] = int(kv["threads"])
            kv["value"] = float(kv["value"])
        except (KeyError, ValueError):
            continue
        out.append(kv)
    return out


def run_one(lib, binary, libdir, args):
    env = dict(os.environ)
    if lib == "sesscache":
        d = os.path.abspath(libdir)
        old = env.get("LD_LIBRARY_PATH")
        env["LD_LIBRARY_PATH"] = d + (":" + old if old else "")
    cmd = [binary] + args
    sys.stderr.write("== running %s: %s\n" % (LABEL[lib], " ".join(cmd)))
    sys.stderr.flush()
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=None,
                           universal_newlines=True)
    except OSError as e:
        sys.stderr.write("!! %s: cannot run %s: %s\n" % (LABEL[lib], binary, e))
        return [], False
    res = parse_results(p.stdout)
    if p.returncode != 0:
        sys.stderr.write("!! %s exited with status %d (kept %d results)\n"
                         % (LABEL[lib], p.returncode, len(res)))
    return res, p.returncode == 0


def better(workload):
    return "lower" if workload in LOWER_IS_BETTER else "higher"


def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit in ("ms",):
        return "%.3f" % v
    if unit == "bytes/session":
        return "%.0f" % v
    if v >= 1e6:
        return "%.2fM" % (v / 1e6)
    if v >= 1e3:
        return "%.1fk" % (v / 1e3)
    return "%.3g" % v


def workload_label(w, emulated):
    if w == "handshake" and emulated:
        return "handshake (OpenSSL: public-API equivalent)"
    if w == "resume" and emulated:
        return "resume: server lookup returning the session (OpenSSL: has_matching)"
    if w == "memory":
        return "memory (RSS per cached session)"
    if w == "harness":
        return "harness alone (its allocations per handshake; not a cache figure)"
    return w


def nice_ceiling(v):
    if v <= 0:
        return 1.0
    import math
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * e >= v:
            return m * e
    return 10 * e


def esc(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def write_svg(path, best, units, layout):
    panels = [w for w in CHART_WORKLOADS
              if any(k[0] == w for k in best)]
    if not panels:
        panels = ["lookup", "mixed"]
    pw, ph = 420, 300           # panel size
    ml, mr, mt, mb = 70, 20, 40, 50  # margins inside a panel
    cols = 2
    rows = (len(panels) + cols - 1) // cols
    W, H = cols * pw, rows * ph + 70
    o = []
    o.append('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">'
             % (W, H, W, H))
    o.append('<rect x="0" y="0" width="%d" height="%d" fill="white"/>' % (W, H))
    o.append('<text x="%d" y="22" text-anchor="middle" font-size="16" '
             'font-weight="bold">Session cache throughput vs threads, %s layout '
             '(higher is better)</text>' % (W // 2, esc(layout)))
    # legend
    lx = W // 2 - 110
    for i, lib in enumerate(LIBS):
        x = lx + i * 130
        o.append('<rect x="%d" y="34" width="14" height="14" fill="%s"/>'
                 % (x, COLOR[lib]))
        o.append('<text x="%d" y="46">%s</text>' % (x + 20, LABEL[lib]))
    for pi, w in enumerate(panels):
        px = (pi % cols) * pw
        py = 60 + (pi // cols) * ph
        x0, y0 = px + ml, py + ph - mb      # origin
        x1, y1 = px + pw - mr, py + mt      # top right
        threads = sorted({k[1] for k in best if k[0] == w})
        vals = [best.get((w, t, lib)) for t in threads for lib in LIBS]
        vmax = max([v for v in vals if v is not None] or [1.0])
        top = nice_ceiling(vmax / 1e6)
        unit = units.get(w, "ops/s")
        title = w + (" (OpenSSL: has_matching)" if w == "resume" else "")
        o.append('<text x="%d" y="%d" text-anchor="middle" font-weight="bold">%s</text>'
                 % ((x0 + x1) // 2, py + 22, esc(title)))
        # axes
        o.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>'
                 % (x0, y0, x1, y0))
        o.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>'
                 % (x0, y0, x0, y1))
        for i in range(6):
            v = top * i / 5
            y = y0 - (y0 - y1) * i / 5
            o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>'
                     % (x0 + 1, y, x1, y) if i else "")
            o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="black"/>'
                     % (x0 - 4, y, x0, y))
            o.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>'
                     % (x0 - 7, y + 4, round(v, 3)))
        o.append('<text transform="translate(%d,%d) rotate(-90)" text-anchor="middle">'
                 'M %s</text>' % (px + 16, (y0 + y1) // 2, esc(unit)))
        o.append('<text x="%d" y="%d" text-anchor="middle">threads</text>'
                 % ((x0 + x1) // 2, y0 + 38))
        if not threads:
            o.append('<text x="%d" y="%d" text-anchor="middle">no data</text>'
                     % ((x0 + x1) // 2, (y0 + y1) // 2))
            continue
        gw = (x1 - x0) / len(threads)
        bw = gw * 0.3
        for ti, t in enumerate(threads):
            gx = x0 + gw * ti + gw / 2
            o.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>'
                     % (gx, y0 + 18, t))
            for li, lib in enumerate(LIBS):
                v = best.get((w, t, lib))
                bx = gx - bw + li * bw
                if v is None:
                    o.append('<text x="%.1f" y="%d" text-anchor="middle" '
                             'font-size="10">n/a</text>' % (bx + bw / 2, y0 - 4))
                    continue
                h = (y0 - y1) * (v / 1e6) / top
                o.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">'
                         '<title>%s, %d thread(s): %.0f %s</title></rect>'
                         % (bx, y0 - h, bw, h, COLOR[lib], LABEL[lib], t, v, esc(unit)))
                o.append('<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">'
                         '%.2f</text>' % (bx + bw / 2, y0 - h - 3, v / 1e6))
    o.append('</svg>')
    with open(path, "w") as f:
        f.write("\n".join(x for x in o if x) + "\n")


def print_table(layout, runs, rows, emulated):
    print("== %s layout: ratio = sesscache / OpenSSL of the medians of %d alternating run(s) "
          "per library; range: the ratios of single runs; 'better' says which direction wins"
          % (layout, runs))
    cols = ["workload", "threads", "unit", "OpenSSL", "sesscache", "ratio", "range", "better"]
    table = [cols]
    for w, t, u, o, s, ratio, lo, hi in rows:
        table.append([workload_label(w, emulated.get(w)), str(t), u, fmt(o, u), fmt(s, u),
                      "n/a" if ratio is None else "%.2fx" % ratio,
                      "" if lo is None else "%.2f-%.2f" % (lo, hi), better(w)])
    widths = [max(len(r[i]) for r in table) for i in range(len(cols))]
    for i, r in enumerate(table):
        cells = [c.ljust(widths[j]) if j in (0, 2, 7) else c.rjust(widths[j])
                 for j, c in enumerate(r)]
        print(" | ".join(cells).rstrip())
        if i == 0:
            print("-+-".join("-" * x for x in widths))
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--openssl", default="target/bench/bench_openssl")
    ap.add_argument("--sesscache", default="target/bench/bench_sesscache")
    ap.add_argument("--libdir", default="target/release",
                    help="directory holding libsesscache.so (LD_LIBRARY_PATH)")
    ap.add_argument("--outdir", default="target/bench")
    ap.add_argument("--runs", type=int, default=3,
                    help="runs per library and layout, alternating; the median is kept "
                         "(default 3)")
    ap.add_argument("--layouts", default="server,pooled",
                    help="comma-separated heap layouts, each run in turn (default "
                         "server,pooled); the first one's chart is throughput.svg")
    ap.add_argument("args", nargs=argparse.REMAINDER,
                    help="arguments for the benchmark binaries (after --)")
    a = ap.parse_args()
    args = a.args[1:] if a.args[:1] == ["--"] else a.args
    layouts = [x for x in a.layouts.split(",") if x]

    binaries = {"openssl": a.openssl, "sesscache": a.sesscache}
    samples, units = {}, {}
    emulated = {}
    ok = True
    runs = max(1, a.runs)
    # Alternate: each run of each layout, OpenSSL then sesscache, so that a slow spell of the
    # machine falls on both libraries.
    for r in range(runs):
        for layout in layouts:
            for lib in LIBS:
                res, good = run_one(lib, binaries[lib], a.libdir,
                                    args + ["--layout", layout])
                ok = ok and good
                for kv in res:
                    w, t, v = kv.get("workload"), kv["threads"], kv["value"]
                    if w is None:
                        continue
                    units[w] = kv.get("unit", "")
                    if lib == "openssl" and kv.get("emulated") == "1":
                        emulated[w] = True
                    samples.setdefault((layout, w, t, lib), []).append(v)
    # The median of the runs: the 2-thread figures of a lock-bound library jump between two
    # levels from run to run, and the best of a few runs would favour whichever got lucky.
    med = {k: statistics.median(v) for k, v in samples.items()}

    os.makedirs(a.outdir, exist_ok=True)
    csv_rows = []
    for li, layout in enumerate(layouts):
        rows = []
        keys = sorted({(k[1], k[2]) for k in med if k[0] == layout},
                      key=lambda k: (ORDER.index(k[0]) if k[0] in ORDER else 99, k[1]))
        for w, t in keys:
            o, s = med.get((layout, w, t, "openssl")), med.get((layout, w, t, "sesscache"))
            ratio = (s / o) if (o and s is not None) else None
            so = samples.get((layout, w, t, "openssl"), [])
            ss = samples.get((layout, w, t, "sesscache"), [])
            per_run = [y / x for x, y in zip(so, ss) if x]
            lo, hi = (min(per_run), max(per_run)) if per_run else (None, None)
            rows.append((w, t, units.get(w, ""), o, s, ratio, lo, hi))
            csv_rows.append((layout, w, t, units.get(w, ""), o, s, ratio, lo, hi, len(per_run)))
        print_table(layout, runs, rows, emulated)
        best = {(k[1], k[2], k[3]): v for k, v in med.items() if k[0] == layout}
        name = "throughput.svg" if li == 0 else "throughput-%s.svg" % layout
        write_svg(os.path.join(a.outdir, name), best, units, layout)

    csv_path = os.path.join(a.outdir, "results.csv")
    with open(csv_path, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["layout", "workload", "threads", "unit", "openssl", "sesscache",
                     "ratio_sesscache_over_openssl", "ratio_min", "ratio_max", "runs", "better",
                     "openssl_emulated"])
        for layout, w, t, u, o, s, ratio, lo, hi, n in csv_rows:
            g = lambda v, f: "" if v is None else f % v
            wr.writerow([layout, w, t, u, g(o, "%.6g"), g(s, "%.6g"), g(ratio, "%.4f"),
                         g(lo, "%.4f"), g(hi, "%.4f"), n, better(w),
                         "1" if emulated.get(w) else "0"])
    print("wrote %s and the charts in %s" % (csv_path, a.outdir))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
