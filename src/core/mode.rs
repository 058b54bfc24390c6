//! The `SSL_SESS_CACHE_*` mode bits, with their OpenSSL names and values.

use bitflags::bitflags;

use crate::abi;

bitflags! {
    /// A session-cache mode as stored by `SSL_CTX_set_session_cache_mode`.
    ///
    /// OpenSSL stores the mode as a `uint32_t` without validation, so unknown bits are kept
    /// (`from_bits_retain`) and read back unchanged.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct CacheMode: u32 {
        /// `SSL_SESS_CACHE_CLIENT`: store client sessions and call the client's new callback.
        const CLIENT = abi::SSL_SESS_CACHE_CLIENT as u32;
        /// `SSL_SESS_CACHE_SERVER`: store server sessions (the default).
        const SERVER = abi::SSL_SESS_CACHE_SERVER as u32;
        /// `SSL_SESS_CACHE_BOTH`.
        const BOTH = Self::CLIENT.bits() | Self::SERVER.bits();
        /// `SSL_SESS_CACHE_NO_AUTO_CLEAR`: no flush every 256th handshake.
        const NO_AUTO_CLEAR = abi::SSL_SESS_CACHE_NO_AUTO_CLEAR as u32;
        /// `SSL_SESS_CACHE_NO_INTERNAL_LOOKUP`: the server lookup skips the internal cache.
        const NO_INTERNAL_LOOKUP = abi::SSL_SESS_CACHE_NO_INTERNAL_LOOKUP as u32;
        /// `SSL_SESS_CACHE_NO_INTERNAL_STORE`: handshakes never store into the internal cache.
        const NO_INTERNAL_STORE = abi::SSL_SESS_CACHE_NO_INTERNAL_STORE as u32;
        /// `SSL_SESS_CACHE_NO_INTERNAL`.
        const NO_INTERNAL = Self::NO_INTERNAL_LOOKUP.bits() | Self::NO_INTERNAL_STORE.bits();
        /// `SSL_SESS_CACHE_UPDATE_TIME` (3.0+): `SSL_CTX_add_session` stamps the session with now.
        const UPDATE_TIME = abi::SSL_SESS_CACHE_UPDATE_TIME as u32;
    }
}

impl Default for CacheMode {
    /// A fresh `SSL_CTX` caches server sessions only.
    fn default() -> Self {
        CacheMode::SERVER
    }
}
