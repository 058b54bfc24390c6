//! Sealed values: each session stored in Redis is encrypted and authenticated with
//! XChaCha20-Poly1305 under a fleet key, bound to the Redis key it is stored under.
//!
//! A sealed value is `SC1 | key id (8) | nonce (24) | ciphertext | tag (16)`:
//! - the key id is the first 8 bytes of SHA-256("sesscache seal key id v1\0" | key), so that a
//!   reader finds the key among several without trying each (ids are not secret);
//! - the nonce is 24 random bytes from the operating system (`getrandom`) for every value: no
//!   counter is shared between processes, and at 192 bits random nonces never collide in
//!   practice (a 96-bit nonce would cap a key at about 2^32 values);
//! - the additional data is `SC1 | key id | Redis key`: a value copied to another key (another
//!   session id, or another session-id context, which is part of the key) does not open.
//!
//! Keys come as lines of 64 hex characters (32 bytes). The first key seals; every key opens:
//! putting a new key first and keeping the old ones is a rotation without a miss.
//!
//! The keys themselves are wiped when the [`SealKeys`] is dropped (the cipher zeroizes its key
//! on drop); the buffers this module allocates for plaintext are wiped before release.
#![forbid(unsafe_code)]

use std::fmt;
use std::path::Path;

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, Zeroizing};

/// The first bytes of every sealed value (a DER session starts with 0x30, never with `S`).
pub const MAGIC: &[u8; 3] = b"SC1";
/// The length of a key id.
pub const KEY_ID_LEN: usize = 8;
/// The length of a nonce (XChaCha20-Poly1305).
pub const NONCE_LEN: usize = 24;
/// The length of the authentication tag.
pub const TAG_LEN: usize = 16;
/// Bytes before the ciphertext.
pub const HEADER_LEN: usize = MAGIC.len() + KEY_ID_LEN + NONCE_LEN;
/// What sealing adds to a value.
pub const OVERHEAD: usize = HEADER_LEN + TAG_LEN;
/// The length of one key.
pub const KEY_LEN: usize = 32;
/// The most keys one set holds (each opening tries only the keys whose id matches).
pub const MAX_KEYS: usize = 64;

/// Why a set of keys was refused. Shown to operators as one line; never contains key bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The key file could not be read.
    Read(String),
    /// Line `line` (from 1) is not a key: `why`.
    Line {
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        why: &'static str,
    },
    /// No key at all.
    Empty,
    /// Key bytes whose length is not a multiple of 32 (the C API's buffer).
    BadLength(usize),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Read(e) => write!(f, "cannot read the key file: {e}"),
            KeyError::Line { line, why } => write!(f, "line {line}: {why}"),
            KeyError::Empty => write!(f, "no key (expected lines of 64 hex characters)"),
            KeyError::BadLength(n) => write!(f, "{n} bytes of keys: not a non-zero multiple of {KEY_LEN}"),
        }
    }
}

struct SealKey {
    id: [u8; KEY_ID_LEN],
    aead: XChaCha20Poly1305,
}

/// A fleet's keys: the first seals, all open.
pub struct SealKeys {
    keys: Vec<SealKey>,
}

impl fmt::Debug for SealKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealKeys").field("keys", &self.keys.len()).finish_non_exhaustive()
    }
}

/// The id of `key`: not secret, it only names the key.
fn key_id(key: &[u8; KEY_LEN]) -> [u8; KEY_ID_LEN] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"sesscache seal key id v1\0");
    ctx.update(key);
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&ctx.finish().as_ref()[..KEY_ID_LEN]);
    id
}

fn unhex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The additional data of a value under `redis_key` sealed with the key `id`.
fn additional_data(id: &[u8; KEY_ID_LEN], redis_key: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut ad = Vec::with_capacity(MAGIC.len() + KEY_ID_LEN + redis_key.len());
    ad.extend_from_slice(MAGIC);
    ad.extend_from_slice(id);
    ad.extend_from_slice(redis_key);
    Zeroizing::new(ad)
}

impl SealKeys {
    /// Keys from raw bytes: `keys.len()` a non-zero multiple of 32, at most [`MAX_KEYS`] keys,
    /// none repeated and none all zero.
    pub fn from_bytes(keys: &[u8]) -> Result<SealKeys, KeyError> {
        if keys.is_empty() || !keys.len().is_multiple_of(KEY_LEN) {
            return Err(KeyError::BadLength(keys.len()));
        }
        let mut set = SealKeys { keys: Vec::new() };
        for (i, chunk) in keys.chunks_exact(KEY_LEN).enumerate() {
            let mut k = Zeroizing::new([0u8; KEY_LEN]);
            k.copy_from_slice(chunk);
            set.push(&k).map_err(|why| KeyError::Line { line: i + 1, why })?;
        }
        Ok(set)
    }

    /// Keys from the text of a key file: one key per line, 64 hex characters; blank lines and
    /// lines starting with `#` are skipped; surrounding white space is ignored.
    pub fn parse(text: &str) -> Result<SealKeys, KeyError> {
        let mut set = SealKeys { keys: Vec::new() };
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why| KeyError::Line { line: i + 1, why };
            if line.len() != 2 * KEY_LEN {
                return Err(bad("expected 64 hex characters (32 bytes)"));
            }
            let mut k = Zeroizing::new([0u8; KEY_LEN]);
            for (j, pair) in line.as_bytes().chunks_exact(2).enumerate() {
                let (Some(hi), Some(lo)) = (unhex_digit(pair[0]), unhex_digit(pair[1])) else {
                    return Err(bad("expected 64 hex characters (32 bytes)"));
                };
                k[j] = hi << 4 | lo;
            }
            set.push(&k).map_err(bad)?;
        }
        if set.keys.is_empty() {
            return Err(KeyError::Empty);
        }
        Ok(set)
    }

    /// Keys from a key file (see [`SealKeys::parse`]). The file's text is wiped after parsing.
    pub fn from_file(path: &Path) -> Result<SealKeys, KeyError> {
        let text = Zeroizing::new(std::fs::read(path).map_err(|e| KeyError::Read(format!("{}: {e}", path.display())))?);
        let text = std::str::from_utf8(&text).map_err(|_| KeyError::Read(format!("{}: not text", path.display())))?;
        SealKeys::parse(text)
    }

    fn push(&mut self, key: &[u8; KEY_LEN]) -> Result<(), &'static str> {
        if key.iter().all(|&b| b == 0) {
            return Err("an all-zero key");
        }
        let id = key_id(key);
        if self.keys.iter().any(|k| k.id == id) {
            return Err("this key is already listed");
        }
        if self.keys.len() == MAX_KEYS {
            return Err("more than 64 keys");
        }
        self.keys.push(SealKey { id, aead: XChaCha20Poly1305::new(Key::from_slice(key)) });
        Ok(())
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: a set has at least one key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The id of the sealing key, in hex (for logs).
    pub fn sealing_key_id(&self) -> String {
        self.keys[0].id.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `plaintext` sealed with the first key for `redis_key`; `None` when the operating system
    /// gave no random nonce (nothing is stored then, rather than a weak value).
    pub fn seal(&self, redis_key: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce).ok()?;
        // Exactly the capacity needed: the buffer never moves, so no copy of the plaintext is
        // left behind in a released allocation; encryption overwrites it in place.
        let mut out = Vec::with_capacity(plaintext.len() + OVERHEAD);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&key.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let ad = additional_data(&key.id, redis_key);
        match key.aead.encrypt_in_place_detached(XNonce::from_slice(&nonce), &ad, &mut out[HEADER_LEN..]) {
            Ok(tag) => {
                out.extend_from_slice(&tag);
                Some(out)
            }
            Err(_) => {
                out.zeroize();
                None
            }
        }
    }

    /// The plaintext of `value` stored under `redis_key`, if some key opens it: `None` for a
    /// value that is not sealed, sealed by no key of this set, for another Redis key, or
    /// altered. The plaintext is wiped when the returned buffer is dropped.
    pub fn open(&self, redis_key: &[u8], value: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if value.len() < OVERHEAD || &value[..MAGIC.len()] != MAGIC {
            return None;
        }
        let id = &value[MAGIC.len()..MAGIC.len() + KEY_ID_LEN];
        let nonce = XNonce::from_slice(&value[MAGIC.len() + KEY_ID_LEN..HEADER_LEN]);
        let (body, tag) = value[HEADER_LEN..].split_at(value.len() - OVERHEAD);
        let tag = Tag::from_slice(tag);
        for key in self.keys.iter().filter(|k| k.id == id) {
            let mut plain = Zeroizing::new(body.to_vec());
            let ad = additional_data(&key.id, redis_key);
            if key.aead.decrypt_in_place_detached(nonce, &ad, plain.as_mut_slice(), tag).is_ok() {
                return Some(plain);
            }
        }
        None
    }
}

/// Whether `value` has the form of a sealed value (it may still not open).
pub fn looks_sealed(value: &[u8]) -> bool {
    value.starts_with(MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const K2: &str = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eff";

    #[test]
    fn seal_then_open() {
        let keys = SealKeys::parse(K1).unwrap();
        let v = keys.seal(b"sesscache:01:aa", b"secret session").unwrap();
        assert_eq!(v.len(), 14 + OVERHEAD);
        assert!(looks_sealed(&v));
        assert!(!v.windows(6).any(|w| w == b"secret"), "the plaintext does not show");
        assert_eq!(keys.open(b"sesscache:01:aa", &v).unwrap().as_slice(), b"secret session");
        // Random nonces: the same plaintext seals differently.
        assert_ne!(keys.seal(b"sesscache:01:aa", b"secret session").unwrap(), v);
    }

    #[test]
    fn another_key_or_redis_key_or_a_flipped_bit_does_not_open() {
        let keys = SealKeys::parse(K1).unwrap();
        let v = keys.seal(b"sesscache:01:aa", b"session").unwrap();
        assert!(keys.open(b"sesscache:01:ab", &v).is_none(), "another id");
        assert!(keys.open(b"sesscache:02:aa", &v).is_none(), "another sid_ctx");
        assert!(SealKeys::parse(K2).unwrap().open(b"sesscache:01:aa", &v).is_none(), "another fleet key");
        for i in 0..v.len() {
            let mut w = v.clone();
            w[i] ^= 1;
            assert!(keys.open(b"sesscache:01:aa", &w).is_none(), "bit flipped at {i}");
        }
        assert!(keys.open(b"sesscache:01:aa", &v[..v.len() - 1]).is_none());
        assert!(keys.open(b"sesscache:01:aa", b"").is_none());
        assert!(keys.open(b"sesscache:01:aa", b"\x30\x03abc").is_none(), "plain DER");
    }

    #[test]
    fn rotation_new_key_first_old_values_still_open() {
        let old = SealKeys::parse(K1).unwrap();
        let v_old = old.seal(b"k", b"sealed with the old key").unwrap();
        let rotated = SealKeys::parse(&format!("# new first\n{K2}\n\n{K1}\n")).unwrap();
        assert_eq!(rotated.len(), 2);
        assert_eq!(rotated.open(b"k", &v_old).unwrap().as_slice(), b"sealed with the old key");
        let v_new = rotated.seal(b"k", b"new").unwrap();
        assert_eq!(&v_new[3..11], &key_id(&hex32(K2)), "the first key seals");
        assert!(old.open(b"k", &v_new).is_none(), "a server without the new key cannot open it");
        assert_eq!(rotated.sealing_key_id().len(), 16);
    }

    fn hex32(s: &str) -> [u8; 32] {
        let mut k = [0u8; 32];
        for (i, b) in k.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        k
    }

    #[test]
    fn bad_key_files_name_the_line() {
        let e = |t: &str| SealKeys::parse(t).unwrap_err().to_string();
        assert_eq!(e(""), "no key (expected lines of 64 hex characters)");
        assert_eq!(e("# only a comment\n\n"), "no key (expected lines of 64 hex characters)");
        assert_eq!(e(&format!("{K1}\nabc\n")), "line 2: expected 64 hex characters (32 bytes)");
        assert_eq!(e(&format!("\n{}zz\n", &K1[..62])), "line 2: expected 64 hex characters (32 bytes)");
        assert_eq!(e(&format!("{K1}\n{K1}\n")), "line 2: this key is already listed");
        assert_eq!(e(&"0".repeat(64)), "line 1: an all-zero key");
        let many: String = (1..=65u32).map(|i| format!("{:064x}\n", i)).collect();
        assert_eq!(e(&many), "line 65: more than 64 keys");
        assert!(SealKeys::parse(&format!("  {}  \r\n", K1.to_uppercase())).is_ok());
        assert!(!e(&format!("{K1}\nabc\n")).contains(&K1[..8]), "no key bytes in messages");
    }

    #[test]
    fn keys_from_bytes() {
        assert_eq!(SealKeys::from_bytes(&[]).unwrap_err(), KeyError::BadLength(0));
        assert_eq!(SealKeys::from_bytes(&[1; 33]).unwrap_err(), KeyError::BadLength(33));
        assert_eq!(SealKeys::from_bytes(&[1; 64]).unwrap_err().to_string(), "line 2: this key is already listed");
        let k = SealKeys::from_bytes(&hex32(K1)).unwrap();
        let v = k.seal(b"k", b"x").unwrap();
        assert!(SealKeys::parse(K1).unwrap().open(b"k", &v).is_some(), "bytes and hex are the same key");
    }

    #[test]
    fn key_files_are_read() {
        let dir = std::env::temp_dir().join(format!("sesscache-seal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("keys");
        std::fs::write(&f, format!("{K1}\n")).unwrap();
        assert_eq!(SealKeys::from_file(&f).unwrap().len(), 1);
        let e = SealKeys::from_file(&dir.join("missing")).unwrap_err().to_string();
        assert!(e.starts_with("cannot read the key file: ") && e.contains("missing"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
