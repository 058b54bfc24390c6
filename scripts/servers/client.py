#!/usr/bin/env python3
"""A TLS client for the server matrix (never run under the preload).

Makes CHAINS chains of LENGTH connections per protocol; each connection after the first of a
chain offers the session the one before it ended with (as a browser does), sends
"GET / HTTP/1.0" and reads the reply to the end. The server's reply ends with a line naming
the process that served it (nginx: "$pid $ssl_session_reused"), or "-" when it has none.

Connection i of a chain goes to TARGETS[i % len(TARGETS)]. With --between CMD, the chains
stop halfway, CMD runs (an nginx reload), and they go on with the same sessions.

It prints, per protocol, one summary line that must not depend on which worker happened to
accept which connection, then a `totals` line for the stats checks:

    tls1.2: 18 conns, 15 offers, reuse as predicted (same-worker), server agrees
    totals connections=36 reused=20 pids=101,102

--predict says when an offered session must be resumed: `always`, `never`, or `same-worker`
(a per-process cache: resumed exactly when the process that issued the session serves the
connection).
"""
import argparse
import socket
import ssl
import subprocess
import sys


def connect(target, ctx, session):
    host, port = target.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                if len(data) > 1 << 20:
                    raise RuntimeError("reply too long")
            lines = data.decode("latin-1").rstrip("\n").split("\n")
            reply = lines[-1].strip() if lines else ""
            return s.session_reused, s.session, reply


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("targets", nargs="+", help="host:port")
    ap.add_argument("--protocols", default="1.2,1.3")
    ap.add_argument("--chains", type=int, default=3)
    ap.add_argument("--length", type=int, default=4)
    ap.add_argument("--predict", choices=["always", "never", "same-worker"], default="always")
    ap.add_argument("--between", help="a shell command run halfway through every chain")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    args.protocols = args.protocols.split(",")
    versions = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
    # Every chain runs its first half, then --between runs once, then the second halves: one
    # reload splits every chain of every protocol.
    states = [make_state(args, versions[p], f"tls{p}") for p in args.protocols]
    half = args.length // 2 if args.between else args.length
    for st in states:
        advance(args, st, 0, half)
    if args.between:
        subprocess.run(args.between, shell=True, check=True, timeout=60)
        for st in states:
            advance(args, st, half, args.length)
    for st in states:
        print(summarize(args, st))
    conns = sum(st["conns"] for st in states)
    reused = sum(st["reused"] for st in states)
    pids = sorted(set().union(*(st["pids"] for st in states)))
    print(f"totals connections={conns} reused={reused} pids={','.join(pids)}")


def make_state(args, version, name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    return {
        "name": name, "ctx": ctx, "chains": [{"session": None, "issuer": None} for _ in range(args.chains)],
        "conns": 0, "offered": 0, "reused": 0, "mispredicted": [], "disagree": [], "pids": set(),
    }


def advance(args, st, start, stop):
    for i in range(start, stop):
        for c, ch in enumerate(st["chains"]):
            target = args.targets[i % len(args.targets)]
            offer = ch["session"] is not None
            r, sess, reply = connect(target, st["ctx"], ch["session"])
            words = reply.split()
            pid = words[0] if words and words[0] != "-" else None
            served = f"{target}/{pid}" if pid else target
            if pid:
                st["pids"].add(pid)
            # nginx's $ssl_session_reused is "r" or "."; others may say 1 or 0.
            if len(words) > 1 and words[1] in (".", "r", "0", "1") and (words[1] in ("r", "1")) != r:
                st["disagree"].append(f"chain {c} step {i}")
            st["conns"] += 1
            st["offered"] += offer
            st["reused"] += r
            if offer:
                want = {"always": True, "never": False, "same-worker": served == ch["issuer"]}[args.predict]
                if want != r:
                    st["mispredicted"].append(f"chain {c} step {i} reused={int(r)}")
            elif r:
                st["mispredicted"].append(f"chain {c} step {i} reused without an offer")
            ch["session"], ch["issuer"] = sess, served
            if args.verbose:
                print(f"{st['name']} chain={c} step={i} target={target} offered={int(offer)} reused={int(r)} "
                      f"reply={reply!r}", file=sys.stderr)


def summarize(args, st):
    pred = "as predicted" if not st["mispredicted"] else "NOT as predicted: " + "; ".join(st["mispredicted"][:4])
    agree = "server agrees" if not st["disagree"] else "server DISAGREES: " + "; ".join(st["disagree"][:4])
    reused = f", {st['reused']} reused" if args.predict != "same-worker" else ""
    return f"{st['name']}: {st['conns']} conns, {st['offered']} offers{reused}, reuse {pred} ({args.predict}), {agree}"


if __name__ == "__main__":
    main()
