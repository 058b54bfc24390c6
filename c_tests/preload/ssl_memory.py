"""In-memory TLS with CPython's ssl module (which opens _ssl, and with it libssl, with
RTLD_LOCAL): for TLS 1.2 and 1.3, with and without tickets, a full handshake then a
resumption, and the server context's session_stats(). The transcript must be the same with and
without libsesscache_preload.so.  Usage: python3 ssl_memory.py CERT KEY"""
import ssl
import sys


def pump(a_out, b_in):
    data = a_out.read()
    if data:
        b_in.write(data)


def step(obj, call):
    try:
        call()
        return True
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
        return False


def connect(server_ctx, client_ctx, session=None):
    """One connection; returns (reused, the client's session)."""
    s_in, s_out, c_in, c_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    s = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    c = client_ctx.wrap_bio(c_in, c_out, server_side=False, session=session)
    s_done = c_done = False
    for _ in range(100):
        if not c_done:
            c_done = step(c, c.do_handshake)
        pump(c_out, s_in)
        if not s_done:
            s_done = step(s, s.do_handshake)
        pump(s_out, c_in)
        if s_done and c_done:
            break
    else:
        sys.exit("handshake did not finish")
    # The server's byte carries TLS 1.3's tickets to the client.
    s.write(b"x")
    pump(s_out, c_in)
    if c.read(1) != b"x":
        sys.exit("no byte")
    if s.session_reused != c.session_reused:
        sys.exit("client and server disagree on resumption")
    reused, sess = c.session_reused, c.session
    # Clean closes, so that freeing the connections keeps the session cached.
    for end, out, peer in ((c, c_out, s_in), (s, s_out, c_in)):
        step(end, end.unwrap)
        pump(out, peer)
    return reused, sess


def scenario(name, cert, key, version, tickets):
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    server.maximum_version = version
    if not tickets:
        server.options |= ssl.OP_NO_TICKET
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    client.maximum_version = version
    first, sess = connect(server, client)
    second, _ = connect(server, client, sess)
    stats = " ".join("%s=%d" % kv for kv in sorted(server.session_stats().items()))
    print("%s: first=%s second=%s %s" % (name, "reused" if first else "new", "reused" if second else "new", stats))


def main():
    cert, key = sys.argv[1:3]
    for version, names in ((ssl.TLSVersion.TLSv1_2, ("tls1.2 session ids", "tls1.2 tickets")),
                           (ssl.TLSVersion.TLSv1_3, ("tls1.3 stateful tickets", "tls1.3 stateless tickets"))):
        for tickets in (False, True):
            scenario(names[tickets], cert, key, version, tickets)
    print("done")


main()
