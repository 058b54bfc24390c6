#!/usr/bin/env python3
"""Count the instructions one cache operation executes, for OpenSSL and sesscache.

Timings on a shared virtual machine swing by tens of percent from run to run; instruction
counts do not. This runs both benchmark binaries under callgrind, counting only inside the
measured call, and prints instructions per call:

    add (fill)      SSL_CTX_add_session into a growing cache, no eviction
    churn           at capacity, SSL_CTX_add_session (one eviction each) and the
                    caller's SSL_SESSION_free, with the benchmark loop around them
    lookup          SSL_has_matching_session_id (hits), with the loop and id choice

Instructions are not time: a cache miss costs hundreds of them. Use this to see whether a
change made the code path shorter, and `make bench` for what it does to throughput.

    bench/count.py --openssl BIN --sesscache BIN --libdir DIR [--sessions N]

Python 3 standard library only; needs valgrind.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

# (label, bench arguments, function counted, how many calls the run makes)
OPS = [
    ("add (fill)", ["--only", "fill", "--reps", "1"], "SSL_CTX_add_session", "sessions"),
    # The worker thread only: the untimed filling before it is left out.
    ("churn (add + free)", ["--only", "churn", "--threads", "1", "--seconds", "0.2"],
     "worker_main", "churn"),
    ("lookup (hit)", ["--only", "lookup", "--threads", "1", "--seconds", "0.2"],
     "worker_main", "lookup"),
]


def callgrind(binary, args, func, env):
    """Total instructions inside `func` and the benchmark's stderr."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        cmd = ["valgrind", "--tool=callgrind", "--toggle-collect=" + func,
               "--callgrind-out-file=" + out, binary] + args
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        if p.returncode != 0:
            sys.stderr.write(p.stderr)
            sys.exit("count.py: %s failed (exit %d)" % (" ".join(cmd), p.returncode))
        total = None
        with open(out) as f:
            for line in f:
                m = re.match(r"(?:summary|totals):\s+(\d+)", line)
                if m:
                    total = int(m.group(1))
        if total is None:
            sys.exit("count.py: no instruction total in callgrind's output")
        return total, p.stderr


def calls(kind, sessions, stderr):
    """The number of measured calls: N for the fill, else the ops the run reports."""
    if kind == "sessions":
        return sessions
    m = re.search(r"# %s T=1: .*\((\d+) ops in" % kind, stderr)
    if not m:
        sys.exit("count.py: no op count for %s in the benchmark's output" % kind)
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--openssl", required=True)
    ap.add_argument("--sesscache", required=True)
    ap.add_argument("--libdir", required=True)
    ap.add_argument("--sessions", type=int, default=20000,
                    help="cached sessions (default 20000: valgrind runs ~50x slower)")
    a = ap.parse_args()

    base = dict(os.environ)
    ours = dict(os.environ)
    old = ours.get("LD_LIBRARY_PATH")
    ours["LD_LIBRARY_PATH"] = os.path.abspath(a.libdir) + (":" + old if old else "")
    runs = [("OpenSSL", a.openssl, base), ("sesscache", a.sesscache, ours)]

    print("instructions per operation, counted by callgrind; %d sessions"
          % a.sessions)
    print("%-22s | %12s | %12s | %6s" % ("operation", "OpenSSL", "sesscache", "ratio"))
    print("-" * 23 + "+" + "-" * 14 + "+" + "-" * 14 + "+" + "-" * 7)
    for label, args, func, kind in OPS:
        per = []
        for _, binary, env in runs:
            total, err = callgrind(binary, args + ["--sessions", str(a.sessions)], func, env)
            per.append(total / calls(kind, a.sessions, err))
        print("%-22s | %12.0f | %12.0f | %5.2fx" % (label, per[0], per[1], per[1] / per[0]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
