//! OpenSSL 3.0's numbers for the session-cache API, with OpenSSL's names and values: the one
//! definition that the core, the C shell, the header (build.rs reads this file with cbindgen)
//! and the preload share. Compiled in every build, with or without the `capi` feature.

use std::os::raw::{c_int, c_long};

/// Cache nothing (handshakes still look sessions up).
pub const SSL_SESS_CACHE_OFF: c_long = 0x0000;
/// Cache client sessions and call the client's new-session callback.
pub const SSL_SESS_CACHE_CLIENT: c_long = 0x0001;
/// Cache server sessions (the default).
pub const SSL_SESS_CACHE_SERVER: c_long = 0x0002;
/// `SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_SERVER`.
pub const SSL_SESS_CACHE_BOTH: c_long = 0x0003;
/// No automatic flush of expired sessions during every 256th completed handshake.
pub const SSL_SESS_CACHE_NO_AUTO_CLEAR: c_long = 0x0080;
/// Server lookups skip the internal cache (the get callback still runs).
pub const SSL_SESS_CACHE_NO_INTERNAL_LOOKUP: c_long = 0x0100;
/// Handshakes never store into the internal cache (the new callback still runs).
pub const SSL_SESS_CACHE_NO_INTERNAL_STORE: c_long = 0x0200;
/// `SSL_SESS_CACHE_NO_INTERNAL_LOOKUP | SSL_SESS_CACHE_NO_INTERNAL_STORE`.
pub const SSL_SESS_CACHE_NO_INTERNAL: c_long = 0x0300;
/// `SSL_CTX_add_session` sets the session's time to now.
pub const SSL_SESS_CACHE_UPDATE_TIME: c_long = 0x0400;

/// The longest session id.
pub const SSL_MAX_SSL_SESSION_ID_LENGTH: c_int = 32;
/// The longest session-id context.
pub const SSL_MAX_SID_CTX_LENGTH: c_int = 32;
/// The TLS 1.2 master-key length (`SSL_SESSION_set1_master_key` accepts up to 512 bytes).
pub const SSL_MAX_MASTER_KEY_LENGTH: c_int = 48;
/// The default cache size, 1024 * 20.
pub const SSL_SESSION_CACHE_MAX_SIZE_DEFAULT: c_long = 1024 * 20;

/// `SSL_CTX_ctrl`: number of cached sessions.
pub const SSL_CTRL_SESS_NUMBER: c_int = 20;
/// `SSL_CTX_ctrl`: client handshakes started.
pub const SSL_CTRL_SESS_CONNECT: c_int = 21;
/// `SSL_CTX_ctrl`: client handshakes completed.
pub const SSL_CTRL_SESS_CONNECT_GOOD: c_int = 22;
/// `SSL_CTX_ctrl`: client renegotiations started.
pub const SSL_CTRL_SESS_CONNECT_RENEGOTIATE: c_int = 23;
/// `SSL_CTX_ctrl`: server handshakes started.
pub const SSL_CTRL_SESS_ACCEPT: c_int = 24;
/// `SSL_CTX_ctrl`: server handshakes completed.
pub const SSL_CTRL_SESS_ACCEPT_GOOD: c_int = 25;
/// `SSL_CTX_ctrl`: server renegotiations started.
pub const SSL_CTRL_SESS_ACCEPT_RENEGOTIATE: c_int = 26;
/// `SSL_CTX_ctrl`: resumptions.
pub const SSL_CTRL_SESS_HIT: c_int = 27;
/// `SSL_CTX_ctrl`: sessions supplied by the get callback.
pub const SSL_CTRL_SESS_CB_HIT: c_int = 28;
/// `SSL_CTX_ctrl`: failed internal lookups.
pub const SSL_CTRL_SESS_MISSES: c_int = 29;
/// `SSL_CTX_ctrl`: expired resumption candidates.
pub const SSL_CTRL_SESS_TIMEOUTS: c_int = 30;
/// `SSL_CTX_ctrl`: evictions.
pub const SSL_CTRL_SESS_CACHE_FULL: c_int = 31;
/// `SSL_CTX_ctrl`: set the cache size.
pub const SSL_CTRL_SET_SESS_CACHE_SIZE: c_int = 42;
/// `SSL_CTX_ctrl`: get the cache size.
pub const SSL_CTRL_GET_SESS_CACHE_SIZE: c_int = 43;
/// `SSL_CTX_ctrl`: set the cache mode.
pub const SSL_CTRL_SET_SESS_CACHE_MODE: c_int = 44;
/// `SSL_CTX_ctrl`: get the cache mode.
pub const SSL_CTRL_GET_SESS_CACHE_MODE: c_int = 45;

/// Do not verify the peer.
pub const SSL_VERIFY_NONE: c_int = 0x00;
/// Verify the peer; a server then needs a session-id context to resume sessions.
pub const SSL_VERIFY_PEER: c_int = 0x01;

/// `TLS1_2_VERSION`, the version the `sesscache_` handshake driver negotiates.
pub const TLS1_2_VERSION: c_int = 0x0303;
/// `TLS1_3_VERSION`, what `SSL_version` reports before any handshake.
pub const TLS1_3_VERSION: c_int = 0x0304;
