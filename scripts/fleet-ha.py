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

FLEET_HA_PIDS="PID_A PID_B" (optional; the servers' PIDs or their `timeout` wrappers'): a slow
handshake is printed with the time the server and this client spent on a CPU and runnable but
without one (/proc/PID/schedstat); what is left is time spent waiting (on Redis, or on the
other side), which tells a wait of the store from a stalled scheduler.

Timing (the rule of scripts/test.d/fleet-deadline.sh, on a 2-core virtual machine that others
share): a handshake's added time is its time less the median with everything up, less the
noise measured meanwhile (the hypervisor's steal from /proc/stat, which comes in 100 ms slices
here, and the server's and client's time runnable without a CPU, from /proc/PID/schedstat). In
each phase at most one handshake may add the bound or more; a lookup expected to hit that
missed is that one outlier only when its handshake shows it ran out of time (3/4 of the
bound), otherwise it fails the phase. A phase the test can repeat (a briefly stalled cluster
primary) is measured once more before it fails. A store that waits twice, or serves a live
primary's key wrong, fails every time.
"""
import binascii
import os
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
    return ok


def now_ms():
    return time.perf_counter() * 1000


def hs(port, session=None):
    """One handshake: (milliseconds, reused, session); reused is None when it failed."""
    t = now_ms()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            # The request below goes at once (no Nagle wait for the ACK of the last flight).
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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


def slot(k):
    """Redis Cluster's hash slot of a key without a hash tag (CRC16/XMODEM modulo 16384)."""
    return binascii.crc_hqx(k.encode(), 0) % 16384


def server_pid(pid):
    """The server under a `timeout` wrapper (its only child), or `pid` itself."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            if f.read().strip() != "timeout":
                return pid
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = f.read().split()
        return int(children[0]) if children else pid
    except OSError:
        return pid


def sched_ms(pid):
    """Milliseconds `pid` (its main thread) has spent on a CPU and runnable without one, or
    None."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            on, waiting = f.read().split()[:2]
            return int(on) / 1e6, int(waiting) / 1e6
    except (OSError, ValueError):
        return None


def steal_ms():
    """Milliseconds the machine's CPUs were taken by the hypervisor (steal, /proc/stat), or 0."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class Driver:
    def __init__(self, pa, pb, bound, ctl):
        self.pa, self.pb, self.bound, self.ctl_cmd = pa, pb, bound, ctl
        self.handshakes = {pa: 0, pb: 0}
        self.failed = 0
        self.up_median = 0.0
        pids = os.environ.get("FLEET_HA_PIDS", "").split()
        self.pids = {p: server_pid(int(x)) for p, x in zip((pa, pb), pids)}

    def ctl(self, *args, timeout=60):
        r = subprocess.run(self.ctl_cmd + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            print(f"ctl {' '.join(map(str, args))} failed: {r.stdout}{r.stderr}", flush=True)
            raise SystemExit(2)
        return r.stdout

    def hs(self, port, session=None):
        """One handshake: (ms, reused, session, noise), noise being the milliseconds the
        hypervisor took from the machine's CPUs and the server and this client spent runnable
        without a CPU meanwhile (an upper bound of what the machine, not the store, added)."""
        self.handshakes[port] += 1
        spid = self.pids.get(port)
        before, steal = (sched_ms(spid) if spid else None, sched_ms("self")), steal_ms()
        dt, reused, sess = hs(port, session)
        after, stolen = (sched_ms(spid) if spid else None, sched_ms("self")), steal_ms() - steal
        if reused is None:
            self.failed += 1
        waits = [b[1] - a[1] if a and b else 0.0 for a, b in zip(before, after)]
        noise = stolen + sum(waits)
        if self.up_median and dt - self.up_median > self.bound / 2:
            f = ["?/?" if a is None or b is None else f"{b[0] - a[0]:.0f}/{b[1] - a[1]:.0f}"
                 for a, b in zip(before, after)]
            print(f"  slow handshake with {'A' if port == self.pa else 'B'}: {dt:.1f} ms "
                  f"({'reused' if reused else 'new'}{', offered ' + key(session)[-8:] if session else ''}); "
                  f"ms on a CPU / runnable without one: server {f[0]}, client {f[1]}; "
                  f"stolen by the hypervisor: {stolen:.0f} ms", flush=True)
        return dt, reused, sess, noise

    def mint(self, n):
        out = []
        for _ in range(n):
            _, reused, s, _ = self.hs(self.pa)
            if s is not None and not reused:
                out.append(s)
        return out

    def round(self, sessions, port=None):
        """Offers each session once (to B, or to `port`); [(ms since start, key, reused, ms,
        port, noise)]."""
        res = []
        for s in sessions:
            t = now_ms()
            dt, reused, _, noise = self.hs(port or self.pb, s)
            res.append((t, key(s), reused, dt, port or self.pb, noise))
        return res

    def where(self):
        """Which primary (port) holds each key, per the control script's scan."""
        out = {}
        for line in self.ctl("scan").splitlines():
            port, k = line.split()
            out[k] = int(port)
        return out

    def slots_of(self, port):
        """The slots that the primary `port` serves, per `CTL nodes` (CLUSTER NODES)."""
        out = set()
        for line in self.ctl("nodes").splitlines():
            f = line.split()
            if len(f) > 8 and f[1].split("@")[0].rsplit(":", 1)[-1] == str(port):
                for r in f[8:]:
                    if not r.startswith("["):
                        a, _, b = r.partition("-")
                        out.update(range(int(a), int(b or a) + 1))
        return out

    def judge(self, results, expect, owner_of=lambda k: None):
        """The handshakes of a phase (in time order) against the timing rule; `expect(key)` is
        True (must hit), False (must miss) or None, `owner_of(key)` the server that holds it.
        Returns (wrong, outliers): lookups that went wrong without running out of time, and
        handshakes that added the bound or more besides the machine's measured noise (or ran out
        of time). A miss that ran out of time skips its server for the skip window, by design:
        the quick misses on that server (through the same process) within the window belong to
        that one outlier."""
        window = max(200.0, 2 * self.bound) + 100
        wrong, outliers, skipped_until = [], [], {}
        for x in results:
            added, e = x[3] - self.up_median, expect(x[1])
            where = (x[4], owner_of(x[1]))
            if e and not x[2] and added >= 0.75 * self.bound:
                outliers.append(x)
                skipped_until[where] = x[0] + x[3] + window
            elif e and not x[2] and x[0] <= skipped_until.get(where, -1.0):
                continue
            elif e is not None and bool(x[2]) != e:
                wrong.append(x)
            elif added - x[5] >= self.bound:
                outliers.append(x)
        return wrong, outliers

    def past_skip(self):
        """Seconds past a server's skip window (200 ms, or twice the bound)."""
        return max(0.2, 2 * self.bound / 1000) + 0.2

    def timing_ok(self, results, expect=lambda k: None, owner_of=lambda k: None):
        wrong, outliers = self.judge(results, expect, owner_of)
        return not wrong and len(outliers) <= 1

    def added(self, results):
        """The slowest and second slowest added times of `results`, less the machine's noise."""
        a = sorted((x[3] - self.up_median - x[5] for x in results), reverse=True) + [0.0, 0.0]
        return a[0], a[1]


def cluster(d):
    primaries = [int(p) for p in d.ctl("primaries").split()]
    p1, p2, p3 = primaries[:3]
    print(f"primaries: {len(primaries)}; the first and the third have a replica", flush=True)
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
    d.up_median = statistics.median(up)
    check(d.timing_ok(r, lambda k: True, owner.get),
          f"B resumes the 12 sessions of A ({sum(bool(x[2]) for x in r)}/12 reused), "
          f"keys per primary {[sum(1 for k in owner.values() if k == p) for p in primaries]}")
    print(f"handshakes with everything up: median {d.up_median:.1f} ms, slowest {max(up):.1f} ms", flush=True)

    # -- a stalled primary (SIGSTOP, shorter than cluster-node-timeout): its sessions miss within
    # the bound (one wait per skip window), every other session hits.
    def stalled_round():
        d.ctl("stop", p2)
        r = d.round(chosen) + d.round(chosen, d.pa)
        d.ctl("cont", p2)
        return r
    for attempt in (1, 2):
        r = stalled_round()
        expect = lambda k: owner[k] != p2  # noqa: E731
        stalled = [x for x in r if owner[x[1]] == p2]
        waited = [x for x in stalled if x[3] - d.up_median >= d.bound / 2]
        slow, second = d.added(r)
        print("primary stalled: handshakes (ms, in order; * a lookup on the stalled primary): "
              + " ".join(f"{x[3]:.0f}{'*' if owner[x[1]] == p2 else ''}" for x in r), flush=True)
        good = d.timing_ok(r, expect, owner.get) and waited
        if good or attempt == 2:
            break
        print("(a check of the stalled primary failed: measuring it once more)", flush=True)
        time.sleep(d.past_skip())
    wrong, outliers = d.judge(r, expect, owner.get)
    check(not wrong, f"primary stalled: its {len(stalled)} lookups miss, the other {len(r) - len(stalled)} hit "
          f"({len(wrong)} wrong)")
    check(len(outliers) <= 1, f"primary stalled: all handshakes but one added less than the bound "
          f"(the machine's measured noise aside: slowest +{slow:.1f} ms, next +{second:.1f} ms, bound {d.bound:.0f} ms)")
    check(bool(waited), f"primary stalled: the store met the stall ({len(waited)} lookups paid one wait)")
    stall_slow = max(x[3] for x in stalled)
    stall_net = d.added(stalled)[0]
    time.sleep(d.past_skip())
    r = d.round(chosen)
    check(d.timing_ok(r, lambda k: True, owner.get), "primary back: every session hits again")

    # -- slots migrated by hand while serving: half the keys moved (ASK), then the slots (MOVED).
    moving = [k for k, p in owner.items() if p == p1]
    d.ctl("migrate-start", p1, p2, *moving)
    r = d.round(chosen)
    check(d.timing_ok(r, lambda k: True, owner.get), f"slots migrating ({len(moving)} keys, half moved): every session hits (ASK)")
    d.ctl("migrate-finish", p1, p2, *moving)
    r = d.round(chosen) + d.round(chosen, d.pa)
    where = d.where()
    check(all(where.get(k) == p2 for k in moving), "the migrated keys are on their new primary")
    check(d.timing_ok(r, lambda k: True, owner.get), "slots migrated: every session hits (MOVED)")
    for k in moving:
        owner[k] = p2

    # -- redis-cli --cluster reshard running while sessions are minted and resumed.
    failed_before = d.failed
    proc = subprocess.Popen(d.ctl_cmd + ["reshard", str(p2), str(p1), "2000"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    rounds, log, t0 = 0, [], time.time()
    while rounds < 200 and time.time() - t0 < 90:
        fresh = d.mint(2)
        r = d.round(fresh) + d.round(chosen)
        log += r
        for x in r:
            if not x[2]:
                print(f"resharding: a miss ({'new' if x[1] in {key(s) for s in fresh} else 'shared'} session, "
                      f"{x[3]:.1f} ms, round {rounds}): {x[1]}", flush=True)
        rounds += 1
        if proc.poll() is not None and rounds >= 3:
            break
    proc.wait(timeout=60)
    check(proc.returncode == 0, f"redis-cli --cluster reshard moved 2000 slots in {time.time() - t0:.1f} s")
    # A key of the slots being moved is on p2 or already on p1: a wait on either skips the one
    # node that holds it now, so both count as its server here. The third primary's slots do not
    # move (a new session's key is placed by its slot).
    p3_slots = d.slots_of(p3)
    check(bool(p3_slots) and all(slot(k) in p3_slots for k, p in owner.items() if p == p3),
          f"the third primary's slots read from CLUSTER NODES ({len(p3_slots)})")
    moving_owner = lambda k: p3 if slot(k) in p3_slots else "p1/p2"  # noqa: E731
    wrong, outliers = d.judge(log, lambda k: True, moving_owner)
    for x in wrong:
        print(f"resharding: a miss not explained by time, {x[3]:.1f} ms: {x[1]}", flush=True)
    check(not wrong and len(outliers) <= 1 and d.failed == failed_before,
          f"resharding while serving: {rounds} rounds, {sum(1 for x in log if not x[2])} misses "
          f"({len(wrong)} not explained by time), {d.failed - failed_before} failed handshakes")
    where = d.where()
    owner = {key(s): where[key(s)] for s in chosen}

    # -- a primary killed (SIGKILL: refused at once), then another stalled (SIGSTOP: every lookup
    # that reaches it waits): its slots miss until its replica takes over, then hit again (the
    # replica has the sessions); the other slots hit throughout.
    figures = {}
    for name, primary, breaker in (("primary killed", p3, "kill"), ("primary stalled", p1, "stop")):
        figures[name] = cluster_failover(d, name, chosen, owner, primary, breaker)
        where = d.where()
        owner = {key(s): where.get(key(s)) for s in chosen}
    for name, f in figures.items():
        print(f"figures cluster, {name}: handshake with all up (median) {d.up_median:.1f} ms; slowest handshake "
              f"{f['slowest']:.1f} ms (+{f['slowest'] - d.up_median:.1f} ms; +{f['net']:.1f} ms without the machine's "
              f"measured noise; bound {d.bound:.0f} ms), slowest miss "
              f"{f['slowest_miss']:.1f} ms; its slots' miss window {f['miss_window']:.0f} ms (replica promoted after "
              f"{f['promoted_at']:.0f} ms, its sessions hit again after {f['back_at'] or 0:.0f} ms, new sessions shared "
              f"again after {f['new_back_at'] or 0:.0f} ms); the other slots: {f['kept_hits']}/{f['kept']} hits",
              flush=True)
    print(f"figures cluster, primary stalled briefly (SIGSTOP then SIGCONT): slowest handshake {stall_slow:.1f} ms "
          f"(+{stall_net:.1f} ms without the machine's measured noise)", flush=True)


def cluster_failover(d, name, chosen, owner, primary, breaker):
    """Breaks `primary` with `CTL breaker PORT` and offers the shared sessions until its
    sessions hit again (its replica promoted), at most 30 s; checks and returns the figures."""
    replica = int(d.ctl("replica-of", primary).strip())
    dead = [k for k, p in owner.items() if p == primary]
    d.ctl(breaker, primary)
    t0, log, back_at, promoted_at = now_ms(), [], None, None
    while now_ms() - t0 < 30000:
        # Both servers look up (a server learns of the new owner by failing on the old one).
        r = d.round(chosen) + d.round(chosen, d.pa)
        log += r
        if promoted_at is None and d.ctl("is-primary", replica).strip() == "yes":
            promoted_at = now_ms() - t0
        if all(x[2] for x in r if x[1] in dead):
            back_at = r[0][0] - t0
            break
    lost = [x for x in log if x[1] in dead]
    kept = [x for x in log if x[1] not in dead]
    missed = [x for x in lost if not x[2]]
    wrong, outliers = d.judge(log, lambda k: None if k in dead else True, owner.get)
    for x in wrong + outliers:
        print(f"{name}: {'a miss' if not x[2] else 'a slow hit'} {x[0] - t0:.0f} ms after, "
              f"({'its' if x[1] in dead else 'a live primary'}'s key), {x[3]:.1f} ms", flush=True)
    slow, second = d.added(log)
    check(bool(dead) and bool(missed), f"{name}: its sessions ({len(dead)}) miss meanwhile ({len(missed)} misses)")
    check(not wrong, f"{name}: the sessions of the other primaries hit ({sum(1 for x in kept if x[2])}/"
          f"{len(kept)} lookups)")
    check(len(outliers) <= 1, f"{name}: all handshakes but one added less than the bound "
          f"(the machine's measured noise aside: slowest +{slow:.1f} ms, next +{second:.1f} ms, bound {d.bound:.0f} ms)")
    if breaker == "stop":
        waited = [x for x in missed if x[3] - d.up_median >= d.bound / 2]
        check(bool(waited), f"{name}: the store met the stall ({len(waited)} lookups paid one wait)")
    check(back_at is not None, f"{name}: its replica promoted, its sessions hit again")
    # New sessions (minted on A, resumed on B).
    new_back_at = None
    while back_at is not None and now_ms() - t0 < 40000:
        fresh = d.mint(2)
        if len(fresh) == 2 and all(x[2] for x in d.round(fresh)):
            new_back_at = now_ms() - t0
            break
    fresh = d.mint(6)
    r = d.round(fresh)
    check(new_back_at is not None and len(fresh) == 6 and d.timing_ok(r, lambda k: True),
          f"{name}: new sessions are shared again (after {new_back_at or 0:.0f} ms), and then every one")
    return {
        "slowest": max(x[3] for x in log), "net": slow, "slowest_miss": max((x[3] for x in missed), default=0),
        "miss_window": (max(x[0] for x in missed) - t0) if missed else 0, "promoted_at": promoted_at or 0,
        "back_at": back_at, "new_back_at": new_back_at, "kept": len(kept),
        "kept_hits": sum(1 for x in kept if x[2]),
    }


def failover(d, name, minted, breaker):
    """Breaks the primary with `CTL breaker`, offers 4 earlier sessions and a new one in a loop
    until both kinds hit again; returns the figures and the log."""
    before = d.ctl("primary").strip()
    d.ctl(breaker)
    t0, log, back_at, new_back_at, named_at = now_ms(), [], None, None, None
    while now_ms() - t0 < 60000:
        if named_at is None and d.ctl("primary").strip() != before:
            named_at = now_ms() - t0
        r = d.round(minted[:4])
        log += r
        if back_at is None and all(x[2] for x in r):
            back_at = r[0][0] - t0
        fresh = d.mint(1)
        rr = d.round(fresh)
        log += rr
        if new_back_at is None and fresh and all(x[2] for x in rr):
            new_back_at = now_ms() - t0
        if back_at is not None and new_back_at is not None:
            break
        time.sleep(0.05)
    missed = [x for x in log if not x[2]]
    f = {
        "miss_window": (max(x[0] for x in missed) - t0) if missed else 0,
        "slowest": max(x[3] for x in log), "net": d.added(log)[0],
        "slowest_miss": max((x[3] for x in missed), default=0),
        "named_at": named_at or 0, "back_at": back_at, "new_back_at": new_back_at,
        "misses": len(missed), "lookups": len(log),
    }
    wrong, outliers = d.judge(log, lambda k: None)
    slow, second = d.added(log)
    print(f"{name}: {d.ctl('primary').strip()} is the primary now", flush=True)
    check(bool(missed), f"{name}: lookups miss meanwhile ({len(missed)} of {len(log)})")
    check(len(outliers) <= 1, f"{name}: all handshakes but one added less than the bound "
          f"(the machine's measured noise aside: slowest +{slow:.1f} ms, next +{second:.1f} ms, bound {d.bound:.0f} ms)")
    check(back_at is not None, f"{name}: the earlier sessions hit again afterwards (the replica had them)")
    check(new_back_at is not None, f"{name}: new sessions are stored and resumed again afterwards")
    return f, log


def sentinel(d):
    minted = d.mint(12)
    r = d.round(minted)
    d.up_median = statistics.median(x[3] for x in r)
    check(len(minted) == 12 and d.timing_ok(r, lambda k: True),
          f"B resumes the 12 sessions of A through the primary ({sum(bool(x[2]) for x in r)}/12)")
    # -- the primary killed (refused at once), then the new one stalled (SIGSTOP: every lookup
    # that reaches it waits): lookups miss within the bound until the sentinels have promoted a
    # replica; then the sessions (replicated) hit again and new sessions are shared.
    figures = {}
    for name, breaker in (("primary killed", "kill-primary"), ("primary stalled", "stop-primary")):
        d.ctl("wait-replicated")
        failed_before = d.failed
        figures[name], log = failover(d, name, minted, breaker)
        if name == "primary stalled":
            waited = [x for x in log if not x[2] and x[3] - d.up_median >= d.bound / 2]
            check(bool(waited), f"{name}: the store met the stall ({len(waited)} lookups paid one wait)")
        check(d.failed == failed_before, f"{name}: no failed handshake ({d.failed - failed_before})")
    for name, f in figures.items():
        print(f"figures sentinel, {name}: handshake with all up (median) {d.up_median:.1f} ms; slowest handshake "
              f"{f['slowest']:.1f} ms (+{f['slowest'] - d.up_median:.1f} ms; +{f['net']:.1f} ms without the machine's "
              f"measured noise; bound {d.bound:.0f} ms), slowest miss "
              f"{f['slowest_miss']:.1f} ms; miss window {f['miss_window']:.0f} ms (the sentinels named the replica "
              f"after {f['named_at']:.0f} ms); earlier sessions hit again after {f['back_at'] or 0:.0f} ms, new "
              f"sessions shared again after {f['new_back_at'] or 0:.0f} ms", flush=True)


def main():
    scenario, pa, pb, bound = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    d = Driver(pa, pb, bound, sys.argv[5:])
    {"cluster": cluster, "sentinel": sentinel}[scenario](d)
    print(f"handshakes: A {d.handshakes[pa]}, B {d.handshakes[pb]}", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
