//! `DerSession`, every field OpenSSL 3.0 encodes; `DerError`, why a decoding failed; the limits;
//! and the conversions to and from a session's fields.

use crate::core::key::Bytes32;
use crate::core::session::{Extras, Fields, MAX_MASTER_KEY_LENGTH};
use zeroize::Zeroizing;

/// Every field OpenSSL 3.0 encodes. Absent optional fields use the value that
/// makes OpenSSL omit them.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DerSession {
    /// The protocol version (`0x0303` for TLS 1.2).
    pub ssl_version: i32,
    /// Full `0x0300XXXX` id; encoded as its low 16 bits. 0 = no cipher
    /// (then `encode` returns an empty vector, as `i2d_SSL_SESSION` returns 0).
    pub cipher_id: u32,
    /// At most 32 bytes on decode.
    pub session_id: Vec<u8>,
    /// At most 512 bytes on decode. Wiped when dropped.
    pub master_key: Zeroizing<Vec<u8>>,
    /// 0 = omitted. Decode replaces absent/0 by `now`.
    pub time: i64,
    /// 0 = omitted. Decode replaces absent/0 by 3.
    pub timeout: i64,
    /// At most 32 bytes on decode; always written (empty when unset).
    pub sid_ctx: Vec<u8>,
    /// Encoded as a 32-bit signed value (truncated like C's `long` -> `int32_t`); 0 = omitted.
    pub verify_result: i64,
    /// 0 = omitted; decode keeps only the low 8 bits (OpenSSL stores a `uint8_t`).
    pub max_fragment_len_mode: u32,
    /// The rarely used fields (`[3]`, `[6]`–`[16]`, `[18]`, `[19]`), as a session keeps them.
    pub extras: Extras,
}

/// Why `decode` failed. The ASN.1 variants are OpenSSL's `ASN1_R_*` reason of
/// the innermost error; the SSL variants are the checks of `d2i_SSL_SESSION`
/// itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerError {
    /// Malformed/truncated tag or length, length past the end of its
    /// container, or nothing to read (`ASN1_R_HEADER_TOO_LONG`,
    /// `ASN1_R_TOO_LONG`, `ASN1_R_TOO_SMALL`, all reported as
    /// `ASN1_R_BAD_OBJECT_HEADER`).
    BadObjectHeader,
    /// `ASN1_R_WRONG_TAG`: a required element (or the last field, kex_group,
    /// when data remains) has another tag.
    WrongTag,
    /// `ASN1_R_SEQUENCE_NOT_CONSTRUCTED`.
    SequenceNotConstructed,
    /// `ASN1_R_EXPLICIT_TAG_NOT_CONSTRUCTED`.
    ExplicitTagNotConstructed,
    /// `ASN1_R_TYPE_NOT_PRIMITIVE`: constructed INTEGER.
    TypeNotPrimitive,
    /// `ASN1_R_UNEXPECTED_EOC`: `00 00` where no indefinite length is open.
    UnexpectedEoc,
    /// `ASN1_R_MISSING_EOC`: indefinite length not closed.
    MissingEoc,
    /// `ASN1_R_NESTED_ASN1_STRING`: constructed string nested too deep.
    NestedAsn1String,
    /// `ASN1_R_EXPLICIT_LENGTH_MISMATCH`: extra bytes inside an `[n]` tag.
    ExplicitLengthMismatch,
    /// `ASN1_R_SEQUENCE_LENGTH_MISMATCH`: extra bytes after the last field.
    SequenceLengthMismatch,
    /// `ASN1_R_FIELD_MISSING`: a required field is absent.
    FieldMissing,
    /// `ASN1_R_ILLEGAL_PADDING`: non-minimal INTEGER.
    IllegalPadding,
    /// `ASN1_R_TOO_LARGE`: INTEGER out of range for its field.
    TooLarge,
    /// `ASN1_R_TOO_SMALL`: INTEGER below `i32::MIN` for a 32-bit signed field.
    TooSmall,
    /// `ASN1_R_ILLEGAL_NEGATIVE_VALUE`: negative value in an unsigned field.
    IllegalNegativeValue,
    /// `SSL_R_UNKNOWN_SSL_VERSION`: encoding version is not 1.
    UnknownSslVersion,
    /// `SSL_R_UNSUPPORTED_SSL_VERSION`.
    UnsupportedSslVersion,
    /// `SSL_R_CIPHER_CODE_WRONG_LENGTH`.
    CipherCodeWrongLength,
    /// Cipher code not known to OpenSSL (no reason code in OpenSSL).
    UnknownCipher,
    /// session_id longer than 32 bytes (no reason code in OpenSSL).
    SessionIdTooLong,
    /// master_key longer than 512 bytes (no reason code in OpenSSL).
    MasterKeyTooLong,
    /// sid_ctx longer than 32 bytes (no reason code in OpenSSL).
    SidCtxTooLong,
    /// `SSL_R_BAD_LENGTH`: comp_id present but not exactly 1 byte.
    BadCompIdLength,
}

/// `SSL_SESSION_ASN1_VERSION`.
pub const SESSION_ASN1_VERSION: u32 = 1;
/// Timeout `d2i_SSL_SESSION` uses when the encoding has none (or 0).
pub const DEFAULT_DECODED_TIMEOUT: i64 = 3;

/// A string field as OpenSSL stores it: a C string, so up to its first NUL.
pub(super) fn c_string(s: &[u8]) -> &[u8] {
    match s.iter().position(|b| *b == 0) {
        Some(n) => &s[..n],
        None => s,
    }
}

impl DerSession {
    /// The DER view of a session's fields (what `i2d_SSL_SESSION` encodes).
    pub fn from_fields(f: &Fields) -> DerSession {
        DerSession {
            ssl_version: f.version,
            cipher_id: f.cipher_id,
            session_id: f.id.as_slice().to_vec(),
            master_key: Zeroizing::new(f.master_key().to_vec()),
            time: f.time,
            timeout: f.timeout,
            sid_ctx: f.sid_ctx.as_slice().to_vec(),
            verify_result: f.verify_result,
            max_fragment_len_mode: f.max_fragment_len_mode,
            extras: f.extras.as_deref().cloned().unwrap_or_default(),
        }
    }

    /// Overwrites every encoded field of `f` with this decoding (what `d2i_SSL_SESSION` does to
    /// its target). False, with `f` unchanged, when a length exceeds a session's limits (never
    /// for the output of [`decode`](super::decode())).
    pub fn apply_to(self, f: &mut Fields) -> bool {
        let (Some(id), Some(sid_ctx)) = (Bytes32::new(&self.session_id), Bytes32::new(&self.sid_ctx)) else {
            return false;
        };
        if self.master_key.len() > MAX_MASTER_KEY_LENGTH {
            return false;
        }
        f.version = self.ssl_version;
        f.cipher_id = self.cipher_id;
        f.id = id;
        f.sid_ctx = sid_ctx;
        f.set_master_key(&self.master_key);
        f.time = self.time;
        f.timeout = self.timeout;
        f.verify_result = self.verify_result;
        f.max_fragment_len_mode = self.max_fragment_len_mode;
        f.extras = (self.extras != Extras::default()).then(|| Box::new(self.extras));
        true
    }
}
