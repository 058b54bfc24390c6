#!/usr/bin/env python3
"""Count what one cache operation costs, for OpenSSL and sesscache: instructions and simulated
cache misses, which repeat exactly from run to run where timings on a shared machine swing.

Runs both benchmark binaries under callgrind with its cache simulator, counting only inside
the library's own calls (the harness's allocations and the benchmark's loop are simulated, so
they evict what a server's would, but not counted), and prints per operation:

    Ir    instructions
    D1r   first-level data-cache read misses: lines the operation read that were not already
          in the core's L1 (they came from L2, L3 or memory)
    LLr   last-level read misses: lines read from memory, the ones a core waits for (the
          simulated LL is this machine's L3 unless --LL says otherwise; a shared VM gets less
          of it than it reports: bench/chase.c measures where memory latency starts)
    LLw   last-level write misses: lines written that were not cached, mostly fresh memory
          (new table segments, new sessions); the store buffer hides most of their cost

for these operations (default: the server layout, 100,000 sessions):

    fill step       SSL_SESSION_new + set1_id/version/time/timeout (harness.c's lib_create),
                    SSL_CTX_add_session into a growing cache and SSL_SESSION_free of the
                    caller's reference (lib_add)
    churn step      the same at capacity (each add evicts one); the run first fills the
                    cache with the same calls, so the fill run's counts are subtracted
    lookup hit      SSL_has_matching_session_id
    resume          sesscache: sesscache_handshake_start + sesscache_server_lookup (returns the
                    session); OpenSSL (no public call returns it): SSL_has_matching_session_id,
                    then SSL_SESSION_up_ref of that session, the version, sid_ctx and expiry
                    checks, and the free of the session the SSL held (harness.c's lib_resume)

    bench/count.py --openssl BIN --sesscache BIN --libdir DIR [--sessions N] [--layout L]
                   [--LL size,assoc,line]

Python 3 standard library only; needs valgrind.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

# The benchmark's out-of-line wrappers around the library's calls (harness.c, lib_*): counting
# is toggled on entry to and exit from them, so they must not nest.
ADD = ["lib_create", "lib_add"]
# (label, bench arguments, counted functions, how many operations the run makes)
OPS = [
    ("fill step", ["--only", "fill", "--reps", "1"], ADD, "sessions"),
    ("churn step", ["--only", "churn", "--threads", "1", "--seconds", "0.05"], ADD, "churn"),
    ("lookup hit", ["--only", "lookup", "--threads", "1", "--seconds", "0.2"], ["lib_lookup"],
     "lookup"),
    ("resume", ["--only", "resume", "--threads", "1", "--seconds", "0.2"], ["lib_resume"],
     "resume"),
]
EVENTS = ("Ir", "D1r", "LLr", "LLw")


def callgrind(binary, args, funcs, env, ll):
    """Ir, D1 and LL misses inside `funcs`, and the benchmark's stderr."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        cmd = ["valgrind", "--tool=callgrind", "--cache-sim=yes", "--collect-atstart=no",
               "--callgrind-out-file=" + out]
        if ll:
            cmd.append("--LL=" + ll)
        cmd += ["--toggle-collect=" + f for f in funcs] + [binary] + args
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        if p.returncode != 0:
            sys.stderr.write(p.stderr)
            sys.exit("count.py: %s failed (exit %d)" % (" ".join(cmd), p.returncode))
        names, total = None, None
        with open(out) as f:
            for line in f:
                if line.startswith("events:"):
                    names = line.split()[1:]
                m = re.match(r"(?:summary|totals):\s+(.*)", line)
                if m:
                    total = [int(x) for x in m.group(1).split()]
        if names is None or total is None:
            sys.exit("count.py: no totals in callgrind's output")
        v = dict(zip(names, total + [0] * (len(names) - len(total))))
        return {"Ir": v.get("Ir", 0), "D1r": v.get("D1mr", 0), "LLr": v.get("DLmr", 0),
                "LLw": v.get("DLmw", 0)}, p.stderr


def calls(kind, sessions, stderr):
    """The number of measured operations: N for the fill, else the ops the run reports."""
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
    ap.add_argument("--sessions", type=int, default=100000)
    ap.add_argument("--layout", default="server")
    ap.add_argument("--LL", default="", help="simulated last-level cache: size,assoc,line")
    a = ap.parse_args()

    base = dict(os.environ)
    ours = dict(os.environ)
    old = ours.get("LD_LIBRARY_PATH")
    ours["LD_LIBRARY_PATH"] = os.path.abspath(a.libdir) + (":" + old if old else "")
    runs = [("OpenSSL", a.openssl, base), ("sesscache", a.sesscache, ours)]

    print("per operation, counted by callgrind's cache simulator; %d sessions, %s layout%s"
          % (a.sessions, a.layout, "; LL " + a.LL if a.LL else ""))
    head = " / ".join(EVENTS)
    print("%-12s | %-30s | %-30s" % ("", "OpenSSL " + head, "sesscache " + head))
    print("-" * 13 + "+" + "-" * 32 + "+" + "-" * 31)
    fill = {}
    for label, args, funcs, kind in OPS:
        per = []
        for i, (_, binary, env) in enumerate(runs):
            full = args + ["--sessions", str(a.sessions), "--layout", a.layout]
            v, err = callgrind(binary, full, funcs, env, a.LL)
            n = calls(kind, a.sessions, err)
            if kind == "sessions":
                fill[i] = v
            elif kind == "churn":
                v = {e: v[e] - fill[i][e] for e in EVENTS}
            per.append(["%.0f" % (v["Ir"] / n)] + ["%.2f" % (v[e] / n) for e in EVENTS[1:]])
        print("%-12s | %-30s | %-30s" % (label, " / ".join(per[0]), " / ".join(per[1])))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
