//! Which sessions `ssl_update_cache` stores in the internal cache (spec §4.9, step 3a), as a
//! pure function of the cache mode and what the connection knows. The standalone driver only
//! does TLS 1.2 and never needs it; the preload library applies it to real TLS 1.3 handshakes.

use super::mode::CacheMode;

/// `SSL_OP_NO_TICKET`.
pub const OP_NO_TICKET: u64 = 1 << 14;
/// `SSL_OP_NO_ANTI_REPLAY`.
pub const OP_NO_ANTI_REPLAY: u64 = 1 << 24;

/// `SSL_IS_TLS13`: TLS 1.3 or a later TLS version (DTLS versions count down from 0xfeff).
pub fn is_tls13(version: i32) -> bool {
    (crate::abi::TLS1_3_VERSION..0x0400).contains(&version)
}

/// What `ssl_update_cache` reads from the connection and its session context when it decides
/// whether to store a session internally.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreFacts {
    /// The connection negotiated TLS 1.3 (`SSL_IS_TLS13`).
    pub tls13: bool,
    /// The connection is a server.
    pub server: bool,
    /// The connection's `max_early_data`.
    pub max_early_data: u32,
    /// The connection's options (`SSL_OP_*`).
    pub options: u64,
    /// The session context has a `remove_session_cb`.
    pub remove_cb: bool,
}

/// True when `ssl_update_cache` calls `SSL_CTX_add_session`, given that it reached the store
/// step at all (`mode` has the connection's role, and the handshake was not a resumption or
/// was TLS 1.3): `NO_INTERNAL_STORE` is clear, and the session is not a server's TLS 1.3 one,
/// unless early data with anti-replay is on, a remove callback is installed, or
/// `SSL_OP_NO_TICKET` makes the ticket stateful.
pub fn stores_internally(mode: CacheMode, f: &StoreFacts) -> bool {
    !mode.contains(CacheMode::NO_INTERNAL_STORE)
        && (!f.tls13
            || !f.server
            || (f.max_early_data > 0 && f.options & OP_NO_ANTI_REPLAY == 0)
            || f.remove_cb
            || f.options & OP_NO_TICKET != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER13: StoreFacts =
        StoreFacts { tls13: true, server: true, max_early_data: 0, options: 0, remove_cb: false };

    #[test]
    fn tls12_and_clients_always_store() {
        let f = StoreFacts { tls13: false, ..SERVER13 };
        assert!(stores_internally(CacheMode::SERVER, &f));
        assert!(stores_internally(CacheMode::CLIENT, &StoreFacts { server: false, ..SERVER13 }));
        assert!(!stores_internally(CacheMode::SERVER | CacheMode::NO_INTERNAL_STORE, &f));
    }

    #[test]
    fn tls13_server_stores_only_for_a_reason() {
        let m = CacheMode::SERVER;
        assert!(!stores_internally(m, &SERVER13));
        assert!(stores_internally(m, &StoreFacts { options: OP_NO_TICKET, ..SERVER13 }));
        assert!(stores_internally(m, &StoreFacts { remove_cb: true, ..SERVER13 }));
        assert!(stores_internally(m, &StoreFacts { max_early_data: 1, ..SERVER13 }));
        let no_replay = StoreFacts { max_early_data: 1, options: OP_NO_ANTI_REPLAY, ..SERVER13 };
        assert!(!stores_internally(m, &no_replay));
        let all = StoreFacts { options: OP_NO_TICKET, remove_cb: true, ..SERVER13 };
        assert!(!stores_internally(m | CacheMode::NO_INTERNAL_STORE, &all));
    }
}
