//! TLS material for `rediss` connections: the builder's `tls_root_cert` (a private CA) and
//! `tls_client_cert` (mutual TLS), read from PEM files, and the rustls crypto provider.

use super::RedisOptions;
use crate::error::{Error, ErrorKind, Result};
use redis::{ClientTlsConfig, TlsCertificates};
use std::path::Path;

/// The certificates to hand to redis-rs, or `None` to use the system's roots and no client
/// certificate. Errors when TLS options are given for a URL without TLS, because the options
/// would otherwise be silently ignored.
pub(crate) fn certificates(
    opts: &RedisOptions,
    url_has_tls: bool,
) -> Result<Option<TlsCertificates>> {
    let wants = opts.tls_root_cert.is_some() || opts.tls_client_cert.is_some();
    if (wants || opts.require_tls) && !url_has_tls {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "TLS is configured (tls_root_cert, tls_client_cert or require_tls) but {:?} \
                 does not use it; use a rediss://, rediss+sentinel:// or rediss+cluster:// URL",
                super::redact(&opts.url)
            ),
        ));
    }
    if url_has_tls {
        install_provider();
    }
    if !wants {
        return Ok(None);
    }
    let root_cert = opts.tls_root_cert.as_deref().map(read).transpose()?;
    let client_tls = match &opts.tls_client_cert {
        None => None,
        Some((cert, key)) => Some(ClientTlsConfig {
            client_cert: read(cert)?,
            client_key: read(key)?,
        }),
    };
    Ok(Some(TlsCertificates {
        client_tls,
        root_cert,
    }))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "cannot read the TLS file {} ({e}); give the path of a PEM file",
                path.display()
            ),
        )
    })
}

/// redis-rs builds its rustls configuration with the process-wide default crypto provider.
/// rustls picks one itself only when exactly one provider is compiled in; an application that
/// also links aws-lc-rs would then panic ("no process-level CryptoProvider"). Installing `ring`
/// (the provider async-nats uses here too) first avoids that; an application that installed
/// its own provider keeps it.
pub(crate) fn install_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
