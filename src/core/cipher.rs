//! Static table of the TLS cipher suites OpenSSL 3.0 knows (`ssl/s3_lib.c`:
//! `tls13_ciphers`, `ssl3_ciphers` as compiled with `no-weak-ssl-ciphers`, and
//! `ssl3_scsvs`).
//!
//! The table was generated once from the installed OpenSSL 3.0.19 by probing
//! every 2-byte code with `SSL_CIPHER_find()` and `d2i_SSL_SESSION()`; both
//! know exactly the same 174 entries (a superset of what
//! `openssl ciphers -V 'ALL:COMPLEMENTOFALL'` lists, which hides suites whose
//! algorithms the default provider lacks, e.g. IDEA/SEED/GOST, and the CCM
//! TLS 1.3 suites that are not in the default ciphersuites list).
//!
//! Safe Rust only; no C types.

/// One cipher suite, as `SSL_CIPHER` describes it.
#[derive(Debug, PartialEq, Eq)]
pub struct Cipher {
    /// `0x0300XXXX`, as `SSL_CIPHER_get_id()` returns (XXXX = wire code).
    pub id: u32,
    /// OpenSSL name, as `SSL_CIPHER_get_name()`.
    pub name: &'static str,
    /// RFC name, as `SSL_CIPHER_standard_name()`; empty where OpenSSL has none
    /// (the GOST suites, for which that function returns NULL).
    pub std_name: &'static str,
    /// Minimum TLS version (`0x0300` SSLv3 .. `0x0304` TLS 1.3); 0 for the
    /// two signalling cipher suite values.
    pub min_tls: i32,
}

impl Cipher {
    /// The 2-byte wire code (`SSL_CIPHER_get_protocol_id()`).
    pub fn protocol_id(&self) -> u16 {
        (self.id & 0xffff) as u16
    }
}

const fn c(id: u32, name: &'static str, std_name: &'static str, min_tls: i32) -> Cipher {
    Cipher {
        id,
        name,
        std_name,
        min_tls,
    }
}

/// All known suites, sorted by `id` (so that lookups can binary-search).
pub static CIPHERS: &[Cipher] = &[
    c(0x03000001, "NULL-MD5", "TLS_RSA_WITH_NULL_MD5", 0x0300),
    c(0x03000002, "NULL-SHA", "TLS_RSA_WITH_NULL_SHA", 0x0300),
    c(
        0x03000007,
        "IDEA-CBC-SHA",
        "TLS_RSA_WITH_IDEA_CBC_SHA",
        0x0300,
    ),
    c(0x0300002c, "PSK-NULL-SHA", "TLS_PSK_WITH_NULL_SHA", 0x0300),
    c(
        0x0300002d,
        "DHE-PSK-NULL-SHA",
        "TLS_DHE_PSK_WITH_NULL_SHA",
        0x0300,
    ),
    c(
        0x0300002e,
        "RSA-PSK-NULL-SHA",
        "TLS_RSA_PSK_WITH_NULL_SHA",
        0x0300,
    ),
    c(
        0x0300002f,
        "AES128-SHA",
        "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000032,
        "DHE-DSS-AES128-SHA",
        "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000033,
        "DHE-RSA-AES128-SHA",
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000034,
        "ADH-AES128-SHA",
        "TLS_DH_anon_WITH_AES_128_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000035,
        "AES256-SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000038,
        "DHE-DSS-AES256-SHA",
        "TLS_DHE_DSS_WITH_AES_256_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000039,
        "DHE-RSA-AES256-SHA",
        "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        0x0300,
    ),
    c(
        0x0300003a,
        "ADH-AES256-SHA",
        "TLS_DH_anon_WITH_AES_256_CBC_SHA",
        0x0300,
    ),
    c(
        0x0300003b,
        "NULL-SHA256",
        "TLS_RSA_WITH_NULL_SHA256",
        0x0303,
    ),
    c(
        0x0300003c,
        "AES128-SHA256",
        "TLS_RSA_WITH_AES_128_CBC_SHA256",
        0x0303,
    ),
    c(
        0x0300003d,
        "AES256-SHA256",
        "TLS_RSA_WITH_AES_256_CBC_SHA256",
        0x0303,
    ),
    c(
        0x03000040,
        "DHE-DSS-AES128-SHA256",
        "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
        0x0303,
    ),
    c(
        0x03000041,
        "CAMELLIA128-SHA",
        "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000044,
        "DHE-DSS-CAMELLIA128-SHA",
        "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000045,
        "DHE-RSA-CAMELLIA128-SHA",
        "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000046,
        "ADH-CAMELLIA128-SHA",
        "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000067,
        "DHE-RSA-AES128-SHA256",
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
        0x0303,
    ),
    c(
        0x0300006a,
        "DHE-DSS-AES256-SHA256",
        "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
        0x0303,
    ),
    c(
        0x0300006b,
        "DHE-RSA-AES256-SHA256",
        "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
        0x0303,
    ),
    c(
        0x0300006c,
        "ADH-AES128-SHA256",
        "TLS_DH_anon_WITH_AES_128_CBC_SHA256",
        0x0303,
    ),
    c(
        0x0300006d,
        "ADH-AES256-SHA256",
        "TLS_DH_anon_WITH_AES_256_CBC_SHA256",
        0x0303,
    ),
    c(
        0x03000081,
        "GOST2001-GOST89-GOST89",
        "TLS_GOSTR341001_WITH_28147_CNT_IMIT",
        0x0301,
    ),
    c(
        0x03000083,
        "GOST2001-NULL-GOST94",
        "TLS_GOSTR341001_WITH_NULL_GOSTR3411",
        0x0301,
    ),
    c(
        0x03000084,
        "CAMELLIA256-SHA",
        "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000087,
        "DHE-DSS-CAMELLIA256-SHA",
        "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000088,
        "DHE-RSA-CAMELLIA256-SHA",
        "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000089,
        "ADH-CAMELLIA256-SHA",
        "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA",
        0x0300,
    ),
    c(
        0x0300008c,
        "PSK-AES128-CBC-SHA",
        "TLS_PSK_WITH_AES_128_CBC_SHA",
        0x0300,
    ),
    c(
        0x0300008d,
        "PSK-AES256-CBC-SHA",
        "TLS_PSK_WITH_AES_256_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000090,
        "DHE-PSK-AES128-CBC-SHA",
        "TLS_DHE_PSK_WITH_AES_128_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000091,
        "DHE-PSK-AES256-CBC-SHA",
        "TLS_DHE_PSK_WITH_AES_256_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000094,
        "RSA-PSK-AES128-CBC-SHA",
        "TLS_RSA_PSK_WITH_AES_128_CBC_SHA",
        0x0300,
    ),
    c(
        0x03000095,
        "RSA-PSK-AES256-CBC-SHA",
        "TLS_RSA_PSK_WITH_AES_256_CBC_SHA",
        0x0300,
    ),
    c(0x03000096, "SEED-SHA", "TLS_RSA_WITH_SEED_CBC_SHA", 0x0300),
    c(
        0x03000099,
        "DHE-DSS-SEED-SHA",
        "TLS_DHE_DSS_WITH_SEED_CBC_SHA",
        0x0300,
    ),
    c(
        0x0300009a,
        "DHE-RSA-SEED-SHA",
        "TLS_DHE_RSA_WITH_SEED_CBC_SHA",
        0x0300,
    ),
    c(
        0x0300009b,
        "ADH-SEED-SHA",
        "TLS_DH_anon_WITH_SEED_CBC_SHA",
        0x0300,
    ),
    c(
        0x0300009c,
        "AES128-GCM-SHA256",
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x0300009d,
        "AES256-GCM-SHA384",
        "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x0300009e,
        "DHE-RSA-AES128-GCM-SHA256",
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x0300009f,
        "DHE-RSA-AES256-GCM-SHA384",
        "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x030000a2,
        "DHE-DSS-AES128-GCM-SHA256",
        "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x030000a3,
        "DHE-DSS-AES256-GCM-SHA384",
        "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x030000a6,
        "ADH-AES128-GCM-SHA256",
        "TLS_DH_anon_WITH_AES_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x030000a7,
        "ADH-AES256-GCM-SHA384",
        "TLS_DH_anon_WITH_AES_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x030000a8,
        "PSK-AES128-GCM-SHA256",
        "TLS_PSK_WITH_AES_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x030000a9,
        "PSK-AES256-GCM-SHA384",
        "TLS_PSK_WITH_AES_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x030000aa,
        "DHE-PSK-AES128-GCM-SHA256",
        "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x030000ab,
        "DHE-PSK-AES256-GCM-SHA384",
        "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x030000ac,
        "RSA-PSK-AES128-GCM-SHA256",
        "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x030000ad,
        "RSA-PSK-AES256-GCM-SHA384",
        "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x030000ae,
        "PSK-AES128-CBC-SHA256",
        "TLS_PSK_WITH_AES_128_CBC_SHA256",
        0x0301,
    ),
    c(
        0x030000af,
        "PSK-AES256-CBC-SHA384",
        "TLS_PSK_WITH_AES_256_CBC_SHA384",
        0x0301,
    ),
    c(
        0x030000b0,
        "PSK-NULL-SHA256",
        "TLS_PSK_WITH_NULL_SHA256",
        0x0301,
    ),
    c(
        0x030000b1,
        "PSK-NULL-SHA384",
        "TLS_PSK_WITH_NULL_SHA384",
        0x0301,
    ),
    c(
        0x030000b2,
        "DHE-PSK-AES128-CBC-SHA256",
        "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256",
        0x0301,
    ),
    c(
        0x030000b3,
        "DHE-PSK-AES256-CBC-SHA384",
        "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384",
        0x0301,
    ),
    c(
        0x030000b4,
        "DHE-PSK-NULL-SHA256",
        "TLS_DHE_PSK_WITH_NULL_SHA256",
        0x0301,
    ),
    c(
        0x030000b5,
        "DHE-PSK-NULL-SHA384",
        "TLS_DHE_PSK_WITH_NULL_SHA384",
        0x0301,
    ),
    c(
        0x030000b6,
        "RSA-PSK-AES128-CBC-SHA256",
        "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256",
        0x0301,
    ),
    c(
        0x030000b7,
        "RSA-PSK-AES256-CBC-SHA384",
        "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384",
        0x0301,
    ),
    c(
        0x030000b8,
        "RSA-PSK-NULL-SHA256",
        "TLS_RSA_PSK_WITH_NULL_SHA256",
        0x0301,
    ),
    c(
        0x030000b9,
        "RSA-PSK-NULL-SHA384",
        "TLS_RSA_PSK_WITH_NULL_SHA384",
        0x0301,
    ),
    c(
        0x030000ba,
        "CAMELLIA128-SHA256",
        "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256",
        0x0303,
    ),
    c(
        0x030000bd,
        "DHE-DSS-CAMELLIA128-SHA256",
        "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256",
        0x0303,
    ),
    c(
        0x030000be,
        "DHE-RSA-CAMELLIA128-SHA256",
        "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
        0x0303,
    ),
    c(
        0x030000bf,
        "ADH-CAMELLIA128-SHA256",
        "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256",
        0x0303,
    ),
    c(
        0x030000c0,
        "CAMELLIA256-SHA256",
        "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256",
        0x0303,
    ),
    c(
        0x030000c3,
        "DHE-DSS-CAMELLIA256-SHA256",
        "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256",
        0x0303,
    ),
    c(
        0x030000c4,
        "DHE-RSA-CAMELLIA256-SHA256",
        "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256",
        0x0303,
    ),
    c(
        0x030000c5,
        "ADH-CAMELLIA256-SHA256",
        "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256",
        0x0303,
    ),
    c(
        0x030000ff,
        "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
        "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
        0,
    ),
    c(
        0x03001301,
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_128_GCM_SHA256",
        0x0304,
    ),
    c(
        0x03001302,
        "TLS_AES_256_GCM_SHA384",
        "TLS_AES_256_GCM_SHA384",
        0x0304,
    ),
    c(
        0x03001303,
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_CHACHA20_POLY1305_SHA256",
        0x0304,
    ),
    c(
        0x03001304,
        "TLS_AES_128_CCM_SHA256",
        "TLS_AES_128_CCM_SHA256",
        0x0304,
    ),
    c(
        0x03001305,
        "TLS_AES_128_CCM_8_SHA256",
        "TLS_AES_128_CCM_8_SHA256",
        0x0304,
    ),
    c(0x03005600, "TLS_FALLBACK_SCSV", "TLS_FALLBACK_SCSV", 0),
    c(
        0x0300c006,
        "ECDHE-ECDSA-NULL-SHA",
        "TLS_ECDHE_ECDSA_WITH_NULL_SHA",
        0x0301,
    ),
    c(
        0x0300c009,
        "ECDHE-ECDSA-AES128-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0x0301,
    ),
    c(
        0x0300c00a,
        "ECDHE-ECDSA-AES256-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0x0301,
    ),
    c(
        0x0300c010,
        "ECDHE-RSA-NULL-SHA",
        "TLS_ECDHE_RSA_WITH_NULL_SHA",
        0x0301,
    ),
    c(
        0x0300c013,
        "ECDHE-RSA-AES128-SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0x0301,
    ),
    c(
        0x0300c014,
        "ECDHE-RSA-AES256-SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0x0301,
    ),
    c(
        0x0300c015,
        "AECDH-NULL-SHA",
        "TLS_ECDH_anon_WITH_NULL_SHA",
        0x0301,
    ),
    c(
        0x0300c018,
        "AECDH-AES128-SHA",
        "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",
        0x0301,
    ),
    c(
        0x0300c019,
        "AECDH-AES256-SHA",
        "TLS_ECDH_anon_WITH_AES_256_CBC_SHA",
        0x0301,
    ),
    c(
        0x0300c01d,
        "SRP-AES-128-CBC-SHA",
        "TLS_SRP_SHA_WITH_AES_128_CBC_SHA",
        0x0300,
    ),
    c(
        0x0300c01e,
        "SRP-RSA-AES-128-CBC-SHA",
        "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA",
        0x0300,
    ),
    c(
        0x0300c01f,
        "SRP-DSS-AES-128-CBC-SHA",
        "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA",
        0x0300,
    ),
    c(
        0x0300c020,
        "SRP-AES-256-CBC-SHA",
        "TLS_SRP_SHA_WITH_AES_256_CBC_SHA",
        0x0300,
    ),
    c(
        0x0300c021,
        "SRP-RSA-AES-256-CBC-SHA",
        "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA",
        0x0300,
    ),
    c(
        0x0300c022,
        "SRP-DSS-AES-256-CBC-SHA",
        "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA",
        0x0300,
    ),
    c(
        0x0300c023,
        "ECDHE-ECDSA-AES128-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        0x0303,
    ),
    c(
        0x0300c024,
        "ECDHE-ECDSA-AES256-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        0x0303,
    ),
    c(
        0x0300c027,
        "ECDHE-RSA-AES128-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        0x0303,
    ),
    c(
        0x0300c028,
        "ECDHE-RSA-AES256-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        0x0303,
    ),
    c(
        0x0300c02b,
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x0300c02c,
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x0300c02f,
        "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x0300c030,
        "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x0300c035,
        "ECDHE-PSK-AES128-CBC-SHA",
        "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA",
        0x0301,
    ),
    c(
        0x0300c036,
        "ECDHE-PSK-AES256-CBC-SHA",
        "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA",
        0x0301,
    ),
    c(
        0x0300c037,
        "ECDHE-PSK-AES128-CBC-SHA256",
        "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",
        0x0301,
    ),
    c(
        0x0300c038,
        "ECDHE-PSK-AES256-CBC-SHA384",
        "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384",
        0x0301,
    ),
    c(
        0x0300c039,
        "ECDHE-PSK-NULL-SHA",
        "TLS_ECDHE_PSK_WITH_NULL_SHA",
        0x0301,
    ),
    c(
        0x0300c03a,
        "ECDHE-PSK-NULL-SHA256",
        "TLS_ECDHE_PSK_WITH_NULL_SHA256",
        0x0301,
    ),
    c(
        0x0300c03b,
        "ECDHE-PSK-NULL-SHA384",
        "TLS_ECDHE_PSK_WITH_NULL_SHA384",
        0x0301,
    ),
    c(
        0x0300c050,
        "ARIA128-GCM-SHA256",
        "TLS_RSA_WITH_ARIA_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x0300c051,
        "ARIA256-GCM-SHA384",
        "TLS_RSA_WITH_ARIA_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x0300c052,
        "DHE-RSA-ARIA128-GCM-SHA256",
        "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x0300c053,
        "DHE-RSA-ARIA256-GCM-SHA384",
        "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x0300c056,
        "DHE-DSS-ARIA128-GCM-SHA256",
        "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x0300c057,
        "DHE-DSS-ARIA256-GCM-SHA384",
        "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x0300c05c,
        "ECDHE-ECDSA-ARIA128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x0300c05d,
        "ECDHE-ECDSA-ARIA256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x0300c060,
        "ECDHE-ARIA128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x0300c061,
        "ECDHE-ARIA256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x0300c06a,
        "PSK-ARIA128-GCM-SHA256",
        "TLS_PSK_WITH_ARIA_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x0300c06b,
        "PSK-ARIA256-GCM-SHA384",
        "TLS_PSK_WITH_ARIA_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x0300c06c,
        "DHE-PSK-ARIA128-GCM-SHA256",
        "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x0300c06d,
        "DHE-PSK-ARIA256-GCM-SHA384",
        "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x0300c06e,
        "RSA-PSK-ARIA128-GCM-SHA256",
        "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256",
        0x0303,
    ),
    c(
        0x0300c06f,
        "RSA-PSK-ARIA256-GCM-SHA384",
        "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384",
        0x0303,
    ),
    c(
        0x0300c072,
        "ECDHE-ECDSA-CAMELLIA128-SHA256",
        "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256",
        0x0303,
    ),
    c(
        0x0300c073,
        "ECDHE-ECDSA-CAMELLIA256-SHA384",
        "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384",
        0x0303,
    ),
    c(
        0x0300c076,
        "ECDHE-RSA-CAMELLIA128-SHA256",
        "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
        0x0303,
    ),
    c(
        0x0300c077,
        "ECDHE-RSA-CAMELLIA256-SHA384",
        "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384",
        0x0303,
    ),
    c(
        0x0300c094,
        "PSK-CAMELLIA128-SHA256",
        "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256",
        0x0301,
    ),
    c(
        0x0300c095,
        "PSK-CAMELLIA256-SHA384",
        "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384",
        0x0301,
    ),
    c(
        0x0300c096,
        "DHE-PSK-CAMELLIA128-SHA256",
        "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256",
        0x0301,
    ),
    c(
        0x0300c097,
        "DHE-PSK-CAMELLIA256-SHA384",
        "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384",
        0x0301,
    ),
    c(
        0x0300c098,
        "RSA-PSK-CAMELLIA128-SHA256",
        "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256",
        0x0301,
    ),
    c(
        0x0300c099,
        "RSA-PSK-CAMELLIA256-SHA384",
        "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384",
        0x0301,
    ),
    c(
        0x0300c09a,
        "ECDHE-PSK-CAMELLIA128-SHA256",
        "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256",
        0x0301,
    ),
    c(
        0x0300c09b,
        "ECDHE-PSK-CAMELLIA256-SHA384",
        "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384",
        0x0301,
    ),
    c(0x0300c09c, "AES128-CCM", "TLS_RSA_WITH_AES_128_CCM", 0x0303),
    c(0x0300c09d, "AES256-CCM", "TLS_RSA_WITH_AES_256_CCM", 0x0303),
    c(
        0x0300c09e,
        "DHE-RSA-AES128-CCM",
        "TLS_DHE_RSA_WITH_AES_128_CCM",
        0x0303,
    ),
    c(
        0x0300c09f,
        "DHE-RSA-AES256-CCM",
        "TLS_DHE_RSA_WITH_AES_256_CCM",
        0x0303,
    ),
    c(
        0x0300c0a0,
        "AES128-CCM8",
        "TLS_RSA_WITH_AES_128_CCM_8",
        0x0303,
    ),
    c(
        0x0300c0a1,
        "AES256-CCM8",
        "TLS_RSA_WITH_AES_256_CCM_8",
        0x0303,
    ),
    c(
        0x0300c0a2,
        "DHE-RSA-AES128-CCM8",
        "TLS_DHE_RSA_WITH_AES_128_CCM_8",
        0x0303,
    ),
    c(
        0x0300c0a3,
        "DHE-RSA-AES256-CCM8",
        "TLS_DHE_RSA_WITH_AES_256_CCM_8",
        0x0303,
    ),
    c(
        0x0300c0a4,
        "PSK-AES128-CCM",
        "TLS_PSK_WITH_AES_128_CCM",
        0x0303,
    ),
    c(
        0x0300c0a5,
        "PSK-AES256-CCM",
        "TLS_PSK_WITH_AES_256_CCM",
        0x0303,
    ),
    c(
        0x0300c0a6,
        "DHE-PSK-AES128-CCM",
        "TLS_DHE_PSK_WITH_AES_128_CCM",
        0x0303,
    ),
    c(
        0x0300c0a7,
        "DHE-PSK-AES256-CCM",
        "TLS_DHE_PSK_WITH_AES_256_CCM",
        0x0303,
    ),
    c(
        0x0300c0a8,
        "PSK-AES128-CCM8",
        "TLS_PSK_WITH_AES_128_CCM_8",
        0x0303,
    ),
    c(
        0x0300c0a9,
        "PSK-AES256-CCM8",
        "TLS_PSK_WITH_AES_256_CCM_8",
        0x0303,
    ),
    c(
        0x0300c0aa,
        "DHE-PSK-AES128-CCM8",
        "TLS_PSK_DHE_WITH_AES_128_CCM_8",
        0x0303,
    ),
    c(
        0x0300c0ab,
        "DHE-PSK-AES256-CCM8",
        "TLS_PSK_DHE_WITH_AES_256_CCM_8",
        0x0303,
    ),
    c(
        0x0300c0ac,
        "ECDHE-ECDSA-AES128-CCM",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
        0x0303,
    ),
    c(
        0x0300c0ad,
        "ECDHE-ECDSA-AES256-CCM",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
        0x0303,
    ),
    c(
        0x0300c0ae,
        "ECDHE-ECDSA-AES128-CCM8",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
        0x0303,
    ),
    c(
        0x0300c0af,
        "ECDHE-ECDSA-AES256-CCM8",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
        0x0303,
    ),
    c(0x0300c100, "GOST2012-KUZNYECHIK-KUZNYECHIKOMAC", "", 0x0303),
    c(0x0300c101, "GOST2012-MAGMA-MAGMAOMAC", "", 0x0303),
    c(0x0300c102, "IANA-GOST2012-GOST8912-GOST8912", "", 0x0301),
    c(
        0x0300cca8,
        "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0x0303,
    ),
    c(
        0x0300cca9,
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0x0303,
    ),
    c(
        0x0300ccaa,
        "DHE-RSA-CHACHA20-POLY1305",
        "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0x0303,
    ),
    c(
        0x0300ccab,
        "PSK-CHACHA20-POLY1305",
        "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",
        0x0303,
    ),
    c(
        0x0300ccac,
        "ECDHE-PSK-CHACHA20-POLY1305",
        "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
        0x0303,
    ),
    c(
        0x0300ccad,
        "DHE-PSK-CHACHA20-POLY1305",
        "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
        0x0303,
    ),
    c(
        0x0300ccae,
        "RSA-PSK-CHACHA20-POLY1305",
        "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256",
        0x0303,
    ),
    c(0x0300ff85, "LEGACY-GOST2012-GOST8912-GOST8912", "", 0x0301),
    c(0x0300ff87, "GOST2012-NULL-GOST12", "", 0x0301),
];

/// What `SSL_CIPHER_find(ssl, code)` returns for the 2-byte wire code
/// `code[0], code[1]`.
pub fn find_by_code(b0: u8, b1: u8) -> Option<&'static Cipher> {
    find_by_id(0x0300_0000 | (u32::from(b0) << 8) | u32::from(b1))
}

/// What OpenSSL's internal `ssl3_get_cipher_by_id(id)` returns (used by
/// `d2i_SSL_SESSION` with `0x03000000 | code`). Only exact ids match.
pub fn find_by_id(id: u32) -> Option<&'static Cipher> {
    CIPHERS
        .binary_search_by_key(&id, |c| c.id)
        .ok()
        .map(|i| &CIPHERS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_sorted_unique_and_well_formed() {
        assert_eq!(CIPHERS.len(), 174);
        for w in CIPHERS.windows(2) {
            assert!(w[0].id < w[1].id, "{:#x} !< {:#x}", w[0].id, w[1].id);
        }
        for c in CIPHERS {
            assert_eq!(c.id & 0xffff_0000, 0x0300_0000);
            assert!(!c.name.is_empty());
            assert!(c.min_tls == 0 || (0x0300..=0x0304).contains(&c.min_tls));
        }
    }

    #[test]
    fn tls13_suites() {
        let names = [
            (0x01, "TLS_AES_128_GCM_SHA256"),
            (0x02, "TLS_AES_256_GCM_SHA384"),
            (0x03, "TLS_CHACHA20_POLY1305_SHA256"),
            (0x04, "TLS_AES_128_CCM_SHA256"),
            (0x05, "TLS_AES_128_CCM_8_SHA256"),
        ];
        for (b1, n) in names {
            let c = find_by_code(0x13, b1).unwrap();
            assert_eq!(c.name, n);
            assert_eq!(c.std_name, n);
            assert_eq!(c.min_tls, 0x0304);
            assert_eq!(c.id, 0x0300_1300 | u32::from(b1));
        }
        assert!(find_by_code(0x13, 0x06).is_none());
        assert!(find_by_code(0x13, 0x00).is_none());
    }

    #[test]
    fn tls12_examples() {
        let c = find_by_code(0xc0, 0x2f).unwrap();
        assert_eq!(c.id, 0x0300_c02f);
        assert_eq!(c.name, "ECDHE-RSA-AES128-GCM-SHA256");
        assert_eq!(c.std_name, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(c.min_tls, 0x0303);
        assert_eq!(c.protocol_id(), 0xc02f);
        let c = find_by_code(0x00, 0x2f).unwrap();
        assert_eq!(c.name, "AES128-SHA");
        assert_eq!(c.min_tls, 0x0300);
        let c = find_by_code(0xcc, 0xa8).unwrap();
        assert_eq!(c.name, "ECDHE-RSA-CHACHA20-POLY1305");
        let c = find_by_code(0xc0, 0x09).unwrap();
        assert_eq!(c.min_tls, 0x0301);
    }

    #[test]
    fn scsv_and_gost_entries() {
        let c = find_by_code(0x00, 0xff).unwrap();
        assert_eq!(c.name, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
        assert_eq!(c.min_tls, 0);
        assert_eq!(find_by_code(0x56, 0x00).unwrap().name, "TLS_FALLBACK_SCSV");
        let c = find_by_id(0x0300_ff87).unwrap();
        assert_eq!(c.name, "GOST2012-NULL-GOST12");
        assert_eq!(c.std_name, "");
    }

    #[test]
    fn unknown_codes() {
        // Weak ciphers are compiled out (no-weak-ssl-ciphers): RC4-SHA, DES-CBC3-SHA.
        assert!(find_by_code(0x00, 0x05).is_none());
        assert!(find_by_code(0x00, 0x0a).is_none());
        assert!(find_by_code(0x00, 0x00).is_none());
        assert!(find_by_code(0xff, 0xff).is_none());
        assert!(find_by_id(0xc02f).is_none());
        assert!(find_by_id(0x0200_c02f).is_none());
        assert!(find_by_id(0).is_none());
    }

    #[test]
    fn find_by_id_agrees_with_find_by_code() {
        for c in CIPHERS {
            let code = c.protocol_id();
            let f = find_by_code((code >> 8) as u8, code as u8).unwrap();
            assert!(std::ptr::eq(f, c));
            assert!(std::ptr::eq(find_by_id(c.id).unwrap(), c));
        }
        let known = (0u32..=0xffff)
            .filter(|x| find_by_code((x >> 8) as u8, *x as u8).is_some())
            .count();
        assert_eq!(known, CIPHERS.len());
    }
}
