//! HTTPS: the rustls server configuration (ring provider, TLS 1.2 and 1.3, ALPN `h2` and `http/1.1`) and a
//! certificate that can be replaced while the server runs (SIGHUP re-reads the PEM files; a bad new pair
//! is refused and the old one stays in service).

use std::path::Path;
use std::sync::{Arc, RwLock};

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::config::TlsFiles;

/// Why the certificate or key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read TLS certificate {path}: {reason}")]
    Certificate { path: String, reason: String },
    #[error("cannot read TLS private key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("TLS certificate {cert} and key {key} do not form a usable pair: {reason}")]
    Pair { cert: String, key: String, reason: String },
}

/// The certificate in service, swappable at run time.
#[derive(Debug)]
pub struct CertificateSlot {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertificateSlot {
    /// Re-reads the files; on success the next handshake uses the new pair.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = load(&self.files, &self.provider)?;
        *self.current.write().unwrap_or_else(|poison| poison.into_inner()) = Arc::new(fresh);
        Ok(())
    }
}

impl ResolvesServerCert for CertificateSlot {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.current.read().unwrap_or_else(|poison| poison.into_inner())))
    }
}

/// Loads the pair and builds the server configuration around a reloadable slot.
pub fn server_config(files: &TlsFiles) -> Result<(Arc<ServerConfig>, Arc<CertificateSlot>), TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let first = load(files, &provider)?;
    let slot = Arc::new(CertificateSlot {
        files: files.clone(),
        provider: Arc::clone(&provider),
        current: RwLock::new(Arc::new(first)),
    });
    let pair_error = |e: rustls::Error| TlsError::Pair {
        cert: files.cert.display().to_string(),
        key: files.key.display().to_string(),
        reason: e.to_string(),
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(pair_error)?
        .with_no_client_auth()
        .with_cert_resolver(slot.clone());
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((Arc::new(config), slot))
}

fn load(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let cert_error = |reason: String| TlsError::Certificate { path: files.cert.display().to_string(), reason };
    let chain = read_chain(&files.cert).map_err(cert_error)?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| TlsError::Key { path: files.key.display().to_string(), reason: e.to_string() })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| TlsError::Pair {
        cert: files.cert.display().to_string(),
        key: files.key.display().to_string(),
        reason: e.to_string(),
    })
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if chain.is_empty() {
        return Err("no PEM certificate in the file".into());
    }
    Ok(chain)
}
