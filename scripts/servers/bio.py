#!/usr/bin/env python3
"""CPython's ssl module in memory: a server and a client context talking through
ssl.MemoryBIO pairs (ssl.SSLObject, no sockets).

For TLS 1.2 and 1.3, with and without session tickets, a chain of 4 connections: the first
makes a full handshake, each later one offers the session the one before ended with. Each
connection exchanges data (which delivers TLS 1.3 tickets) and shuts down cleanly. Prints the
reuse seen by client and server, then both contexts' session_stats(). The output must not
change under the preload.

usage: bio.py CERT KEY
"""
import os
import ssl
import sys

CONNECTIONS = 4


def move(src, dst):
    data = src.read()
    if data:
        dst.write(data)
    return bool(data)


def step(fn):
    """Runs one SSLObject call; False when it waits for the peer."""
    try:
        fn()
        return True
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
        return False


class Pair:
    def __init__(self, sctx, cctx, session):
        self.s_in, self.s_out, self.c_in, self.c_out = (ssl.MemoryBIO() for _ in range(4))
        self.server = sctx.wrap_bio(self.s_in, self.s_out, server_side=True)
        self.client = cctx.wrap_bio(self.c_in, self.c_out, server_hostname="localhost", session=session)

    def pump(self):
        return move(self.c_out, self.s_in) | move(self.s_out, self.c_in)

    def until(self, what, *calls):
        for _ in range(100):
            done = all([step(c) for c in calls])
            moved = self.pump()
            if done and not moved:
                return
        raise RuntimeError(f"no progress: {what}")

    def run(self):
        self.until("handshake", self.client.do_handshake, self.server.do_handshake)
        self.server.write(b"ping")
        self.pump()
        got = b""
        for _ in range(10):
            try:
                got += self.client.read(4)
            except ssl.SSLWantReadError:
                self.pump()
            if got == b"ping":
                break
        self.client.write(b"pong")
        self.pump()
        assert self.server.read(4) == b"pong"
        self.until("shutdown", self.client.unwrap, self.server.unwrap)
        return self.client.session_reused, self.server.session_reused, self.client.session


def case(version, tickets):
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(sys.argv[1], sys.argv[2])
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    for c in (sctx, cctx):
        c.minimum_version = c.maximum_version = version
    if not tickets:
        sctx.options |= ssl.OP_NO_TICKET
    session = None
    reuse = []
    for _ in range(CONNECTIONS):
        c, s, session = Pair(sctx, cctx, session).run()
        reuse.append(f"{int(c)}{int(s)}")
    name = {ssl.TLSVersion.TLSv1_2: "tls1.2", ssl.TLSVersion.TLSv1_3: "tls1.3"}[version]
    print(f"{name} tickets={'on' if tickets else 'off'}: reused (client, server) {' '.join(reuse)}")
    for who, ctx in (("server", sctx), ("client", cctx)):
        stats = ctx.session_stats()
        print(f"  {who} session_stats: " + " ".join(f"{k}={stats[k]}" for k in sorted(stats)))


def main():
    print(f"pid {os.getpid()}", file=sys.stderr)
    print(ssl.OPENSSL_VERSION)
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        for tickets in (True, False):
            case(version, tickets)


if __name__ == "__main__":
    main()
