//! The C objects as Rust types (`SSL_METHOD`, `SSL_CTX`, `SSL`, `SSL_SESSION`) and OpenSSL's
//! callback types: what the export modules share. Each export module re-exports its own
//! object's type.

use std::os::raw::{c_int, c_uchar, c_uint};
use std::sync::atomic::AtomicUsize;

use crate::core::context::SessionCtx;
use crate::core::handshake::Conn;
use crate::core::session::{Session, SessionRef};

use super::handle::{CtxRef, FnSlot};

/// A TLS method. Static; never freed.
pub struct SSL_METHOD {
    pub(crate) server_role: bool,
}

/// A context: the cache state, its callbacks and the C reference count.
pub struct SSL_CTX {
    pub(crate) core: SessionCtx<SessionRef>,
    pub(crate) callbacks: CallbackSlots,
    /// Whether the method makes `SSL`s start in the server role.
    pub(crate) server_role: bool,
    /// The Redis tier, once `sesscache_redis_attach` installed one.
    #[cfg(feature = "redis")]
    pub(crate) redis: parking_lot::RwLock<Option<std::sync::Arc<crate::redis_store::RedisStore>>>,
    /// The keys that seal the Redis tier's values (`sesscache_redis_seal`), with or without a tier.
    #[cfg(feature = "redis")]
    pub(crate) redis_seal: parking_lot::RwLock<Option<std::sync::Arc<crate::redis_store::seal::SealKeys>>>,
    /// The C reference count (`SSL_CTX_up_ref` / `SSL_CTX_free`).
    pub(crate) refs: AtomicUsize,
}

/// A connection: its cache-relevant state and one reference on its context.
pub struct SSL {
    pub(crate) conn: Conn,
    pub(crate) ctx: CtxRef<SSL_CTX>,
    pub(crate) generate: FnSlot<GEN_SESSION_CB>,
}

impl SSL {
    /// The session context (`SSL_get_SSL_CTX`).
    pub(crate) fn ctx(&self) -> &SSL_CTX {
        &self.ctx
    }

    /// The pointer C knows the context by.
    pub(crate) fn ctx_ptr(&self) -> *mut SSL_CTX {
        self.ctx.as_ptr()
    }
}

/// The C name of [`Session`].
pub type SSL_SESSION = Session;

/// `X509_STORE_CTX`: opaque here, only named by [`SSL_verify_cb`].
pub enum X509_STORE_CTX {}

/// The new-session callback (NULL allowed): `int (*)(struct ssl_st *ssl, SSL_SESSION *sess)`.
pub type NewSessionCb = Option<unsafe extern "C" fn(ssl: *mut SSL, sess: *mut SSL_SESSION) -> c_int>;
/// The remove-session callback (NULL allowed):
/// `void (*)(struct ssl_ctx_st *ctx, SSL_SESSION *sess)`.
pub type RemoveSessionCb = Option<unsafe extern "C" fn(ctx: *mut SSL_CTX, sess: *mut SSL_SESSION)>;
/// The get-session callback (NULL allowed):
/// `SSL_SESSION *(*)(struct ssl_st *ssl, const unsigned char *data, int len, int *copy)`.
pub type GetSessionCb =
    Option<unsafe extern "C" fn(ssl: *mut SSL, data: *const c_uchar, len: c_int, copy: *mut c_int) -> *mut SSL_SESSION>;
/// `GEN_SESSION_CB` (NULL allowed): `int (*)(SSL *ssl, unsigned char *id, unsigned int *id_len)`.
pub type GEN_SESSION_CB = Option<unsafe extern "C" fn(ssl: *mut SSL, id: *mut c_uchar, id_len: *mut c_uint) -> c_int>;
/// `SSL_verify_cb` (NULL allowed): `int (*)(int preverify_ok, X509_STORE_CTX *x509_ctx)`.
/// Accepted and never called.
pub type SSL_verify_cb = Option<unsafe extern "C" fn(preverify_ok: c_int, x509_ctx: *mut X509_STORE_CTX) -> c_int>;

/// The callbacks installed on one `SSL_CTX`.
#[derive(Default)]
pub struct CallbackSlots {
    /// `SSL_CTX_sess_set_new_cb`.
    pub new: FnSlot<NewSessionCb>,
    /// `SSL_CTX_sess_set_remove_cb`.
    pub remove: FnSlot<RemoveSessionCb>,
    /// `SSL_CTX_sess_set_get_cb`.
    pub get: FnSlot<GetSessionCb>,
    /// `SSL_CTX_set_generate_session_id`.
    pub generate: FnSlot<GEN_SESSION_CB>,
}
