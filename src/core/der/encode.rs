//! The encoder: exactly the bytes OpenSSL 3.0's `i2d_SSL_SESSION` writes (minimal DER).

use super::types::{c_string, DerSession, SESSION_ASN1_VERSION};

const TAG_INTEGER: u8 = 0x02;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_SEQUENCE: u8 = 0x30;

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    push_len(out, content.len());
    out.extend_from_slice(content);
}

/// Minimal two's-complement content octets of a signed value.
pub(super) fn int_content_signed(v: i64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut i = 0;
    while i < 7 {
        let redundant = (b[i] == 0x00 && b[i + 1] & 0x80 == 0) || (b[i] == 0xff && b[i + 1] & 0x80 != 0);
        if !redundant {
            break;
        }
        i += 1;
    }
    b[i..].to_vec()
}

/// Minimal content octets of an unsigned value (leading `00` when the top bit is set).
pub(super) fn int_content_unsigned(v: u64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let skip = b.iter().take(7).take_while(|x| **x == 0).count();
    let mut out = Vec::with_capacity(9);
    if b[skip] & 0x80 != 0 {
        out.push(0);
    }
    out.extend_from_slice(&b[skip..]);
    out
}

fn push_explicit(out: &mut Vec<u8>, n: u8, inner_tag: u8, inner: &[u8]) {
    let mut tlv = Vec::with_capacity(inner.len() + 6);
    push_tlv(&mut tlv, inner_tag, inner);
    push_tlv(out, 0xa0 | n, &tlv);
}

/// `i2d_SSL_SESSION`: the DER encoding OpenSSL 3.0 produces. Empty when
/// `cipher_id` is 0 (OpenSSL writes nothing and returns 0 then).
pub fn encode(s: &DerSession) -> Vec<u8> {
    if s.cipher_id == 0 {
        return Vec::new();
    }
    // Room for every field (at most 12 header bytes each, and the integers), so that the
    // buffer never moves and leaves no copy of the master key in a released allocation; it
    // is wiped when dropped. The caller wipes the returned encoding when it is a secret to keep.
    let e = &s.extras;
    let bytes = [&e.peer_cert, &e.hostname, &e.psk_identity_hint, &e.psk_identity, &e.ticket]
        .into_iter()
        .chain([&e.srp_username, &e.alpn_selected, &e.ticket_appdata])
        .map(|v| v.as_ref().map_or(0, Vec::len))
        .sum::<usize>();
    let mut b = zeroize::Zeroizing::new(Vec::with_capacity(
        512 + s.session_id.len() + s.master_key.len() + s.sid_ctx.len() + bytes,
    ));
    push_tlv(&mut b, TAG_INTEGER, &int_content_unsigned(u64::from(SESSION_ASN1_VERSION)));
    push_tlv(&mut b, TAG_INTEGER, &int_content_signed(i64::from(s.ssl_version)));
    push_tlv(&mut b, TAG_OCTET_STRING, &[(s.cipher_id >> 8) as u8, s.cipher_id as u8]);
    push_tlv(&mut b, TAG_OCTET_STRING, &s.session_id);
    push_tlv(&mut b, TAG_OCTET_STRING, &s.master_key);
    if s.time != 0 {
        push_explicit(&mut b, 1, TAG_INTEGER, &int_content_signed(s.time));
    }
    if s.timeout != 0 {
        push_explicit(&mut b, 2, TAG_INTEGER, &int_content_signed(s.timeout));
    }
    if let Some(cert) = &s.extras.peer_cert {
        push_tlv(&mut b, 0xa3, cert);
    }
    push_explicit(&mut b, 4, TAG_OCTET_STRING, &s.sid_ctx);
    let verify = s.verify_result as i32;
    if verify != 0 {
        push_explicit(&mut b, 5, TAG_INTEGER, &int_content_signed(i64::from(verify)));
    }
    let strings = [(6u8, &s.extras.hostname), (7, &s.extras.psk_identity_hint), (8, &s.extras.psk_identity)];
    for (n, v) in strings {
        if let Some(v) = v {
            push_explicit(&mut b, n, TAG_OCTET_STRING, c_string(v));
        }
    }
    if s.extras.tick_lifetime_hint != 0 {
        push_explicit(&mut b, 9, TAG_INTEGER, &int_content_unsigned(s.extras.tick_lifetime_hint));
    }
    if let Some(t) = &s.extras.ticket {
        push_explicit(&mut b, 10, TAG_OCTET_STRING, t);
    }
    if let Some(c) = s.extras.comp_id {
        if c != 0 {
            push_explicit(&mut b, 11, TAG_OCTET_STRING, &[c]);
        }
    }
    if let Some(u) = &s.extras.srp_username {
        push_explicit(&mut b, 12, TAG_OCTET_STRING, c_string(u));
    }
    if s.extras.flags != 0 {
        push_explicit(&mut b, 13, TAG_INTEGER, &int_content_unsigned(s.extras.flags));
    }
    for (n, v) in [(14u8, s.extras.tick_age_add), (15, s.extras.max_early_data)] {
        if v != 0 {
            push_explicit(&mut b, n, TAG_INTEGER, &int_content_unsigned(u64::from(v)));
        }
    }
    if let Some(a) = &s.extras.alpn_selected {
        push_explicit(&mut b, 16, TAG_OCTET_STRING, a);
    }
    if s.max_fragment_len_mode != 0 {
        let v = u64::from(s.max_fragment_len_mode);
        push_explicit(&mut b, 17, TAG_INTEGER, &int_content_unsigned(v));
    }
    if let Some(a) = &s.extras.ticket_appdata {
        push_explicit(&mut b, 18, TAG_OCTET_STRING, a);
    }
    push_explicit(&mut b, 19, TAG_INTEGER, &int_content_unsigned(u64::from(s.extras.kex_group)));

    let mut out = Vec::with_capacity(b.len() + 10);
    push_tlv(&mut out, TAG_SEQUENCE, &b);
    out
}
