//! The `SSL_SESS_CACHE_*` mode bits, with their OpenSSL names and values.

use bitflags::bitflags;

bitflags! {
    /// A session-cache mode as stored by `SSL_CTX_set_session_cache_mode`.
    ///
    /// OpenSSL stores the mode as a `uint32_t` without validation, so unknown bits are kept
    /// (`from_bits_retain`) and read back unchanged.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct CacheMode: u32 {
        /// `SSL_SESS_CACHE_CLIENT`: store client sessions and call the client's new callback.
        const CLIENT = 0x0001;
        /// `SSL_SESS_CACHE_SERVER`: store server sessions (the default).
        const SERVER = 0x0002;
        /// `SSL_SESS_CACHE_BOTH`.
        const BOTH = Self::CLIENT.bits() | Self::SERVER.bits();
        /// `SSL_SESS_CACHE_NO_AUTO_CLEAR`: no flush every 256th handshake.
        const NO_AUTO_CLEAR = 0x0080;
        /// `SSL_SESS_CACHE_NO_INTERNAL_LOOKUP`: the server lookup skips the internal cache.
        const NO_INTERNAL_LOOKUP = 0x0100;
        /// `SSL_SESS_CACHE_NO_INTERNAL_STORE`: handshakes never store into the internal cache.
        const NO_INTERNAL_STORE = 0x0200;
        /// `SSL_SESS_CACHE_NO_INTERNAL`.
        const NO_INTERNAL = Self::NO_INTERNAL_LOOKUP.bits() | Self::NO_INTERNAL_STORE.bits();
        /// `SSL_SESS_CACHE_UPDATE_TIME` (3.0+): `SSL_CTX_add_session` stamps the session with now.
        const UPDATE_TIME = 0x0400;
    }
}

impl Default for CacheMode {
    /// A fresh `SSL_CTX` caches server sessions only.
    fn default() -> Self {
        CacheMode::SERVER
    }
}
