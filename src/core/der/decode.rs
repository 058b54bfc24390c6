//! The decoder: a port of the relevant rules of `ASN1_get_object` / `asn1_check_tlen` /
//! `asn1_collect` / `asn1_template_ex_d2i` / the SEQUENCE loop of tasn_dec.c.

use crate::core::cipher;
use crate::core::key::MAX_ID_LENGTH;
use crate::core::session::{Extras, MAX_MASTER_KEY_LENGTH};

use super::types::{c_string, DerError, DerSession, DEFAULT_DECODED_TIMEOUT, SESSION_ASN1_VERSION};

const CLASS_UNIVERSAL: u8 = 0x00;
const CLASS_CONTEXT: u8 = 0x80;
/// ASN1_MAX_STRING_NEST.
const MAX_STRING_NEST: u32 = 5;
/// ASN1_MAX_CONSTRUCTED_NEST (used when skipping the opaque certificate).
const MAX_CONSTRUCTED_NEST: u32 = 30;

type R<T> = Result<T, DerError>;

/// A parsed identifier + length.
#[derive(Clone, Copy, Debug)]
struct Header {
    tag: u32,
    class: u8,
    constructed: bool,
    indefinite: bool,
    /// Bytes of identifier and length octets.
    hdr_len: usize,
    /// Content length; for indefinite length, all the rest of the container.
    len: usize,
}

/// `ASN1_get_object` on `buf` (the rest of the enclosing container).
fn get_object(buf: &[u8]) -> R<Header> {
    let omax = buf.len();
    let first = *buf.first().ok_or(DerError::TooSmall)?;
    let constructed = first & 0x20 != 0;
    let class = first & 0xc0;
    let mut max = omax;
    let mut p = 0usize;
    let tag: u32;
    if first & 0x1f == 0x1f {
        p += 1;
        max -= 1;
        if max == 0 {
            return Err(DerError::BadObjectHeader);
        }
        let mut l: u64 = 0;
        loop {
            let b = *buf.get(p).ok_or(DerError::BadObjectHeader)?;
            if b & 0x80 == 0 {
                break;
            }
            l = (l << 7) | u64::from(b & 0x7f);
            p += 1;
            max -= 1;
            if max == 0 || l > (i32::MAX as u64 >> 7) {
                return Err(DerError::BadObjectHeader);
            }
        }
        let b = *buf.get(p).ok_or(DerError::BadObjectHeader)?;
        l = (l << 7) | u64::from(b & 0x7f);
        p += 1;
        max -= 1;
        if max == 0 {
            return Err(DerError::BadObjectHeader);
        }
        tag = l as u32;
    } else {
        tag = u32::from(first & 0x1f);
        p += 1;
        max -= 1;
        if max == 0 {
            return Err(DerError::BadObjectHeader);
        }
    }
    // asn1_get_length
    let lb = *buf.get(p).ok_or(DerError::BadObjectHeader)?;
    max -= 1;
    p += 1;
    let mut indefinite = false;
    let len: u64;
    if lb == 0x80 {
        indefinite = true;
        len = 0;
    } else if lb & 0x80 != 0 {
        let mut i = usize::from(lb & 0x7f);
        if max < i + 1 {
            return Err(DerError::BadObjectHeader);
        }
        while i > 0 && buf.get(p) == Some(&0) {
            p += 1;
            i -= 1;
        }
        if i > 8 {
            return Err(DerError::BadObjectHeader);
        }
        let mut v: u64 = 0;
        while i > 0 {
            v = (v << 8) | u64::from(*buf.get(p).ok_or(DerError::BadObjectHeader)?);
            p += 1;
            i -= 1;
        }
        if v > i64::MAX as u64 {
            return Err(DerError::BadObjectHeader);
        }
        len = v;
    } else {
        len = u64::from(lb);
    }
    if indefinite && !constructed {
        return Err(DerError::BadObjectHeader);
    }
    let rest = (omax - p) as u64;
    if len > rest {
        return Err(DerError::BadObjectHeader);
    }
    Ok(Header {
        tag,
        class,
        constructed,
        indefinite,
        hdr_len: p,
        len: if indefinite { omax - p } else { len as usize },
    })
}

/// `asn1_check_tlen`: `Ok(None)` when optional and the tag does not match.
/// `expect = None` accepts any tag and class.
fn check_tlen(buf: &[u8], expect: Option<(u32, u8)>, opt: bool) -> R<Option<Header>> {
    let h = get_object(buf)?;
    if let Some((tag, class)) = expect {
        if h.tag != tag || h.class != class {
            return if opt { Ok(None) } else { Err(DerError::WrongTag) };
        }
    }
    Ok(Some(h))
}

fn is_eoc(buf: &[u8]) -> bool {
    buf.len() >= 2 && buf[0] == 0 && buf[1] == 0
}

/// `asn1_collect`: concatenates the segments of a constructed string whose
/// content starts at `buf` (the rest of the container when `inf`). Returns
/// the number of bytes consumed.
fn collect(buf: &[u8], len: usize, inf: bool, depth: u32, out: &mut Vec<u8>) -> R<usize> {
    let mut inf = inf;
    let mut p = 0usize;
    let mut len = len;
    while len > 0 {
        let cur = buf.get(p..p + len).ok_or(DerError::BadObjectHeader)?;
        if is_eoc(cur) {
            if !inf {
                return Err(DerError::UnexpectedEoc);
            }
            inf = false;
            p += 2;
            break;
        }
        let h = check_tlen(cur, None, false)?.ok_or(DerError::WrongTag)?;
        let used = if h.constructed {
            if depth >= MAX_STRING_NEST {
                return Err(DerError::NestedAsn1String);
            }
            let inner = &cur[h.hdr_len..];
            h.hdr_len + collect(inner, h.len, h.indefinite, depth + 1, out)?
        } else {
            out.extend_from_slice(&cur[h.hdr_len..h.hdr_len + h.len]);
            h.hdr_len + h.len
        };
        p += used;
        len -= used;
    }
    if inf {
        return Err(DerError::MissingEoc);
    }
    Ok(p)
}

/// Skips one element (used for the opaque peer certificate), returning its size.
fn skip_element(buf: &[u8], depth: u32) -> R<usize> {
    let h = get_object(buf)?;
    if !h.indefinite {
        return Ok(h.hdr_len + h.len);
    }
    if depth >= MAX_CONSTRUCTED_NEST {
        return Err(DerError::BadObjectHeader);
    }
    let mut p = h.hdr_len;
    loop {
        let cur = buf.get(p..).ok_or(DerError::BadObjectHeader)?;
        if cur.is_empty() {
            return Err(DerError::MissingEoc);
        }
        if is_eoc(cur) {
            return Ok(p + 2);
        }
        p += skip_element(cur, depth + 1)?;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Uint32,
    Int32,
    Uint64,
    Int64,
    Octets,
    Cert,
}

/// A decoded field value.
enum Val {
    Int(i128),
    Bytes(Vec<u8>),
}

/// `c2i_ibuf` + `ossl_c2i_uint64_int`: (negative, magnitude).
fn c2i_int(c: &[u8]) -> R<(bool, u64)> {
    let first = c[0];
    let neg = first & 0x80 != 0;
    let mut pad = false;
    if c.len() > 1 {
        if first == 0 {
            pad = true;
        } else if first == 0xff {
            pad = c[1..].iter().any(|b| *b != 0);
        }
        if pad && neg == (c[1] & 0x80 != 0) {
            return Err(DerError::IllegalPadding);
        }
    }
    let sig = c.len() - usize::from(pad);
    if sig > 8 {
        return Err(DerError::TooLarge);
    }
    // Two's-complement value over all content octets (at most 9 here).
    let mut v: i128 = if neg { -1 } else { 0 };
    for b in c {
        v = (v << 8) | i128::from(*b);
    }
    Ok((neg, v.unsigned_abs() as u64))
}

pub(super) fn int_value(kind: Kind, c: &[u8]) -> R<i128> {
    if c.is_empty() {
        return Ok(0); // x_int64.c: zero-length content reads as 0
    }
    let (neg, mag) = c2i_int(c)?;
    match kind {
        Kind::Uint32 | Kind::Uint64 if neg => Err(DerError::IllegalNegativeValue),
        Kind::Uint32 if mag > u64::from(u32::MAX) => Err(DerError::TooLarge),
        Kind::Int32 if neg && mag > 1 << 31 => Err(DerError::TooSmall),
        Kind::Int32 if !neg && mag > i32::MAX as u64 => Err(DerError::TooLarge),
        Kind::Int64 if !neg && mag > i64::MAX as u64 => Err(DerError::TooLarge),
        Kind::Int64 if neg => Ok(i128::from(0u64.wrapping_sub(mag) as i64)),
        Kind::Int32 if neg => Ok(-i128::from(mag)),
        _ => Ok(i128::from(mag)),
    }
}

/// `asn1_d2i_ex_primitive` (or the opaque certificate): one element of
/// `kind` with the expected tag. Returns `None` when optional and absent.
fn primitive(buf: &[u8], kind: Kind, tag: (u32, u8), opt: bool) -> R<Option<(Val, usize)>> {
    let h = match check_tlen(buf, Some(tag), opt)? {
        Some(h) => h,
        None => return Ok(None),
    };
    match kind {
        Kind::Cert => {
            if !h.constructed {
                return Err(DerError::SequenceNotConstructed);
            }
            let n = skip_element(buf, 0)?;
            let content = if h.indefinite { n - h.hdr_len - 2 } else { h.len };
            if content == 0 {
                return Err(DerError::FieldMissing);
            }
            Ok(Some((Val::Bytes(buf[..n].to_vec()), n)))
        }
        Kind::Octets => {
            if h.constructed {
                let mut out = Vec::new();
                let n = collect(&buf[h.hdr_len..], h.len, h.indefinite, 0, &mut out)?;
                Ok(Some((Val::Bytes(out), h.hdr_len + n)))
            } else {
                let c = buf[h.hdr_len..h.hdr_len + h.len].to_vec();
                Ok(Some((Val::Bytes(c), h.hdr_len + h.len)))
            }
        }
        _ => {
            if h.constructed {
                return Err(DerError::TypeNotPrimitive);
            }
            let v = int_value(kind, &buf[h.hdr_len..h.hdr_len + h.len])?;
            Ok(Some((Val::Int(v), h.hdr_len + h.len)))
        }
    }
}

/// One template of `SSL_SESSION_ASN1`.
struct Template {
    kind: Kind,
    /// Explicit context tag number, or None for an untagged/implicit field.
    explicit: Option<u32>,
    /// Tag (number, class) of the element itself.
    tag: (u32, u8),
    optional: bool,
}

const fn plain(kind: Kind, tag: u32) -> Template {
    Template { kind, explicit: None, tag: (tag, CLASS_UNIVERSAL), optional: false }
}

const fn exp(kind: Kind, n: u32) -> Template {
    let tag = match kind {
        Kind::Octets => 4,
        Kind::Cert => 16,
        _ => 2,
    };
    Template { kind, explicit: Some(n), tag: (tag, CLASS_UNIVERSAL), optional: true }
}

/// OpenSSL 3.0's SSL_SESSION_ASN1 template list (built with PSK, SRP and COMP).
const TEMPLATES: [Template; 25] = [
    plain(Kind::Uint32, 2), // 0 version
    plain(Kind::Int32, 2),  // 1 ssl_version
    plain(Kind::Octets, 4), // 2 cipher
    plain(Kind::Octets, 4), // 3 session_id
    plain(Kind::Octets, 4), // 4 master_key
    Template { kind: Kind::Octets, explicit: None, tag: (0, CLASS_CONTEXT), optional: true }, // 5 key_arg
    exp(Kind::Int64, 1),    // 6 time
    exp(Kind::Int64, 2),    // 7 timeout
    exp(Kind::Cert, 3),     // 8 peer
    exp(Kind::Octets, 4),   // 9 session_id_context
    exp(Kind::Int32, 5),    // 10 verify_result
    exp(Kind::Octets, 6),   // 11 hostname
    exp(Kind::Octets, 7),   // 12 psk_identity_hint
    exp(Kind::Octets, 8),   // 13 psk_identity
    exp(Kind::Uint64, 9),   // 14 tick_lifetime_hint
    exp(Kind::Octets, 10),  // 15 ticket
    exp(Kind::Octets, 11),  // 16 comp_id
    exp(Kind::Octets, 12),  // 17 srp_username
    exp(Kind::Uint64, 13),  // 18 flags
    exp(Kind::Uint32, 14),  // 19 tick_age_add
    exp(Kind::Uint32, 15),  // 20 max_early_data
    exp(Kind::Octets, 16),  // 21 alpn_selected
    exp(Kind::Uint32, 17),  // 22 max_fragment_len_mode
    exp(Kind::Octets, 18),  // 23 ticket_appdata
    exp(Kind::Uint32, 19),  // 24 kex_group
];

/// `asn1_template_ex_d2i` for one template on `buf` (the rest of the SEQUENCE).
fn template(buf: &[u8], t: &Template, opt: bool) -> R<Option<(Val, usize)>> {
    let n = match t.explicit {
        None => return primitive(buf, t.kind, t.tag, opt),
        Some(n) => n,
    };
    let h = match check_tlen(buf, Some((n, CLASS_CONTEXT)), opt)? {
        Some(h) => h,
        None => return Ok(None),
    };
    if !h.constructed {
        return Err(DerError::ExplicitTagNotConstructed);
    }
    let inner = &buf[h.hdr_len..h.hdr_len + h.len];
    let (v, used) = primitive(inner, t.kind, t.tag, false)?.ok_or(DerError::WrongTag)?;
    let rest = h.len - used;
    let mut total = h.hdr_len + used;
    if h.indefinite {
        if !is_eoc(&inner[used..]) {
            return Err(DerError::MissingEoc);
        }
        total += 2;
    } else if rest != 0 {
        return Err(DerError::ExplicitLengthMismatch);
    }
    Ok(Some((v, total)))
}

/// Parses the SEQUENCE; returns the field values by template index and the
/// number of bytes consumed.
fn parse_sequence(input: &[u8]) -> R<([Option<Val>; 25], usize)> {
    let h = check_tlen(input, Some((16, CLASS_UNIVERSAL)), false)?.ok_or(DerError::WrongTag)?;
    if !h.constructed {
        return Err(DerError::SequenceNotConstructed);
    }
    let mut seq_eoc = h.indefinite;
    let seq_nolen = h.indefinite;
    let mut p = h.hdr_len;
    let mut len = h.len;
    let mut vals: [Option<Val>; 25] = Default::default();
    let last = TEMPLATES.len() - 1;
    let mut i = 0;
    while i < TEMPLATES.len() {
        if len == 0 {
            break;
        }
        let cur = &input[p..p + len];
        if is_eoc(cur) {
            if !seq_eoc {
                return Err(DerError::UnexpectedEoc);
            }
            p += 2;
            len -= 2;
            seq_eoc = false;
            break;
        }
        let t = &TEMPLATES[i];
        let opt = i != last && t.optional;
        if let Some((v, used)) = template(cur, t, opt)? {
            vals[i] = Some(v);
            p += used;
            len -= used;
        }
        i += 1;
    }
    if seq_eoc {
        if !is_eoc(&input[p..p + len]) {
            return Err(DerError::MissingEoc);
        }
        p += 2;
    }
    if !seq_nolen && len != 0 {
        return Err(DerError::SequenceLengthMismatch);
    }
    if TEMPLATES[i..].iter().any(|t| !t.optional) {
        return Err(DerError::FieldMissing);
    }
    Ok((vals, p))
}

fn take_int(v: &mut Option<Val>) -> i128 {
    match v.take() {
        Some(Val::Int(i)) => i,
        _ => 0,
    }
}

fn take_bytes(v: &mut Option<Val>) -> Option<Vec<u8>> {
    match v.take() {
        Some(Val::Bytes(b)) => Some(b),
        _ => None,
    }
}

fn take_string(v: &mut Option<Val>) -> Option<Vec<u8>> {
    take_bytes(v).map(|b| c_string(&b).to_vec())
}

fn bounded(v: &mut Option<Val>, max: usize, err: DerError) -> R<Vec<u8>> {
    let b = take_bytes(v).unwrap_or_default();
    if b.len() > max {
        return Err(err);
    }
    Ok(b)
}

/// Decodes one SSL_SESSION_ASN1 from the front of `input` with OpenSSL 3.0's
/// `d2i_SSL_SESSION` rules; returns the session and the number of bytes
/// consumed (bytes after the outer SEQUENCE are left alone). `now` replaces
/// an absent or zero time. Never panics and never reads past `input`.
///
/// The peer certificate is kept opaque: only its outer SEQUENCE is checked
/// (OpenSSL additionally parses it as an X.509 certificate).
pub fn decode(input: &[u8], now: i64) -> Result<(DerSession, usize), DerError> {
    let (mut v, consumed) = parse_sequence(input)?;

    if take_int(&mut v[0]) != i128::from(SESSION_ASN1_VERSION) {
        return Err(DerError::UnknownSslVersion);
    }
    let ssl_version = take_int(&mut v[1]) as i32;
    let major = ssl_version >> 8;
    if major != 0x03 && major != 0xfe && ssl_version != 0x0100 {
        return Err(DerError::UnsupportedSslVersion);
    }
    let code = take_bytes(&mut v[2]).unwrap_or_default();
    if code.len() != 2 {
        return Err(DerError::CipherCodeWrongLength);
    }
    let c = cipher::find_by_code(code[0], code[1]).ok_or(DerError::UnknownCipher)?;
    let session_id = bounded(&mut v[3], MAX_ID_LENGTH, DerError::SessionIdTooLong)?;
    let master_key = bounded(&mut v[4], MAX_MASTER_KEY_LENGTH, DerError::MasterKeyTooLong)?;
    let time = match take_int(&mut v[6]) as i64 {
        0 => now,
        t => t,
    };
    let timeout = match take_int(&mut v[7]) as i64 {
        0 => DEFAULT_DECODED_TIMEOUT,
        t => t,
    };
    // divergence: the certificate stays opaque bytes (OpenSSL parses it as X.509).
    let peer_cert = take_bytes(&mut v[8]);
    let sid_ctx = bounded(&mut v[9], MAX_ID_LENGTH, DerError::SidCtxTooLong)?;
    let verify_result = take_int(&mut v[10]) as i64;
    let hostname = take_string(&mut v[11]);
    let psk_identity_hint = take_string(&mut v[12]);
    let psk_identity = take_string(&mut v[13]);
    let tick_lifetime_hint = take_int(&mut v[14]) as u64;
    let ticket = take_bytes(&mut v[15]);
    let comp_id = match take_bytes(&mut v[16]) {
        None => None,
        Some(b) if b.len() != 1 => return Err(DerError::BadCompIdLength),
        Some(b) => Some(b[0]).filter(|x| *x != 0),
    };
    let srp_username = take_string(&mut v[17]);
    let flags = u64::from(take_int(&mut v[18]) as u32);
    let tick_age_add = take_int(&mut v[19]) as u32;
    let max_early_data = take_int(&mut v[20]) as u32;
    let alpn_selected = take_bytes(&mut v[21]);
    // SSL_SESSION keeps it in a uint8_t.
    let max_fragment_len_mode = u32::from(take_int(&mut v[22]) as u8);
    let ticket_appdata = take_bytes(&mut v[23]);
    let kex_group = take_int(&mut v[24]) as u32;

    Ok((
        DerSession {
            ssl_version,
            cipher_id: c.id,
            session_id,
            master_key: zeroize::Zeroizing::new(master_key),
            time,
            timeout,
            sid_ctx,
            verify_result,
            max_fragment_len_mode,
            extras: Extras {
                peer_cert,
                hostname,
                psk_identity_hint,
                psk_identity,
                tick_lifetime_hint,
                ticket,
                comp_id,
                srp_username,
                flags,
                tick_age_add,
                max_early_data,
                alpn_selected,
                ticket_appdata,
                kex_group,
            },
        },
        consumed,
    ))
}
