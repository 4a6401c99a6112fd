//! `lrs sas create` and `lrs sas check` as a user runs them against a real Azurite: the created
//! token passes the check (exit 0), each bad variant fails (exit 1) with its own check and message,
//! usage errors exit 2, and no token or signature appears in what `check` prints; and
//! `--user-delegation` end to end: the LRS emulator as Entra ID (client credentials for the storage
//! scope) in front of Azurite over HTTPS with `--oauth basic`, the token then passing `lrs sas
//! check`. Skipped with a note when Azurite (or openssl, for the HTTPS certificate) is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;

use assert_cmd::Command;
use lrs_core::secrets::Secret;
use lrs_core::storage::sas::{AccountSas, Permissions, ServiceSas, SignedResource, SIGNED_VERSION};
use lrs_testkit::secret_scan::{assert_no_secret, assert_no_secret_like};
use lrs_testkit::{Azurite, AZURITE_ACCOUNT, AZURITE_KEY};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

const CONTAINER: &str = "migrations";

fn lrs() -> Command {
    Command::cargo_bin("lrs").unwrap()
}

/// One plain HTTP/1.1 request to Azurite (test setup only); returns the status code.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nx-ms-version: {SIGNED_VERSION}\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split(' ').nth(1).unwrap().parse().unwrap()
}

fn account_sas(now: OffsetDateTime, srt: &str, sp: &str) -> String {
    AccountSas {
        services: "b".into(),
        resource_types: srt.into(),
        permissions: sp.into(),
        start: Some(now - Duration::minutes(15)),
        expiry: now + Duration::days(32),
        protocol: Some("https,http".into()),
        version: SIGNED_VERSION.into(),
    }
    .sign(AZURITE_ACCOUNT, &Secret::new(AZURITE_KEY))
    .unwrap()
    .expose()
    .to_string()
}

/// Creates the container and one backup blob in folder `Sales`.
fn setup(port: u16, now: OffsetDateTime) {
    let admin = account_sas(now, "sco", "rwdlac");
    let base = format!("/{AZURITE_ACCOUNT}/{CONTAINER}");
    assert_eq!(http(port, "PUT", &format!("{base}?restype=container&{admin}"), &[], b""), 201);
    let blob = format!("{base}/Sales/full.bak?{admin}");
    assert_eq!(http(port, "PUT", &blob, &[("x-ms-blob-type", "BlockBlob")], &[1u8; 2048]), 201);
}

fn service_sas(now: OffsetDateTime, edit: impl FnOnce(&mut ServiceSas)) -> String {
    let mut sas = ServiceSas {
        resource: SignedResource::Container,
        permissions: Permissions::READ_LIST,
        start: Some(now - Duration::minutes(15)),
        expiry: now + Duration::days(32),
        protocol: Some("https,http".into()),
        identifier: None,
        version: SIGNED_VERSION.into(),
    };
    edit(&mut sas);
    sas.sign(AZURITE_ACCOUNT, CONTAINER, &Secret::new(AZURITE_KEY)).unwrap().expose().to_string()
}

/// Runs `lrs sas check --json` on `token`; returns the exit code and the report. Checks that
/// neither stream holds the token or its signature.
fn check(url: &str, token: &str, extra: &[&str]) -> (i32, Value) {
    let out = lrs()
        .args(["sas", "check", "--container-url", url, "--sas-env", "LRS_TEST_SAS", "--folder", "Sales", "--json"])
        .args(extra)
        .env("LRS_TEST_SAS", token)
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap());
    let sig = token.split("sig=").nth(1).unwrap_or("x").split('&').next().unwrap();
    for text in [&stdout, &stderr] {
        assert_no_secret(text, &[token.trim_start_matches('?'), sig]);
        assert_no_secret_like("lrs sas check output", text);
    }
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (out.status.code().unwrap(), report)
}

fn failed(report: &Value) -> Vec<String> {
    let checks = report["checks"].as_array().unwrap();
    checks.iter().filter(|c| c["passed"] == false).map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

fn message(report: &Value, id: &str) -> String {
    let checks = report["checks"].as_array().unwrap();
    checks.iter().find(|c| c["id"] == id).unwrap()["message"].as_str().unwrap().to_string()
}

#[test]
fn created_token_passes_and_each_bad_variant_fails_with_its_own_message() {
    let Some(azurite) = Azurite::start() else {
        eprintln!("SKIPPED created_token_passes_and_each_bad_variant_fails_with_its_own_message: no Azurite");
        return;
    };
    let now = OffsetDateTime::now_utc();
    setup(azurite.port(), now);
    let url = azurite.container_url(CONTAINER);

    // lrs sas create: the bare token on stdout, nothing secret on stderr.
    let out = lrs()
        .args(["sas", "create", "--container-url", &url, "--account-key-env", "LRS_TEST_KEY"])
        .env("LRS_TEST_KEY", AZURITE_KEY)
        .assert()
        .code(0);
    let token = String::from_utf8(out.get_output().stdout.clone()).unwrap().trim().to_string();
    assert!(token.starts_with("st=") && token.contains("&sp=rl&") && token.contains("&sr=c&"), "{token}");
    assert!(token.contains("spr=https%2Chttp"), "loopback emulator allows http: {token}");
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert_no_secret(&stderr, &[&token, AZURITE_KEY]);

    // ... passes lrs sas check, text and JSON.
    let out = lrs()
        .args(["sas", "check", "--container-url", &url, "--sas-env", "LRS_TEST_SAS", "--folder", "Sales"])
        .env("LRS_TEST_SAS", &token)
        .assert()
        .code(0);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("LRS will accept this token."), "{text}");
    assert_no_secret(&text, &[&token]);
    let (code, report) = check(&url, &token, &[]);
    assert_eq!((code, report["accepted"].as_bool()), (0, Some(true)), "{report:#}");
    assert_eq!(report["checks"].as_array().unwrap().len(), 13);

    let bad: Vec<(&str, String, &[&str], &str)> = vec![
        (
            "extra w",
            service_sas(now, |s| s.permissions = Permissions::parse("rwl").unwrap()),
            &["permissions", "live_create_refused"],
            "w (Write) lets LRS refuse to start",
        ),
        (
            "stored access policy",
            service_sas(now, |s| s.identifier = Some("lrs-policy".into())),
            &["no_stored_policy"],
            "stored access policy 'lrs-policy'",
        ),
        (
            "blob SAS",
            service_sas(now, |s| s.resource = SignedResource::Blob("Sales/full.bak".into())),
            &["scope", "live_list"],
            "blob SAS (sr=b)",
        ),
        (
            "expired",
            service_sas(now, |s| {
                s.start = Some(now - Duration::days(3));
                s.expiry = now - Duration::days(1);
            }),
            &["window", "live_list"],
            "has expired",
        ),
        (
            "too short for 30 days",
            service_sas(now, |s| s.expiry = now + Duration::days(10)),
            &["window"],
            "before the planned end",
        ),
        ("leading ?", format!("?{token}"), &["format"], "starts with '?'"),
        ("account SAS without container scope", account_sas(now, "o", "rl"), &["scope", "live_list"], "srt has no c"),
    ];
    for (name, variant, first_failures, text) in bad {
        let (code, report) = check(&url, &variant, &[]);
        assert_eq!(code, 1, "{name}: {report:#}");
        let failures = failed(&report);
        assert!(
            failures.starts_with(&first_failures.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            "{name}: {failures:?}"
        );
        assert!(message(&report, first_failures[0]).contains(text), "{name}: {report:#}");
    }

    // A tampered signature passes every static check: the live proof catches it.
    let (head, sig) = token.split_once("sig=").unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let (code, report) = check(&url, &format!("{head}sig={flipped}{}", &sig[1..]), &[]);
    assert_eq!(code, 1);
    assert_eq!(&failed(&report)[..2], ["live_list", "live_read"], "{report:#}");
    let list = message(&report, "live_list");
    assert!(list.contains("AuthenticationFailed") || list.contains("AuthorizationFailure"), "{list}");
    assert!(list.contains("signature"), "{list}");

    // An account SAS that covers the container is accepted; --until beyond its expiry is not.
    assert_eq!(check(&url, &account_sas(now, "co", "rl"), &[]).0, 0);
    assert_eq!(check(&url, &token, &["--days", "40"]).0, 1);
}

#[test]
fn create_json_and_usage_errors() {
    let url = "https://acct.blob.core.windows.net/migrations";
    let out = lrs()
        .args(["sas", "create", "--container-url", url, "--account-key-env", "LRS_TEST_KEY", "--days", "7", "--json"])
        .env("LRS_TEST_KEY", AZURITE_KEY)
        .assert()
        .code(0);
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let token = json["token"].as_str().unwrap();
    assert!(token.contains("spr=https&") && token.contains("sp=rl"), "{token}");
    assert_eq!(json["permissions"], "rl");
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("before the 30 days"), "{stderr}");

    let expiry = lrs()
        .args([
            "sas",
            "create",
            "--container-url",
            url,
            "--account-key-env",
            "K",
            "--expiry",
            "2099-01-02T03:04:05+02:00",
        ])
        .env("K", AZURITE_KEY)
        .assert()
        .code(0);
    assert!(String::from_utf8_lossy(&expiry.get_output().stdout).contains("se=2099-01-02T01%3A04%3A05Z"));

    let usage = |args: &[&str], envs: &[(&str, &str)], text: &str| {
        let mut cmd = lrs();
        for var in ["LRS_UNSET", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"] {
            cmd.env_remove(var);
        }
        let out = cmd.args(args).envs(envs.iter().copied()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(text), "{args:?}: {stderr}");
        assert_no_secret(&stderr, &[AZURITE_KEY, "SECRETSIG"]);
    };
    let create = ["sas", "create", "--container-url", url];
    usage(&[&create[..], &["--account-key-env", "LRS_UNSET"]].concat(), &[], "LRS_UNSET is not set");
    // --user-delegation with no sign-in at all (no AZURE_*, an empty keychain service) says how to sign in.
    let signed_out = [("LRS_KEYCHAIN_SERVICE", "lrs-wizard-sas-cli-signed-out")];
    usage(&[&create[..], &["--user-delegation"]].concat(), &signed_out, "not signed in: run `lrs login`");
    usage(&[&create[..], &["--user-delegation", "--days", "8"]].concat(), &signed_out, "at most 7 days");
    usage(&create, &[], "--account-key-env");
    usage(
        &[&create[..], &["--account-key-env", "K", "--days", "3", "--expiry", "2099-01-01T00:00:00Z"]].concat(),
        &[("K", AZURITE_KEY)],
        "cannot be used with",
    );
    usage(
        &[&create[..], &["--account-key-env", "K", "--expiry", "tomorrow"]].concat(),
        &[("K", AZURITE_KEY)],
        "RFC 3339",
    );
    usage(&[&create[..], &["--account-key-env", "K"]].concat(), &[("K", "not base64!")], "not valid base64");
    let with_sas = "https://acct.blob.core.windows.net/migrations?sv=2022-11-02&sig=SECRETSIG";
    usage(&["sas", "check", "--container-url", with_sas, "--sas-env", "S"], &[("S", "x")], "carries a query");
    usage(&["sas", "check", "--container-url", url, "--sas-env", "LRS_UNSET"], &[], "LRS_UNSET is not set");
}

/// A test CA and a certificate for 127.0.0.1 signed by it (rustls refuses a self-signed CA
/// certificate used as the server's own); `None` when openssl is missing.
fn ca_and_server_cert(dir: &std::path::Path) -> Option<(String, String, String)> {
    let path = |name: &str| dir.join(name).display().to_string();
    let (ca_key, ca, key, csr, cert, ext) =
        (path("ca.key"), path("ca.pem"), path("key.pem"), path("server.csr"), path("cert.pem"), path("ext.cnf"));
    std::fs::write(&ext, "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    let steps: [Vec<&str>; 3] = [
        vec!["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=lrs test CA"],
        vec!["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", &key, "-out", &csr],
        vec!["x509", "-req", "-in", &csr, "-CA", &ca, "-CAkey", &ca_key, "-CAcreateserial", "-days", "2"],
    ];
    let extra: [Vec<&str>; 3] = [vec!["-keyout", &ca_key, "-out", &ca], vec![], vec!["-extfile", &ext, "-out", &cert]];
    for (step, more) in steps.iter().zip(&extra) {
        let ok = std::process::Command::new("openssl")
            .args(step)
            .args(more)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
    }
    Some((ca, cert, key))
}

#[test]
fn user_delegation_sas_from_the_emulator_sign_in_passes_the_check() {
    use lrs_emulator::seed::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT};
    let name = "user_delegation_sas_from_the_emulator_sign_in_passes_the_check";
    let dir = tempfile::tempdir().unwrap();
    let Some((ca, cert, key)) = ca_and_server_cert(dir.path()) else {
        eprintln!("SKIPPED {name}: openssl could not make the test certificates");
        return;
    };
    let Some(azurite) = Azurite::start_with(&["--oauth", "basic", "--cert", &cert, "--key", &key]) else {
        eprintln!("SKIPPED {name}: no Azurite");
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = lrs_emulator::EmulatorConfig::rehearsal();
    let emulator = runtime.block_on(lrs_emulator::Emulator::start(config)).unwrap();
    let url = format!("https://127.0.0.1:{}/{AZURITE_ACCOUNT}/{CONTAINER}", azurite.port());
    let now = OffsetDateTime::now_utc();
    let lrs_env = |cmd: &mut Command| {
        // The test CA, through the variable rustls's platform verifier reads on Linux.
        cmd.env("SSL_CERT_FILE", &ca)
            .env("AZURE_TENANT_ID", DEFAULT_TENANT)
            .env("AZURE_CLIENT_ID", DEFAULT_CLIENT_ID)
            .env("AZURE_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
            .env("AZURE_AUTHORITY_HOST", emulator.base_url())
            .env("LRS_KEYCHAIN_SERVICE", "lrs-wizard-sas-cli-udk");
    };
    // The container and a backup in Sales/, made over HTTPS with an account SAS.
    let admin = account_sas(now, "sco", "rwdlac");
    let http = runtime.block_on(async {
        let pem = std::fs::read(&ca).unwrap();
        let client =
            reqwest::Client::builder().tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()]).build().unwrap();
        let created = client.put(format!("{url}?restype=container&{admin}")).header("content-length", "0");
        assert_eq!(created.send().await.unwrap().status().as_u16(), 201);
        let blob = client.put(format!("{url}/Sales/full.bak?{admin}")).header("x-ms-blob-type", "BlockBlob");
        assert_eq!(blob.body(vec![1u8; 2048]).send().await.unwrap().status().as_u16(), 201);
        client
    });
    drop(http);

    let mut create = lrs();
    create.args(["sas", "create", "--container-url", &url, "--user-delegation", "--days", "2", "--json"]);
    lrs_env(&mut create);
    let out = create.output().unwrap();
    let (stdout, stderr) = (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap());
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    let token = json["token"].as_str().unwrap().to_string();
    assert!(token.contains("sr=c") && token.contains("sp=rl") && token.contains("skoid="), "{token}");
    assert!(!token.starts_with('?'));
    assert!(stderr.contains("before the 30 days"), "{stderr}");
    // Neither the client secret nor the bearer token (a JWT, "eyJ...") is printed; the SAS only on stdout.
    for text in [&stdout, &stderr] {
        assert_no_secret(text, &[DEFAULT_CLIENT_SECRET]);
        assert!(!text.contains("eyJ"), "a JWT was printed: {text}");
    }
    assert_no_secret(&stderr, &[&token]);
    assert_no_secret_like("lrs sas create stderr", &stderr);

    // The token is accepted by `lrs sas check` (live proof over HTTPS), for a 1-day plan.
    let mut check = lrs();
    check.args(["sas", "check", "--container-url", &url, "--sas-env", "LRS_TEST_SAS", "--folder", "Sales"]);
    check.args(["--days", "1", "--json"]).env("LRS_TEST_SAS", &token);
    lrs_env(&mut check);
    let out = check.output().unwrap();
    let (stdout, stderr) = (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap());
    assert_no_secret(&format!("{stdout}{stderr}"), &[&token, DEFAULT_CLIENT_SECRET]);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    assert_eq!((out.status.code(), report["accepted"].as_bool()), (Some(0), Some(true)), "{report:#}");
    // ... but not for a 30-day LRS job: a delegation key lasts 7 days at most.
    let (code, report) = {
        let mut check = lrs();
        check.args(["sas", "check", "--container-url", &url, "--sas-env", "LRS_TEST_SAS", "--json"]);
        check.env("LRS_TEST_SAS", &token);
        lrs_env(&mut check);
        let out = check.output().unwrap();
        (out.status.code(), serde_json::from_slice::<Value>(&out.stdout).unwrap())
    };
    assert_eq!((code, failed(&report)), (Some(1), vec!["window".to_string()]), "{report:#}");

    // A wrong client secret: the sign-in is refused (exit 1) with Entra's error, the secret unprinted.
    let mut wrong = lrs();
    wrong.args(["sas", "create", "--container-url", &url, "--user-delegation"]);
    lrs_env(&mut wrong);
    let out = wrong.env("AZURE_CLIENT_SECRET", "wrong-secret-value").output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("user delegation key") && stderr.contains("invalid_client"), "{stderr}");
    assert_no_secret(&stderr, &["wrong-secret-value"]);
    assert!(out.stdout.is_empty());
}
