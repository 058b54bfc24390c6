//! The codec against the vectors of OpenSSL 3.0.19, and its edge cases.

use super::decode::{int_value, Kind};
use super::encode::{int_content_signed, int_content_unsigned};
use super::vectors::*;
use super::*;
use crate::core::session::Extras;

/// A session as `SSL_SESSION_new` + the setters of der_vectors.c leave it
/// (verify_result 1, max_fragment_len_mode 255).
#[allow(clippy::too_many_arguments)]
fn api_session(code: u32, version: i32, id: &[u8], mk: &[u8], ctx: &[u8], time: i64, timeout: i64) -> DerSession {
    DerSession {
        ssl_version: version,
        cipher_id: if code == 0 { 0 } else { 0x0300_0000 | code },
        session_id: id.to_vec(),
        master_key: mk.to_vec().into(),
        time,
        timeout,
        sid_ctx: ctx.to_vec(),
        verify_result: 1,
        max_fragment_len_mode: 255,
        ..Default::default()
    }
}

fn enc_session(name: &str) -> DerSession {
    let id32 = [0xabu8; 32];
    let mk48 = [0xcdu8; 48];
    let mk512: Vec<u8> = (0..512).map(|i| i as u8).collect();
    let ctx32: Vec<u8> = (0..32).map(|i| 0x80 + i as u8).collect();
    let b = [1u8, 2, 3, 4];
    let spec = api_session(0xc02f, 0x0303, &id32, &mk48, &b, 1_700_000_000, 7200);
    let ext = DerSession {
        extras: Extras {
            hostname: Some(b"example.com".to_vec()),
            alpn_selected: Some(b"h2".to_vec()),
            max_early_data: 16384,
            ..spec.extras.clone()
        },
        ..spec.clone()
    };
    match name {
        "spec71" => spec,
        "spec71_ext" => ext,
        "spec71_appdata" => {
            DerSession { extras: Extras { ticket_appdata: Some(b"appdata".to_vec()), ..ext.extras.clone() }, ..ext }
        }
        "tls13_aes128_empty_id" => api_session(0x1301, 0x0304, &[], &mk48, &[], 1, 1),
        "tls13_aes256_ctx32" => api_session(0x1302, 0x0304, &id32[..16], &mk48, &ctx32, 0x7fff_ffff, 604_800),
        "tls13_chacha_mk512" => api_session(0x1303, 0x0304, &id32[..1], &mk512, &b[..1], 1_700_000_000, 300),
        "tls13_ccm8_empty_mk" => api_session(0x1305, 0x0304, &id32, &[], &[], 128, 127),
        "tls10_time0_timeout0" => api_session(0x002f, 0x0301, &id32, &mk48, &[], 0, 0),
        "tls11_neg_time_huge_timeout" => api_session(0xc009, 0x0302, &id32[..8], &mk48, &[], -1, i64::MAX),
        // SSL_SESSION_set_timeout(s, -5) fails in 3.0: the SSL_SESSION_new
        // default of 304 stays.
        "ssl3_neg_time_neg_timeout" => api_session(0x009c, 0x0300, &id32, &mk48, &[], -1_700_000_000, 304),
        "dtls12_time_min" => api_session(0xcca8, 0xfefd, &id32, &mk48, &[], i64::MIN, 255),
        "dtlsbad_scsv" => api_session(0x00ff, 0x0100, &id32, &mk48, &[], 0xffff_ffff, 0x80),
        "gost_cipher" => api_session(0xff87, 0x0303, &id32, &mk48, &[], 65535, 65536),
        "no_cipher" => api_session(0, 0x0303, &id32, &mk48, &[], 5, 5),
        "version0" => api_session(0xc030, 0, &id32, &mk48, &[], 5, 5),
        "empty_hostname_alpn" => DerSession {
            extras: Extras {
                hostname: Some(Vec::new()),
                // SSL_SESSION_set1_alpn_selected(s, "", 0) clears the ALPN.
                alpn_selected: None,
                max_early_data: u32::MAX,
                ..Extras::default()
            },
            ..api_session(0xc030, 0, &id32, &mk48, &[], 5, 5)
        },
        _ => panic!("no session for {name}"),
    }
}

#[test]
fn encode_matches_openssl() {
    for (name, want) in ENC_VECTORS {
        assert_eq!(hex(&encode(&enc_session(name))), *want, "{name}");
    }
}

#[test]
fn spec_7_1_measured_vector() {
    let want = "308185020101020203030402c02f0420".to_string()
        + &"ab".repeat(32)
        + "0430"
        + &"cd".repeat(48)
        + "a10602046553f100a20402021c20a406040401020304a503020101b104020200ffb303020100";
    let s = enc_session("spec71");
    assert_eq!(hex(&encode(&s)), want);
    let (d, n) = decode(&unhex(&want), NOW).unwrap();
    assert_eq!(n, want.len() / 2);
    assert_eq!(d, s);
}

#[test]
#[cfg_attr(miri, ignore = "exhaustive over every vector: too slow under Miri (cargo-fuzz d2i covers it)")]
fn encode_vectors_decode_back() {
    for (name, want) in ENC_VECTORS {
        if want.is_empty() {
            continue;
        }
        let s = enc_session(name);
        if s.ssl_version == 0 {
            // i2d writes it, d2i refuses it.
            let got = decode(&unhex(want), NOW);
            assert_eq!(got, Err(DerError::UnsupportedSslVersion), "{name}");
            continue;
        }
        let (d, n) = decode(&unhex(want), NOW).unwrap();
        assert_eq!(n, want.len() / 2, "{name}");
        let mut expect = s.clone();
        if expect.time == 0 {
            expect.time = NOW;
        }
        if expect.timeout == 0 {
            expect.timeout = 3;
        }
        assert_eq!(d, expect, "{name}");
    }
}

#[test]
#[cfg_attr(miri, ignore = "exhaustive over every vector: too slow under Miri (cargo-fuzz d2i covers it)")]
fn decode_matches_openssl() {
    for (name, input, want) in DEC_VECTORS {
        let got = decode(&unhex(input), NOW);
        match (want, got) {
            (Ok((n, reenc)), Ok((s, m))) => {
                assert_eq!(m, *n, "{name}: consumed");
                assert_eq!(hex(&encode(&s)), *reenc, "{name}: re-encoding");
            }
            (Err(e), Err(f)) => assert_eq!(f, *e, "{name}"),
            (w, g) => panic!("{name}: want {w:?}, got {g:?}"),
        }
    }
}

#[test]
fn decoded_fields() {
    let get = |name: &str| {
        let (_, input, _) = DEC_VECTORS.iter().find(|v| v.0 == name).unwrap();
        decode(&unhex(input), NOW).unwrap().0
    };
    let s = get("minimal");
    assert_eq!((s.time, s.timeout, s.verify_result, s.extras.kex_group), (NOW, 3, 0, 0));
    assert_eq!(s.sid_ctx, b"");
    assert_eq!(s.max_fragment_len_mode, 0);
    assert_eq!(s.cipher_id, 0x0300_c02f);
    assert_eq!(get("host_nul").extras.hostname.as_deref(), Some(&b"ab"[..]));
    let s = get("host_nul2");
    assert_eq!(s.extras.psk_identity_hint.as_deref(), Some(&b"ab"[..]));
    assert_eq!(s.extras.psk_identity.as_deref(), Some(&b""[..]));
    assert_eq!(get("host_empty").extras.hostname.as_deref(), Some(&b""[..]));
    assert_eq!(get("ticket_nul").extras.ticket.as_deref(), Some(&[0u8; 4][..]));
    assert_eq!(get("time_neg_2pow64_plus1").time, 1);
    assert_eq!(get("time_neg_2pow63_minus1").time, i64::MAX);
    assert_eq!(get("time_int64min").time, i64::MIN);
    assert_eq!(get("flags_trunc").extras.flags, 1);
    assert_eq!(get("flags_u64max").extras.flags, 0xffff_ffff);
    assert_eq!(get("hint_u64max").extras.tick_lifetime_hint, u64::MAX);
    assert_eq!(get("verify_int32min").verify_result, i64::from(i32::MIN));
    assert_eq!(get("mfl_u32max").max_fragment_len_mode, 255);
    assert_eq!(get("mfl_256").max_fragment_len_mode, 0);
    assert_eq!(get("comp_1").extras.comp_id, Some(1));
    assert_eq!(get("comp_0").extras.comp_id, None);
    assert_eq!(get("cipher_constructed_indef").cipher_id, 0x0300_c02f);
    assert_eq!(get("host_constructed").extras.hostname.as_deref(), Some(&b"abcd"[..]));
    assert_eq!(get("field_hightag_time").time, 1_700_000_000);
    assert_eq!(get("key_arg_ignored").time, 1_700_000_000);
    let s = get("all_fields");
    assert_eq!(s.verify_result, 5);
    assert_eq!(s.extras.srp_username.as_deref(), Some(&b"srpu"[..]));
    assert_eq!(s.extras.tick_lifetime_hint, 100);
    assert_eq!(s.extras.tick_age_add, 0x0102_0304);
    assert_eq!(s.extras.max_early_data, 127);
    assert_eq!(s.max_fragment_len_mode, 2);
    assert_eq!(s.extras.kex_group, 0x1d);
    let s = get("peer_cert");
    let cert = s.extras.peer_cert.unwrap();
    assert_eq!(cert.len(), 285);
    assert_eq!(&cert[..4], &[0x30, 0x82, 0x01, 0x19]);
    assert_eq!(get("sid_32").session_id.len(), 32);
    assert_eq!(get("mk_512").master_key.len(), 512);
}

#[test]
#[cfg_attr(miri, ignore = "exhaustive over every vector: too slow under Miri (cargo-fuzz d2i covers it)")]
fn every_truncation_rejected() {
    for (name, input, want) in DEC_VECTORS {
        if want.is_err() {
            continue;
        }
        let b = unhex(input);
        let (_, n) = decode(&b, NOW).unwrap();
        for k in 0..n {
            assert!(decode(&b[..k], NOW).is_err(), "{name}: prefix {k} accepted");
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "exhaustive over every vector: too slow under Miri (cargo-fuzz d2i covers it)")]
fn mutations_never_panic_and_stay_in_bounds() {
    for (_, input, _) in DEC_VECTORS {
        let b = unhex(input);
        for i in 0..b.len().min(64) {
            for x in [0x00u8, 0x01, 0x7f, 0x80, 0x81, 0xff, b[i] ^ 0x20, b[i].wrapping_add(1)] {
                let mut m = b.clone();
                m[i] = x;
                if let Ok((s, n)) = decode(&m, NOW) {
                    assert!(n <= m.len());
                    let e = encode(&s);
                    let (s2, n2) = decode(&e, NOW).unwrap();
                    assert_eq!(n2, e.len());
                    assert_eq!(s2, s);
                }
            }
        }
    }
}

#[test]
fn roundtrip_all_fields() {
    let s = DerSession {
        ssl_version: 0x0304,
        cipher_id: 0x0300_1302,
        session_id: vec![7; 32],
        master_key: vec![9; 512].into(),
        time: -12345,
        timeout: i64::MAX,
        sid_ctx: vec![1; 32],
        verify_result: -1,
        max_fragment_len_mode: 4,
        extras: Extras {
            peer_cert: Some(vec![0x30, 0x03, 0x02, 0x01, 0x00]),
            hostname: Some(b"h".to_vec()),
            psk_identity_hint: Some(b"hint".to_vec()),
            psk_identity: Some(Vec::new()),
            tick_lifetime_hint: u64::MAX,
            ticket: Some(vec![0; 300]),
            comp_id: Some(0xff),
            srp_username: Some(b"u".to_vec()),
            flags: 0x8000_0001,
            tick_age_add: u32::MAX,
            max_early_data: 0x8000,
            alpn_selected: Some(Vec::new()),
            ticket_appdata: Some(vec![0; 3]),
            kex_group: 0x11ec,
        },
    };
    let e = encode(&s);
    let (d, n) = decode(&e, NOW).unwrap();
    assert_eq!(n, e.len());
    assert_eq!(d, s);
    // Trailing bytes are not consumed.
    let mut t = e.clone();
    t.extend_from_slice(&[0xde, 0xad]);
    assert_eq!(decode(&t, NOW).unwrap().1, e.len());
}

#[test]
fn encode_normalisations() {
    let base = api_session(0xc02f, 0x0303, &[1], &[2], &[], 10, 10);
    // NULs cut strings; verify_result truncated to 32 bits; comp 0 omitted.
    let s = DerSession {
        verify_result: 0x1_0000_0000,
        extras: Extras { hostname: Some(b"ab\0cd".to_vec()), comp_id: Some(0), ..base.extras.clone() },
        ..base.clone()
    };
    let e = encode(&s);
    let (d, _) = decode(&e, NOW).unwrap();
    assert_eq!(d.extras.hostname.as_deref(), Some(&b"ab"[..]));
    assert_eq!(d.verify_result, 0);
    assert_eq!(d.extras.comp_id, None);
    assert_eq!(encode(&DerSession { cipher_id: 0, ..base }), Vec::<u8>::new());
}

#[test]
fn integer_contents() {
    let cases: &[(i64, &str)] = &[
        (0, "00"),
        (1, "01"),
        (127, "7f"),
        (128, "0080"),
        (255, "00ff"),
        (256, "0100"),
        (16384, "4000"),
        (-1, "ff"),
        (-128, "80"),
        (-129, "ff7f"),
        (-256, "ff00"),
        (1_700_000_000, "6553f100"),
        (i64::MAX, "7fffffffffffffff"),
        (i64::MIN, "8000000000000000"),
    ];
    for (v, h) in cases {
        assert_eq!(hex(&int_content_signed(*v)), *h, "{v}");
        let back = int_value(Kind::Int64, &unhex(h)).unwrap();
        assert_eq!(back, i128::from(*v));
    }
    assert_eq!(hex(&int_content_unsigned(u64::MAX)), "00ffffffffffffffff");
    assert_eq!(hex(&int_content_unsigned(0)), "00");
    assert_eq!(hex(&int_content_unsigned(0x80)), "0080");
    assert_eq!(int_value(Kind::Uint32, &[]), Ok(0));
    assert_eq!(int_value(Kind::Uint32, &[0x00, 0x7f]), Err(DerError::IllegalPadding));
    assert_eq!(int_value(Kind::Int32, &[0xff, 0x80]), Err(DerError::IllegalPadding));
    assert_eq!(int_value(Kind::Int32, &[0x80, 0, 0, 0]), Ok(i128::from(i32::MIN)));
}

#[test]
fn long_lengths() {
    let mut v = vec![0x30, 0x82, 0x00, 0x13];
    v.extend_from_slice(&unhex("020101020203030402c02f0402aabb0402ccdd"));
    assert_eq!(decode(&v, NOW).unwrap().1, v.len());
    let spec = enc_session("spec71");
    let big = DerSession { extras: Extras { ticket: Some(vec![0x55; 70000]), ..spec.extras.clone() }, ..spec };
    let e = encode(&big);
    assert_eq!(&e[..2], &[0x30, 0x83]);
    assert_eq!(decode(&e, NOW).unwrap().0, big);
}
