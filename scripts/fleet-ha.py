#!/usr/bin/env python3
"""The client side of the Redis Cluster and Sentinel tests (scripts/test.d/fleet-cluster.sh,
fleet-sentinel.sh): TLS 1.2 handshakes, timed one by one, against two `openssl s_server
-no_ticket` processes A and B under the preload that share sessions through Redis only
(SESSCACHE_MODE=server|no_internal_store, so that every resumption is a Redis lookup).

    fleet-ha.py cluster  PORT_A PORT_B BOUND_MS CTL...
    fleet-ha.py sentinel PORT_A PORT_B BOUND_MS CTL...

CTL is the test's control script (a command and its arguments); this driver runs it to look
at Redis and to break it (`CTL scan`, `CTL kill PORT`, ...). Sessions are minted on A and
offered to B (and A): a lookup that hits gives "Reused". Prints "ok: ..." and "FAILED: ..."
lines and the measured figures; exits 1 when a check failed. Every loop is bounded.
"""
import socket
import ssl
import statistics
import subprocess
import sys
import time

SID_CTX = "01000000"  # s_server's session-id context (the int 1), hex
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
failures = 0


def check(ok, what):
    global failures
    print(("ok: " if ok else "FAILED: ") + what, flush=True)
    if not ok:
        failures += 1


def now_ms():
    return time.perf_counter() * 1000


def hs(port, session=None):
    """One handshake: (milliseconds, reused, session); reused is None when it failed."""
    t = now_ms()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            s = ctx.wrap_socket(raw, session=session)
            dt = now_ms() - t
            reused, sess = s.session_reused, s.session
            # A request and its whole answer: the server ends the connection cleanly (a client
            # that just closes makes libssl drop the session as after a failure).
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            while s.recv(65536):
                pass
            s.close()
            return dt, reused, sess
    except (OSError, ssl.SSLError) as e:
        print(f"handshake with {port} failed: {e}", flush=True)
        return now_ms() - t, None, None


def key(sess):
    return f"sesscache:{SID_CTX}:{sess.id.hex()}"


class Driver:
    def __init__(self, pa, pb, bound, ctl):
        self.pa, self.pb, self.bound, self.ctl_cmd = pa, pb, bound, ctl
        self.handshakes = {pa: 0, pb: 0}
        self.failed = 0

    def ctl(self, *args, timeout=60):
        r = subprocess.run(self.ctl_cmd + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            print(f"ctl {' '.join(map(str, args))} failed: {r.stdout}{r.stderr}", flush=True)
            raise SystemExit(2)
        return r.stdout

    def hs(self, port, session=None):
        self.handshakes[port] += 1
        dt, reused, sess = hs(port, session)
        if reused is None:
            self.failed += 1
        return dt, reused, sess

    def mint(self, n):
        out = []
        for _ in range(n):
            _, reused, s = self.hs(self.pa)
            if s is not None and not reused:
                out.append(s)
        return out

    def round(self, sessions, port=None):
        """Offers each session once (to B, or to `port`); [(ms since start, key, reused, ms)]."""
        res = []
        for s in sessions:
            t = now_ms()
            dt, reused, _ = self.hs(port or self.pb, s)
            res.append((t, key(s), reused, dt))
        return res

    def where(self):
        """Which primary (port) holds each key, per the control script's scan."""
        out = {}
        for line in self.ctl("scan").splitlines():
            port, k = line.split()
            out[k] = int(port)
        return out


def cluster(d):
    primaries = [int(p) for p in d.ctl("primaries").split()]
    p1, p2, p3 = primaries[:3]
    replica = int(d.ctl("replica").strip())
    print(f"primaries: {len(primaries)}; the third has a replica", flush=True)
    # -- share: 30 sessions minted on A, 12 of them (at least 2 per primary) resumed on B.
    minted = d.mint(30)
    where = d.where()
    by_node = {p: [s for s in minted if where.get(key(s)) == p] for p in primaries}
    counts = {p: len(v) for p, v in by_node.items()}
    check(len(minted) == 30 and all(key(s) in where for s in minted),
          f"30 sessions minted on A, each key on one primary ({sorted(counts.values())})")
    check(all(c >= 2 for c in counts.values()), "the keys land on every primary")
    chosen = []
    for p in primaries:
        chosen += by_node[p][:2]
    chosen += [s for s in minted if s not in chosen][: 12 - len(chosen)]
    owner = {key(s): where[key(s)] for s in chosen}
    r = d.round(chosen)
    up = [x[3] for x in r]
    up_median = statistics.median(up)
    check(all(x[2] for x in r), f"B resumes the 12 sessions of A ({sum(bool(x[2]) for x in r)}/12 reused), "
          f"keys per primary {[sum(1 for k in owner.values() if k == p) for p in primaries]}")
    print(f"handshakes with everything up: median {up_median:.1f} ms, slowest {max(up):.1f} ms", flush=True)

    # -- a stalled primary (SIGSTOP, shorter than cluster-node-timeout): its sessions miss within
    # the bound, every other session hits.
    d.ctl("stop", p2)
    r = d.round(chosen) + d.round(chosen, d.pa)
    d.ctl("cont", p2)
    stalled = [x for x in r if owner[x[1]] == p2]
    others = [x for x in r if owner[x[1]] != p2]
    slow = max(x[3] for x in stalled)
    print("primary stalled: handshakes (ms, in order; * a lookup on the stalled primary): "
          + " ".join(f"{x[3]:.0f}{'*' if owner[x[1]] == p2 else ''}" for x in r), flush=True)
    check(all(x[2] is False for x in stalled) and all(x[2] for x in others),
          f"primary stalled: its {len(stalled)} lookups miss, the other {len(others)} hit")
    check(slow - up_median < d.bound, f"primary stalled: slowest handshake {slow:.1f} ms (+{slow - up_median:.1f} ms, "
          f"bound {d.bound:.0f} ms)")
    time.sleep(0.5)  # past the node's skip window
    r = d.round(chosen)
    check(all(x[2] for x in r), "primary back: every session hits again")

    # -- slots migrated by hand while serving: half the keys moved (ASK), then the slots (MOVED).
    moving = [k for k, p in owner.items() if p == p1]
    d.ctl("migrate-start", p1, p2, *moving)
    r = d.round(chosen)
    check(all(x[2] for x in r), f"slots migrating ({len(moving)} keys, half moved): every session hits (ASK)")
    d.ctl("migrate-finish", p1, p2, *moving)
    r = d.round(chosen) + d.round(chosen, d.pa)
    where = d.where()
    check(all(where.get(k) == p2 for k in moving), "the migrated keys are on their new primary")
    check(all(x[2] for x in r), "slots migrated: every session hits (MOVED)")
    for k in moving:
        owner[k] = p2

    # -- redis-cli --cluster reshard running while sessions are minted and resumed.
    proc = subprocess.Popen(d.ctl_cmd + ["reshard", str(p2), str(p1), "2000"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    rounds, misses, t0 = 0, 0, time.time()
    while rounds < 200 and time.time() - t0 < 90:
        fresh = d.mint(2)
        r = d.round(fresh) + d.round(chosen)
        for x in r:
            if not x[2]:
                print(f"resharding: a miss ({'new' if x[1] in {key(s) for s in fresh} else 'shared'} session, "
                      f"{x[3]:.1f} ms, round {rounds}): {x[1]}", flush=True)
        misses += sum(1 for x in r if not x[2])
        rounds += 1
        if proc.poll() is not None and rounds >= 3:
            break
    proc.wait(timeout=60)
    check(proc.returncode == 0, f"redis-cli --cluster reshard moved 2000 slots in {time.time() - t0:.1f} s")
    check(misses == 0 and d.failed == 0, f"resharding while serving: {rounds} rounds, {misses} misses, "
          f"{d.failed} failed handshakes")
    where = d.where()
    owner = {key(s): where[key(s)] for s in chosen}

    # -- a primary killed (SIGKILL): its slots miss until its replica takes over, then hit again
    # (the replica has the sessions); the other slots hit throughout.
    dead = [k for k, p in owner.items() if p == p3]
    d.ctl("kill", p3)
    t_kill, log, back_at, promoted_at = now_ms(), [], None, None
    while now_ms() - t_kill < 30000:
        r = d.round(chosen)
        log += r
        if promoted_at is None and d.ctl("is-primary", replica).strip() == "yes":
            promoted_at = now_ms() - t_kill
        if all(x[2] for x in r if x[1] in dead):
            back_at = r[0][0] - t_kill
            break
    lost = [x for x in log if x[1] in dead]
    kept = [x for x in log if x[1] not in dead]
    missed = [x for x in lost if not x[2]]
    miss_window = (max(x[0] for x in missed) - t_kill) if missed else 0
    slowest = max(x[3] for x in log)
    for x in kept:
        if not x[2]:
            print(f"a miss on a live primary ({owner[x[1]]}) {x[0] - t_kill:.0f} ms after the kill, "
                  f"{x[3]:.1f} ms: {x[1]}", flush=True)
    check(bool(dead) and bool(missed), f"primary killed: its sessions ({len(dead)}) miss meanwhile ({len(missed)} misses)")
    check(all(x[2] for x in kept), f"primary killed: the sessions of the other primaries all hit ({len(kept)} lookups)")
    check(slowest - up_median < d.bound, f"primary killed: slowest handshake {slowest:.1f} ms "
          f"(+{slowest - up_median:.1f} ms, bound {d.bound:.0f} ms)")
    check(back_at is not None, "replica promoted: the dead primary's sessions hit again")
    fresh = d.mint(6)
    r = d.round(fresh)
    check(len(fresh) == 6 and all(x[2] for x in r), "after the failover new sessions are shared")
    print(f"figures cluster: handshake with all up (median) {up_median:.1f} ms; primary killed: slowest handshake "
          f"{slowest:.1f} ms (+{slowest - up_median:.1f} ms, bound {d.bound:.0f} ms), slowest miss "
          f"{max((x[3] for x in missed), default=0):.1f} ms; its slots' miss window {miss_window:.0f} ms "
          f"(replica promoted after {promoted_at or 0:.0f} ms, its sessions hit again after {back_at or 0:.0f} ms); "
          f"the other slots: {sum(1 for x in kept if x[2])}/{len(kept)} hits; stalled primary: slowest handshake "
          f"{slow:.1f} ms", flush=True)


def sentinel(d):
    minted = d.mint(12)
    r = d.round(minted)
    up = [x[3] for x in r]
    up_median = statistics.median(up)
    check(len(minted) == 12 and all(x[2] for x in r), f"B resumes the 12 sessions of A through the primary "
          f"({sum(bool(x[2]) for x in r)}/12)")
    d.ctl("wait-replicated")
    # -- the primary killed: lookups miss within the bound until the sentinels have promoted the
    # replica; then the sessions (replicated) hit again and new sessions are shared.
    before = d.ctl("primary").strip()
    d.ctl("kill-primary")
    t_kill, log, back_at, new_back_at, promoted_at = now_ms(), [], None, None, None
    while now_ms() - t_kill < 60000:
        if promoted_at is None and d.ctl("primary").strip() != before:
            promoted_at = now_ms() - t_kill
        r = d.round(minted[:4])
        log += r
        if back_at is None and all(x[2] for x in r):
            back_at = r[0][0] - t_kill
        fresh = d.mint(1)
        rr = d.round(fresh)
        log += rr
        if new_back_at is None and fresh and all(x[2] for x in rr):
            new_back_at = now_ms() - t_kill
        if back_at is not None and new_back_at is not None:
            break
        time.sleep(0.05)
    missed = [x for x in log if not x[2]]
    miss_window = (max(x[0] for x in missed) - t_kill) if missed else 0
    slowest = max(x[3] for x in log)
    print(f"failover: {d.ctl('primary').strip()} is the primary now", flush=True)
    check(bool(missed), f"primary killed: lookups miss meanwhile ({len(missed)} of {len(log)})")
    check(slowest - up_median < d.bound, f"primary killed: slowest handshake {slowest:.1f} ms "
          f"(+{slowest - up_median:.1f} ms, bound {d.bound:.0f} ms)")
    check(back_at is not None, "after the failover the earlier sessions hit again (the replica had them)")
    check(new_back_at is not None, "after the failover new sessions are stored and resumed again")
    check(d.failed == 0, f"no failed handshake ({d.failed})")
    print(f"figures sentinel: handshake with all up (median) {up_median:.1f} ms; primary killed: slowest handshake "
          f"{slowest:.1f} ms (+{slowest - up_median:.1f} ms, bound {d.bound:.0f} ms), slowest miss "
          f"{max((x[3] for x in missed), default=0):.1f} ms; miss window {miss_window:.0f} ms (the sentinels named the "
          f"replica after {promoted_at or 0:.0f} ms); earlier sessions hit again after {back_at or 0:.0f} ms, new "
          f"sessions shared again after {new_back_at or 0:.0f} ms", flush=True)


def main():
    scenario, pa, pb, bound = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    d = Driver(pa, pb, bound, sys.argv[5:])
    {"cluster": cluster, "sentinel": sentinel}[scenario](d)
    print(f"handshakes: A {d.handshakes[pa]}, B {d.handshakes[pb]}", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
