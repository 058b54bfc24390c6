//! Generates `include/sesscache.h` from the `extern "C"` layer with cbindgen (pinned in
//! Cargo.toml), and sets the shared library's soname.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    if env::var_os("CARGO_FEATURE_CAPI").is_none() {
        return;
    }
    // The soname carries the ABI version: 0.x releases may break the ABI at each minor.
    let soname = if major == "0" { format!("libsesscache.so.0.{minor}") } else { format!("libsesscache.so.{major}") };
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml is valid");
    let version = env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let number = version_number(&version);
    let mut config = config;
    config.after_includes = Some(format!(
        "{}\n#define SESSCACHE_VERSION \"{version}\"\n#define SESSCACHE_VERSION_NUMBER 0x{number:06x}\n",
        config.after_includes.unwrap_or_default()
    ));
    // Only the C shell and abi.rs are parsed: the core's items never reach the header.
    // OpenSSL's numbers come first: they live outside src/ffi, compiled without `capi` too.
    let mut builder = cbindgen::Builder::new().with_config(config).with_src(root.join("src").join("abi.rs"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("src").join("ffi"))
        .expect("src/ffi exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rs") && !p.ends_with("mod.rs"))
        .collect();
    files.sort();
    for f in files {
        builder = builder.with_src(f);
    }
    match builder.generate() {
        Ok(bindings) => {
            bindings.write_to_file(root.join("include").join("sesscache.h"));
        }
        Err(e) => panic!("cbindgen failed: {e}"),
    }
}

/// `MAJOR.MINOR.PATCH` as 0xMMmmpp, the value of `SESSCACHE_VERSION_NUMBER`.
fn version_number(v: &str) -> u32 {
    let mut parts = v.split('.').map(|p| p.split('-').next().unwrap_or("0").parse::<u32>().unwrap_or(0));
    let (a, b, c) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a << 16) | (b << 8) | c
}
