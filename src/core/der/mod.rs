//! OpenSSL 3.0's `SSL_SESSION_ASN1` encoding (`i2d_SSL_SESSION` /
//! `d2i_SSL_SESSION`, ssl/ssl_asn1.c), in safe Rust with no dependencies.
//!
//! The encoder writes exactly the bytes OpenSSL 3.0 writes (minimal DER).
//! The decoder mirrors OpenSSL's template decoder (crypto/asn1/tasn_dec.c),
//! which is a BER reader with its own rules, not a strict DER parser; every
//! rule below was checked against the installed OpenSSL 3.0.19 with
//! `c_tests/der_vectors.c`:
//!
//! * lengths: long form accepted for any length (`04 81 02 ..`), any number
//!   of leading zero length octets is skipped (`30 ff 00*126 13`), at most 8
//!   significant length octets, value must be <= `i64::MAX`; quirk: a
//!   long-form length needs at least one byte after its length octets, so
//!   `04 81 00` as the very last element of its container is rejected;
//! * indefinite length (`80`) is accepted on constructed encodings (the outer
//!   SEQUENCE, the explicit `[n]` tags, constructed strings) and must be
//!   closed by `00 00`; it is rejected on primitive encodings;
//! * high-tag-number form is accepted even when a low tag would do
//!   (`bf 01` = `[1]`, `bf 80 01` = `[1]`, `3f 10` = SEQUENCE);
//! * OCTET STRINGs may be constructed (BER segments, nested up to 6 levels,
//!   segments of any tag and class); INTEGERs must be primitive;
//! * INTEGER content must be minimal (no redundant `00`/`ff` octet), but an
//!   empty INTEGER (`02 00`) reads as 0; 64-bit signed fields accept negative
//!   magnitudes up to 2^64-1 and wrap (`-(2^64-1)` reads as 1);
//! * `00 00` inside a definite-length SEQUENCE is an error; unknown or
//!   out-of-order fields are errors; bytes after the outer SEQUENCE are not
//!   consumed (the caller gets the consumed length).

#![forbid(unsafe_code)]

mod decode;
mod encode;
#[cfg(test)]
mod tests;
mod types;
#[cfg(test)]
mod vectors;

pub use decode::decode;
pub use encode::encode;
pub use types::{DerError, DerSession, DEFAULT_DECODED_TIMEOUT, SESSION_ASN1_VERSION};
