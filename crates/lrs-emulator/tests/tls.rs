//! HTTPS with a given certificate: a self-signed certificate for 127.0.0.1 made with `openssl`, a
//! client that trusts only it gets a token and lists subscriptions; plain HTTP on that port fails;
//! unreadable or invalid files are refused with a clear error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use lrs_emulator::{Emulator, EmulatorConfig, StartError, TlsError, TlsFiles};
use serde_json::Value;

const TENANT: &str = "11111111-1111-1111-1111-111111111111";
const SUB: &str = "22222222-2222-2222-2222-222222222222";

/// A self-signed `cert.pem` and its `key.pem` for 127.0.0.1 in `dir`, or `None` (with a note) without `openssl`.
fn self_signed(dir: &Path) -> Option<TlsFiles> {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args(["-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        // `req -x509` marks the certificate CA:TRUE by default, and webpki refuses a CA certificate
        // as the server's own (CaUsedAsEndEntity): make it a leaf, trusted directly as a root.
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .output();
    match status {
        Ok(output) if output.status.success() => Some(TlsFiles { cert, key }),
        Ok(output) => panic!("openssl req failed: {}", String::from_utf8_lossy(&output.stderr)),
        Err(err) => {
            eprintln!("note: skipping the TLS test, `openssl` cannot be run: {err}");
            None
        }
    }
}

fn config(tls: TlsFiles) -> EmulatorConfig {
    let mut config = EmulatorConfig::rehearsal().with_blob_endpoint("http://127.0.0.1:9/devstoreaccount1");
    config.tls = Some(tls);
    config
}

#[tokio::test]
async fn https_with_a_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let Some(files) = self_signed(dir.path()) else { return };
    let root = reqwest::Certificate::from_pem(&std::fs::read(&files.cert).unwrap()).unwrap();
    let emulator = Emulator::start(config(files)).await.unwrap();
    let base = emulator.base_url().to_string();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");

    let https = reqwest::Client::builder().tls_certs_only([root]).build().unwrap();
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "client_credentials"),
            ("client_id", "33333333-3333-3333-3333-333333333333"),
            ("client_secret", "rehearsal-secret"),
            ("scope", "https://management.azure.com/.default"),
        ])
        .finish();
    let r = https
        .post(format!("{base}/{TENANT}/oauth2/v2.0/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token: Value = r.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap();

    let r = https.get(format!("{base}/subscriptions?api-version=2022-12-01")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["value"][0]["subscriptionId"].as_str(), Some(SUB), "{list}");

    // The same port in plain HTTP: no response.
    let plain = base.replacen("https://", "http://", 1);
    let r = reqwest::Client::new().get(format!("{plain}/subscriptions?api-version=2022-12-01")).send().await;
    assert!(r.is_err(), "plain HTTP answered: {:?}", r.map(|r| r.status()));

    // A client that does not trust the certificate refuses it; the emulator still serves.
    let untrusting = reqwest::Client::builder().tls_certs_only([]).build().unwrap();
    assert!(untrusting.get(format!("{base}/subscriptions")).send().await.is_err());
    let r = https.get(format!("{base}/subscriptions?api-version=2022-12-01")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    emulator.shutdown().await;
}

#[tokio::test]
async fn unusable_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let Some(files) = self_signed(dir.path()) else { return };
    let missing = dir.path().join("missing.pem");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a pem file\n").unwrap();
    let other = tempfile::tempdir().unwrap();
    let Some(other) = self_signed(other.path()) else { return };

    let refused = |cert: &PathBuf, key: &PathBuf| {
        let tls = TlsFiles { cert: cert.clone(), key: key.clone() };
        async move {
            match Emulator::start(config(tls)).await {
                Err(StartError::Tls(err)) => err,
                Err(err) => panic!("not a TLS error: {err}"),
                Ok(running) => panic!("started on {}", running.base_url()),
            }
        }
    };
    let err = refused(&missing, &files.key).await;
    assert!(matches!(err, TlsError::ReadCert { .. }), "{err}");
    assert!(err.to_string().contains("missing.pem"), "{err}");
    let err = refused(&files.cert, &missing).await;
    assert!(matches!(err, TlsError::ReadKey { .. }), "{err}");
    let err = refused(&garbage, &files.key).await;
    assert!(matches!(err, TlsError::NoCert { .. }), "{err}");
    let err = refused(&files.cert, &garbage).await;
    assert!(matches!(err, TlsError::InvalidKey { .. }), "{err}");
    let err = refused(&files.key, &files.key).await;
    assert!(matches!(err, TlsError::NoCert { .. }), "{err}");
    let err = refused(&files.cert, &other.key).await;
    assert!(matches!(err, TlsError::Rejected { .. }), "{err}");
}
