#!/usr/bin/env python3
"""Reads the preload's statistics files (SESSCACHE_STATS=DIR, one `*.prom` file per process)
for the tests.

    stats.py files DIR           one line per file: pid, program, reason, exited
    stats.py sum DIR METRIC      METRIC summed over every file and context
    stats.py lines DIR|FILE      one key=value line per context (`ctx=1 live=1 number=0 ...`),
                                 then `redis timeout_ms=50 hits=...` in fleet mode
    stats.py check DIR           every file parses: comments, HELP and TYPE before each family,
                                 `name{labels} value` samples, the same HELP everywhere

Exits 1 with a message on stderr when a file does not parse.
"""
import glob
import os
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\} (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
HEADER = re.compile(r'^# sesscache preload statistics: (.*)$')
# The per-context metrics, in the order of the old key=value line, with the old key.
KEYS = [("context_live", "live"), ("sessions", "number"), ("connect_total", "connect"),
        ("connect_good_total", "connect_good"), ("connect_renegotiate_total", "connect_renegotiate"),
        ("accept_total", "accept"), ("accept_good_total", "accept_good"),
        ("accept_renegotiate_total", "accept_renegotiate"), ("hits_total", "hits"), ("cb_hits_total", "cb_hits"),
        ("misses_total", "misses"), ("timeouts_total", "timeouts"), ("cache_full_total", "cache_full"),
        ("cache_mode", "mode"), ("cache_size", "size"), ("timeout_seconds", "timeout")]
REDIS = ["hits", "misses", "stores", "deletes", "errors", "timeouts", "corrupt", "skipped", "redirects", "refreshes"]


def fail(msg):
    print(f"stats.py: {msg}", file=sys.stderr)
    sys.exit(1)


def parse(path, helps=None):
    """The header fields and the samples of one file: [(name, {labels}, value)]."""
    header, samples, families = {}, [], set()
    current, typed = None, False
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            where = f"{path}:{n}"
            m = HEADER.match(line)
            if m:
                header = dict(kv.split("=", 1) for kv in m.group(1).split())
            elif line.startswith("# HELP "):
                name, _, text = line[7:].partition(" ")
                if name in families:
                    fail(f"{where}: family {name} announced twice")
                families.add(name)
                if helps is not None and helps.setdefault(name, text) != text:
                    fail(f"{where}: HELP of {name} differs from another file's")
                current, typed = name, False
            elif line.startswith("# TYPE "):
                name, _, kind = line[7:].partition(" ")
                if name != current or kind not in ("counter", "gauge"):
                    fail(f"{where}: TYPE line out of place: {line}")
                typed = True
            elif line.startswith("#") or not line:
                continue
            else:
                m = SAMPLE.match(line)
                if not m or m.group(1) != current or not typed:
                    fail(f"{where}: not a sample of the announced family: {line}")
                labels = dict(LABEL.findall(m.group(2)))
                samples.append((m.group(1), labels, float(m.group(3))))
    if not header:
        fail(f"{path}: no header line")
    return header, samples


def files(target):
    if os.path.isdir(target):
        return sorted(glob.glob(os.path.join(target, "*.prom")))
    return [target]


def num(v):
    return str(int(v)) if v == int(v) else str(v)


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    cmd, target = sys.argv[1], sys.argv[2]
    paths = files(target)
    if cmd == "files":
        for p in paths:
            h, samples = parse(p)
            exited = [v for n, _, v in samples if n == "sesscache_process_exited"]
            print(f"pid={h.get('pid')} program={h.get('program')} reason={h.get('reason')} "
                  f"exited={num(exited[0]) if exited else '?'}")
    elif cmd == "sum":
        metric = sys.argv[3]
        print(num(sum(v for p in paths for n, _, v in parse(p)[1] if n == metric)))
    elif cmd == "lines":
        for p in paths:
            h, samples = parse(p)
            tail = f" pid={h.get('pid')} program={h.get('program')}"
            ctxs = {}
            for n, labels, v in samples:
                if "ctx" in labels:
                    ctxs.setdefault(labels["ctx"], {})[n[len("sesscache_"):]] = v
            for ctx, vals in ctxs.items():
                out = [f"ctx={ctx}"]
                for metric, key in KEYS:
                    if metric in vals:
                        v = vals[metric]
                        out.append(f"{key}=0x{int(v):x}" if key == "mode" else f"{key}={num(v)}")
                print(" ".join(out) + tail)
            redis = {n[len("sesscache_redis_"):]: v for n, _, v in samples if n.startswith("sesscache_redis_")}
            if redis:
                out = [f"redis timeout_ms={num(redis.get('timeout_seconds', 0) * 1000)}"]
                out += [f"{k}={num(redis[k + '_total'])}" for k in REDIS if k + "_total" in redis]
                print(" ".join(out) + tail)
    elif cmd == "check":
        helps = {}
        for p in paths:
            parse(p, helps)
        print(f"{len(paths)} files parse")
    else:
        fail(__doc__)


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        # A reader that stopped early (grep -q): not an error of ours.
        sys.stdout = None
        sys.exit(0)
