// The functions the preload takes over from libssl: one declaration each, read twice. The
// crate expands it with `sys::entry::intercept!` into the exported symbols; build.rs expands it
// with its own `intercept!` into the version script, so the two cannot disagree. Each
// implementation (after `=>`) is in exports/mod.rs and takes the same arguments and then the
// caller's return address.
intercept! {
    /// `SSL_CTX_new_ex`: the real constructor, then sesscache takes over the new context's
    /// session cache (`SSL_CTX_new` reaches here through libssl). Returns the new context,
    /// owned by the caller, or NULL on failure, as libssl.
    fn SSL_CTX_new_ex(libctx: *mut OSSL_LIB_CTX, propq: *const c_char, meth: *const SSL_METHOD) -> *mut SSL_CTX
        => ctx_new_ex;
    /// `SSL_new`: the real constructor; records `ctx` as the connection's session context (the
    /// cache it uses even after `SSL_set_SSL_CTX`). Returns the connection, owned by the
    /// caller, or NULL, as libssl.
    fn SSL_new(ctx: *mut SSL_CTX) -> *mut SSL => ssl_new;
    /// `SSL_CTX_ctrl`: the session commands (20–31, 42–45) answer from sesscache with
    /// OpenSSL's values: the counters are those the program would read without the preload,
    /// size and mode are those it set (the environment's overrides act underneath). Every
    /// other command, and a NULL context, goes to libssl. A caught panic returns 0.
    fn SSL_CTX_ctrl(ctx: *mut SSL_CTX, cmd: c_int, larg: c_long, parg: *mut c_void) -> c_long => ctx_ctrl;
    /// `SSL_CTX_set_timeout`: returns the previous timeout the program set. With
    /// `SESSCACHE_TIMEOUT` the override stays in force. NULL: 0.
    fn SSL_CTX_set_timeout(ctx: *mut SSL_CTX, t: c_long) -> c_long => ctx_set_timeout;
    /// `SSL_CTX_get_timeout`: the timeout the program set. NULL: 0.
    fn SSL_CTX_get_timeout(ctx: *const SSL_CTX) -> c_long => ctx_get_timeout;
    /// `SSL_CTX_add_session`: adds `c` to sesscache's cache, which takes its own reference
    /// (the caller keeps its own). Returns 1 when `c` became a new entry, 0 otherwise, for a
    /// NULL argument or a caught panic. Evicted sessions go to the remove callback after the
    /// cache's lock is released. libssl's own handshakes do not come here (they use our new
    /// callback).
    fn SSL_CTX_add_session(ctx: *mut SSL_CTX, c: *mut SSL_SESSION) -> c_int => ctx_add_session;
    /// `SSL_CTX_remove_session`: removes the entry with `c`'s key from sesscache's cache,
    /// marks `c` not resumable and calls the remove callback with `c` (even when nothing was
    /// cached), with no lock held. Returns 1 when an entry was removed; 0 otherwise, for NULL
    /// arguments, an empty id or a caught panic.
    fn SSL_CTX_remove_session(ctx: *mut SSL_CTX, c: *mut SSL_SESSION) -> c_int => ctx_remove_session;
    /// `SSL_CTX_flush_sessions`: removes the sessions expired at `t` (all of them when `t` is
    /// 0) from sesscache's cache, earliest expiry first; the remove callback sees each after
    /// the lock is released. libssl calls this at `SSL_CTX_free` and for its auto-flush.
    /// NULL: nothing.
    fn SSL_CTX_flush_sessions(ctx: *mut SSL_CTX, t: c_long) => ctx_flush_sessions;
    /// `SSL_has_matching_session_id`: 1 when sesscache's cache of `ssl`'s session context
    /// holds a session with this id under `ssl`'s version; 0 otherwise, for NULL,
    /// `id_len > 32` or a caught panic. libssl's id generator calls this.
    fn SSL_has_matching_session_id(ssl: *const SSL, id: *const u8, id_len: c_uint) -> c_int
        => has_matching_session_id;
    /// `SSL_CTX_set_session_id_context`: libssl's; on success the preload also records the
    /// value (fleet mode keys Redis by it). Returns libssl's result: 1, or 0 when
    /// `sid_ctx_len > 32`.
    fn SSL_CTX_set_session_id_context(ctx: *mut SSL_CTX, sid_ctx: *const u8, sid_ctx_len: c_uint) -> c_int
        => ctx_set_session_id_context;
    /// `SSL_set_session_id_context`: libssl's; on success, in fleet mode, the preload also
    /// records the connection's own value. Returns libssl's result: 1, or 0 when
    /// `sid_ctx_len > 32`.
    fn SSL_set_session_id_context(ssl: *mut SSL, sid_ctx: *const u8, sid_ctx_len: c_uint) -> c_int
        => ssl_set_session_id_context;
    /// `SSL_CTX_sess_set_new_cb`: records the program's new-session callback; libssl keeps
    /// calling ours, which stores the session and then calls this one with OpenSSL's reference
    /// rule (return 1: the callback keeps the reference). NULL context: nothing.
    fn SSL_CTX_sess_set_new_cb(ctx: *mut SSL_CTX, cb: Option<NewCb>) => sess_set_new_cb;
    /// `SSL_CTX_sess_get_new_cb`: the program's new-session callback, or NULL.
    fn SSL_CTX_sess_get_new_cb(ctx: *mut SSL_CTX) -> Option<NewCb> => sess_get_new_cb;
    /// `SSL_CTX_sess_set_remove_cb`: records the program's remove callback, which sesscache
    /// calls for removed, evicted and flushed sessions, with no lock held. NULL context:
    /// nothing.
    fn SSL_CTX_sess_set_remove_cb(ctx: *mut SSL_CTX, cb: Option<RemoveCb>) => sess_set_remove_cb;
    /// `SSL_CTX_sess_get_remove_cb`: the program's remove callback, or NULL.
    fn SSL_CTX_sess_get_remove_cb(ctx: *mut SSL_CTX) -> Option<RemoveCb> => sess_get_remove_cb;
    /// `SSL_CTX_sess_set_get_cb`: records the program's get callback, which sesscache asks
    /// when its own lookup fails (or is off), with OpenSSL's `*copy` rule. NULL context:
    /// nothing.
    fn SSL_CTX_sess_set_get_cb(ctx: *mut SSL_CTX, cb: Option<GetCb>) => sess_set_get_cb;
    /// `SSL_CTX_sess_get_get_cb`: the program's get callback, or NULL.
    fn SSL_CTX_sess_get_get_cb(ctx: *mut SSL_CTX) -> Option<GetCb> => sess_get_get_cb;
    /// `SSL_SESSION_set_time`: libssl's, then, when sesscache caches `s`, moves it to the
    /// place of its new expiry, as OpenSSL 3.0 does for a cached session. Returns `t`, or 0
    /// for NULL.
    fn SSL_SESSION_set_time(s: *mut SSL_SESSION, t: c_long) -> c_long => session_set_time;
    /// `SSL_SESSION_set_timeout`: libssl's (a negative `t` or NULL: 0, nothing changes), then,
    /// when sesscache caches `s`, moves it to the place of its new expiry. Returns 1 on
    /// success.
    fn SSL_SESSION_set_timeout(s: *mut SSL_SESSION, t: c_long) -> c_long => session_set_timeout;
}
