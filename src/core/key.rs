//! Fixed-capacity byte strings and the cache key.

/// `SSL_MAX_SSL_SESSION_ID_LENGTH` and `SSL_MAX_SID_CTX_LENGTH`: both 32.
pub const MAX_ID_LENGTH: usize = 32;

/// Up to 32 bytes stored inline: a session id or a session-id context.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Bytes32 {
    len: u8,
    buf: [u8; MAX_ID_LENGTH],
}

impl Bytes32 {
    /// An empty value.
    pub const EMPTY: Bytes32 = Bytes32 { len: 0, buf: [0; MAX_ID_LENGTH] };

    /// Copies `bytes`; `None` when longer than 32 (OpenSSL's `*_TOO_LONG` failures).
    pub fn new(bytes: &[u8]) -> Option<Bytes32> {
        if bytes.len() > MAX_ID_LENGTH {
            return None;
        }
        let mut buf = [0u8; MAX_ID_LENGTH];
        buf[..bytes.len()].copy_from_slice(bytes);
        // unwrap: the length was checked against 32 above.
        Some(Bytes32 { len: u8::try_from(bytes.len()).unwrap_or(0), buf })
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    /// The whole 32-byte buffer, zero beyond `len()`: what OpenSSL's `get_id` points into.
    pub fn buffer(&self) -> &[u8; MAX_ID_LENGTH] {
        &self.buf
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True for a zero-length value.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl std::fmt::Debug for Bytes32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.as_slice() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// What makes two sessions the same cache entry (OpenSSL's `ssl_session_cmp`): the protocol
/// version, the id length and the id bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct SessionKey {
    version: i32,
    id: Bytes32,
}

impl SessionKey {
    /// The key of a session with this protocol version and id.
    pub fn new(version: i32, id: Bytes32) -> SessionKey {
        SessionKey { version, id }
    }

    /// Builds a key from a raw id; `None` when the id is longer than 32 bytes.
    pub fn from_slice(version: i32, id: &[u8]) -> Option<SessionKey> {
        Bytes32::new(id).map(|id| SessionKey { version, id })
    }

    /// The protocol version part.
    pub fn version(&self) -> i32 {
        self.version
    }

    /// The id part.
    pub fn id(&self) -> &Bytes32 {
        &self.id
    }
}
