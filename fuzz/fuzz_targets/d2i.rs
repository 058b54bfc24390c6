//! d2i_SSL_SESSION on arbitrary bytes: through the C entry point (cursor and reuse rules, no
//! over-read: the input is exactly the fuzzer's buffer) and the core decoder, whose accepted
//! sessions must re-encode to a fixed point.
#![no_main]

use std::os::raw::c_long;

use libfuzzer_sys::fuzz_target;
use sesscache::core::der;
use sesscache::ffi::der::{d2i_SSL_SESSION, i2d_SSL_SESSION};
use sesscache::ffi::ssl_session::SSL_SESSION_free;

fuzz_target!(|data: &[u8]| {
    if let Ok((d, consumed)) = der::decode(data, 1) {
        assert!(consumed <= data.len());
        let enc = der::encode(&d);
        let (d2, used) = der::decode(&enc, 1).expect("our own encoding decodes");
        assert_eq!(used, enc.len());
        assert_eq!(der::encode(&d2), enc);
    }
    let mut p = data.as_ptr();
    // SAFETY: `p` points to `data.len()` readable bytes; the result is freed once.
    unsafe {
        let s = d2i_SSL_SESSION(std::ptr::null_mut(), &mut p, data.len() as c_long);
        let used = p as usize - data.as_ptr() as usize;
        assert!(used <= data.len());
        if !s.is_null() {
            assert!(i2d_SSL_SESSION(s, std::ptr::null_mut()) > 0);
            SSL_SESSION_free(s);
        } else {
            assert_eq!(used, 0);
        }
    }
});
