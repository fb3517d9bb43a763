//! TLS client configuration on rustls with the `ring` provider.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::AttackError;

/// How to trust servers and who to be.
#[derive(Debug, Default)]
pub struct TlsOptions {
    /// Accept any server certificate (`--insecure`).
    pub insecure: bool,
    /// Trust only these roots; empty means the system's roots.
    pub root_certs: Vec<CertificateDer<'static>>,
    /// A client certificate chain and its key, for servers that ask for one.
    pub client_auth: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
}

/// Certificates from PEM text (`--root-certs`, `--cert`); `what` names the file in errors.
pub fn pem_certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, AttackError> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
    let certs = certs.map_err(|e| AttackError::Tls(format!("{what}: {e}")))?;
    if certs.is_empty() {
        return Err(AttackError::Tls(format!(
            "{what}: expected PEM `CERTIFICATE` blocks, found none"
        )));
    }
    Ok(certs)
}

/// A private key from PEM text (`--key`).
pub fn pem_key(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, AttackError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| AttackError::Tls(format!("{what}: {e}")))
}

/// Builds the client config offering `alpn` protocols.
pub(crate) fn client_config(
    opts: &TlsOptions,
    alpn: Vec<Vec<u8>>,
) -> Result<Arc<ClientConfig>, AttackError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| AttackError::Tls(e.to_string()))?;
    let builder = if opts.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
    } else {
        let mut roots = RootCertStore::empty();
        if opts.root_certs.is_empty() {
            for cert in rustls_native_certs::load_native_certs().certs {
                // A system store with a cert rustls cannot parse should not stop the attack.
                let _ = roots.add(cert);
            }
        } else {
            for cert in &opts.root_certs {
                roots
                    .add(cert.clone())
                    .map_err(|e| AttackError::Tls(format!("root certificate: {e}")))?;
            }
        }
        builder.with_root_certificates(roots)
    };
    let mut config = match &opts.client_auth {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain.clone(), key.clone_key())
            .map_err(|e| AttackError::Tls(format!("client certificate: {e}")))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn;
    Ok(Arc::new(config))
}

/// `--insecure`: checks signatures are well formed but trusts any certificate.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
