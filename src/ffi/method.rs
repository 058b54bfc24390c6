//! `SSL_METHOD`: the three TLS methods. They only decide an `SSL`'s initial role.

pub use super::types::SSL_METHOD;

static TLS_ANY: SSL_METHOD = SSL_METHOD { server_role: true };
static TLS_SERVER: SSL_METHOD = SSL_METHOD { server_role: true };
static TLS_CLIENT: SSL_METHOD = SSL_METHOD { server_role: false };

/// The general-purpose TLS method. An `SSL` made from it starts in the server role, as in
/// OpenSSL, until `SSL_set_connect_state`.
///
/// Returns a static object: never NULL, never freed.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn TLS_method() -> *const SSL_METHOD {
    &TLS_ANY
}

/// The server TLS method. Returns a static object: never NULL, never freed.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn TLS_server_method() -> *const SSL_METHOD {
    &TLS_SERVER
}

/// The client TLS method: its `SSL`s start in the client role. Returns a static object:
/// never NULL, never freed.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn TLS_client_method() -> *const SSL_METHOD {
    &TLS_CLIENT
}
