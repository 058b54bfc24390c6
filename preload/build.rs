//! Links the preload library with a version script listing the functions it takes over (they
//! stay unversioned: see preload.map).

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=preload.map");
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={}", root.join("preload.map").display());
    }
}
