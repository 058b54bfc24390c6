//! TLS to Redis (`rediss://`): a rustls client configuration, built once when the store opens.
//!
//! rustls with the ring provider, not libssl: inside a preloaded process a libssl client would
//! run through the very interposer it serves (its sessions would enter our own cache). The
//! server certificate is always verified, against the CA file given, else the system trust
//! store (loaded here once, not at every connection); there is no option to skip verification.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

/// Where the trust anchors and the optional client certificate come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM file of the CA certificates that verify Redis's certificate; `None`: the system's.
    pub ca: Option<PathBuf>,
    /// PEM file of the client certificate chain (with `key`), for Redis's `tls-auth-clients`.
    pub cert: Option<PathBuf>,
    /// PEM file of the client certificate's private key.
    pub key: Option<PathBuf>,
}

impl TlsFiles {
    /// True when no file is named (system trust store, no client certificate).
    pub fn is_default(&self) -> bool {
        *self == TlsFiles::default()
    }
}

fn certs_of(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate in it", path.display()));
    }
    Ok(certs)
}

/// The trust anchors: the CA file's certificates, else the system store's.
fn roots(ca: Option<&Path>) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    match ca {
        Some(path) => {
            for c in certs_of(path)? {
                roots.add(c).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err("the system trust store has no usable certificate (give a CA file)".into());
            }
        }
    }
    Ok(roots)
}

/// The cryptography under rustls: ring. rustls 0.23.48 deprecated `ring::default_provider`
/// because ring has no post-quantum key exchange; Redis built with OpenSSL 3.0 (Debian 12)
/// offers none either, and ring builds with a C compiler alone, faster and smaller than
/// aws-lc (see docs/fleet.md, "Dependencies").
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    #[allow(deprecated)]
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client configuration for `files`. Errors are one line naming the file.
pub fn client_config(files: &TlsFiles) -> Result<Arc<ClientConfig>, String> {
    let client = match (&files.cert, &files.key) {
        (None, None) => None,
        (Some(cert), Some(key)) => Some((cert, key)),
        (Some(_), None) => return Err("a client certificate without its key".into()),
        (None, Some(_)) => return Err("a client key without its certificate".into()),
    };
    let roots = roots(files.ca.as_deref())?;
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = certs_of(cert)?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| format!("client certificate and key: {e}"))?
        }
    };
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_are_one_line_naming_the_file() {
        let missing = PathBuf::from("/nonexistent/ca.pem");
        let e = client_config(&TlsFiles { ca: Some(missing), ..TlsFiles::default() }).unwrap_err();
        assert!(e.starts_with("/nonexistent/ca.pem: "), "{e}");
        let dir = std::env::temp_dir().join(format!("sesscache-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = client_config(&TlsFiles { ca: Some(empty.clone()), ..TlsFiles::default() }).unwrap_err();
        assert!(e.ends_with("no PEM certificate in it"), "{e}");
        let e = client_config(&TlsFiles { cert: Some(empty), ..TlsFiles::default() }).unwrap_err();
        assert_eq!(e, "a client certificate without its key");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
