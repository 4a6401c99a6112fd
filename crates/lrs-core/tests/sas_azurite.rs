//! SAS tokens against a real Azurite (strict mode): the LRS token passes every static and live
//! check, each bad variant fails its own check with its own message, no user blob is touched, and
//! the token never shows in a verdict. With `--oauth basic` over HTTPS, the user delegation SAS
//! from the official SDK passes too. Skipped with a note when Azurite is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use lrs_core::secrets::Secret;
use lrs_core::storage::sas::{
    check, lrs_read_list_sas, prove_live, user_delegation_sas, AccountSas, CheckId, LiveOptions, Permissions,
    ServiceSas, SignedResource, Verdict, SIGNED_VERSION,
};
use lrs_core::storage::ContainerUrl;
use lrs_testkit::{secret_scan, Azurite, AZURITE_ACCOUNT, AZURITE_KEY};
use time::{Duration, OffsetDateTime};

const CONTAINER: &str = "migrations";
const USER_BLOB: &str = "Sales/full_2026.bak";

fn key() -> Secret {
    Secret::new(AZURITE_KEY)
}

/// An account SAS with every right, for the test's own setup (create the container, upload a blob).
fn admin_sas(now: OffsetDateTime) -> String {
    AccountSas::full_blob_access(now, Duration::hours(2)).sign(AZURITE_ACCOUNT, &key()).unwrap().expose().to_string()
}

async fn setup(client: &reqwest::Client, container: &ContainerUrl, now: OffsetDateTime) {
    let admin = admin_sas(now);
    let url = format!("{}?restype=container&{admin}", container.url());
    let r = client.put(url).header("x-ms-version", SIGNED_VERSION).body(Vec::<u8>::new()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 201, "create container: {:?}", r.text().await);
    let url = format!("{}?{admin}", container.blob_url(USER_BLOB));
    let r = client
        .put(url)
        .header("x-ms-version", SIGNED_VERSION)
        .header("x-ms-blob-type", "BlockBlob")
        .body(vec![7u8; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "upload: {:?}", r.text().await);
}

/// The names of the container's blobs, listed with the admin SAS.
async fn blob_names(client: &reqwest::Client, container: &ContainerUrl, now: OffsetDateTime) -> Vec<String> {
    let url = format!("{}?restype=container&comp=list&{}", container.url(), admin_sas(now));
    let xml = client.get(url).header("x-ms-version", SIGNED_VERSION).send().await.unwrap().text().await.unwrap();
    xml.split("<Name>").skip(1).filter_map(|s| s.split("</Name>").next()).map(str::to_string).collect()
}

fn service_sas(now: OffsetDateTime, edit: impl FnOnce(&mut ServiceSas)) -> Secret {
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
    sas.sign(AZURITE_ACCOUNT, CONTAINER, &key()).unwrap()
}

async fn verdict(client: &reqwest::Client, container: &ContainerUrl, token: &Secret, folder: &str) -> Verdict {
    let now = OffsetDateTime::now_utc();
    let mut verdict = check(token, now, now + Duration::days(30));
    let options = LiveOptions { folder: Some(folder.into()), probe_suffix: format!("{}", now.unix_timestamp_nanos()) };
    verdict.checks.extend(prove_live(client, container, token, &options).await);
    assert_no_secret(&verdict, token);
    verdict
}

fn failed(v: &Verdict) -> Vec<CheckId> {
    v.failed().map(|c| c.id).collect()
}

fn message(v: &Verdict, id: CheckId) -> String {
    v.get(id).unwrap().message.clone()
}

/// Neither the token nor its signature (nor anything shaped like a credential) appears in the
/// verdict's JSON or Debug output.
fn assert_no_secret(v: &Verdict, token: &Secret) {
    let sig = token.expose().split("sig=").nth(1).unwrap_or("").split('&').next().unwrap_or("").to_string();
    let decoded: String =
        url::form_urlencoded::parse(format!("s={sig}").as_bytes()).map(|(_, v)| v.into_owned()).collect();
    for text in [serde_json::to_string(v).unwrap(), format!("{v:?}")] {
        secret_scan::assert_no_secret(&text, &[token.expose(), &sig, &decoded]);
        secret_scan::assert_no_secret_like("the verdict", &text);
    }
}

#[tokio::test]
async fn good_and_bad_tokens_against_azurite() {
    let Some(azurite) = Azurite::start() else {
        eprintln!("SKIPPED good_and_bad_tokens_against_azurite: Azurite is not installed");
        return;
    };
    let client = reqwest::Client::new();
    let container = ContainerUrl::parse(&azurite.container_url(CONTAINER)).unwrap();
    let now = OffsetDateTime::now_utc();
    setup(&client, &container, now).await;

    // The token `lrs sas create` makes: every static and live check passes.
    let good = lrs_read_list_sas(&container, &key(), now, now + Duration::days(32)).unwrap();
    let v = verdict(&client, &container, &good, "Sales").await;
    assert!(v.accepted(), "{v:#?}");
    assert_eq!(v.checks.len(), 13);
    assert!(message(&v, CheckId::LiveRead).contains(USER_BLOB), "{v:#?}");

    // A folder with no blob yet: reading is proven on a missing blob (404, not 403).
    let v = verdict(&client, &container, &good, "Empty").await;
    assert!(v.accepted(), "{v:#?}");
    assert!(message(&v, CheckId::LiveRead).contains("no blob yet"));

    // An extra Write permission: the static check names it, and the live probes show it.
    let rwl = service_sas(now, |s| s.permissions = Permissions::parse("rwl").unwrap());
    let v = verdict(&client, &container, &rwl, "Sales").await;
    assert_eq!(failed(&v), [CheckId::Permissions, CheckId::LiveCreateRefused], "{v:#?}");
    assert!(message(&v, CheckId::Permissions).contains("w (Write) lets LRS refuse to start"));

    // Delete permission: the delete probe (of the check's own, missing, probe name) is not refused.
    let rdl = service_sas(now, |s| s.permissions = Permissions::parse("rdl").unwrap());
    let v = verdict(&client, &container, &rdl, "Sales").await;
    assert_eq!(failed(&v), [CheckId::Permissions, CheckId::LiveDeleteRefused], "{v:#?}");

    // A stored access policy.
    let si = service_sas(now, |s| s.identifier = Some("lrs-policy".into()));
    let v = verdict(&client, &container, &si, "Sales").await;
    assert!(failed(&v).starts_with(&[CheckId::NoStoredPolicy]), "{v:#?}");
    assert!(message(&v, CheckId::NoStoredPolicy).contains("stored access policy 'lrs-policy'"));

    // A blob SAS: static scope check, and LRS could not list with it.
    let blob = service_sas(now, |s| s.resource = SignedResource::Blob(USER_BLOB.into()));
    let v = verdict(&client, &container, &blob, "Sales").await;
    assert!(failed(&v).starts_with(&[CheckId::Scope, CheckId::LiveList]), "{v:#?}");
    assert!(message(&v, CheckId::Scope).contains("blob SAS (sr=b)"));

    // Expired.
    let expired = service_sas(now, |s| {
        s.start = Some(now - Duration::days(3));
        s.expiry = now - Duration::days(1);
    });
    let v = verdict(&client, &container, &expired, "Sales").await;
    assert!(failed(&v).starts_with(&[CheckId::Window, CheckId::LiveList]), "{v:#?}");
    assert!(message(&v, CheckId::Window).contains("expired"));

    // Works today, but expires before a 30-day job ends.
    let short = service_sas(now, |s| s.expiry = now + Duration::days(10));
    let v = verdict(&client, &container, &short, "Sales").await;
    assert_eq!(failed(&v), [CheckId::Window], "{v:#?}");
    assert!(message(&v, CheckId::Window).contains("before the planned end"));

    // A leading '?': only the format check fails (the live proof uses the token without it).
    let question = Secret::new(format!("?{}", good.expose()));
    let v = verdict(&client, &container, &question, "Sales").await;
    assert_eq!(failed(&v), [CheckId::Format], "{v:#?}");

    // A tampered signature passes every static check; only the service can tell.
    let tampered = Secret::new(tamper(good.expose()));
    let v = verdict(&client, &container, &tampered, "Sales").await;
    assert_eq!(&failed(&v)[..2], [CheckId::LiveList, CheckId::LiveRead], "{v:#?}");
    let list = message(&v, CheckId::LiveList);
    assert!(list.contains("403 Authentication") || list.contains("403 AuthorizationFailure"), "{list}");
    assert!(list.contains("signature"), "{list}");

    // Account SAS without container scope (srt=o): static scope check, and listing is refused.
    let account = |srt: &str| {
        AccountSas {
            services: "b".into(),
            resource_types: srt.into(),
            permissions: "rl".into(),
            start: Some(now - Duration::minutes(15)),
            expiry: now + Duration::days(32),
            protocol: Some("https,http".into()),
            version: SIGNED_VERSION.into(),
        }
        .sign(AZURITE_ACCOUNT, &key())
        .unwrap()
    };
    let v = verdict(&client, &container, &account("o"), "Sales").await;
    assert!(failed(&v).starts_with(&[CheckId::Scope, CheckId::LiveList]), "{v:#?}");
    assert!(message(&v, CheckId::Scope).contains("srt has no c"));
    assert!(message(&v, CheckId::LiveList).contains("AuthorizationResourceTypeMismatch"), "{v:#?}");
    // An account SAS that does cover the container is accepted.
    let v = verdict(&client, &container, &account("co"), "Sales").await;
    assert!(v.accepted(), "{v:#?}");

    // No probe blob was left behind and the user's blob is intact.
    assert_eq!(blob_names(&client, &container, now).await, [USER_BLOB]);
}

fn tamper(token: &str) -> String {
    let (head, sig) = token.split_once("sig=").unwrap();
    let mut sig: Vec<char> = sig.chars().collect();
    sig[3] = if sig[3] == 'A' { 'B' } else { 'A' };
    format!("{head}sig={}", sig.into_iter().collect::<String>())
}

/// A fake Entra ID credential: an unsigned JWT with the claims Azurite checks (it does not verify
/// the signature).
#[derive(Debug)]
struct FakeJwt;

impl azure_core::credentials::TokenCredential for FakeJwt {
    fn get_token<'a, 'b, 'c, 'd, 'async_trait>(
        &'a self,
        _scopes: &'b [&'c str],
        _options: Option<azure_core::credentials::TokenRequestOptions<'d>>,
    ) -> Pin<Box<dyn Future<Output = azure_core::Result<azure_core::credentials::AccessToken>> + Send + 'async_trait>>
    where
        'a: 'async_trait,
        'b: 'async_trait,
        'c: 'async_trait,
        'd: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            let now = OffsetDateTime::now_utc().unix_timestamp();
            let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
            let claims = serde_json::json!({
                "iss": format!("https://sts.windows.net/{tid}/"), "aud": "https://storage.azure.com",
                "nbf": now - 300, "iat": now - 300, "exp": now + 3600,
                "oid": "00000000-0000-0000-0000-0000000000aa", "tid": tid,
            });
            let part = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
            let jwt = format!("{}.{}.c2ln", part(&serde_json::json!({"alg": "RS256", "typ": "JWT"})), part(&claims));
            Ok(azure_core::credentials::AccessToken::new(jwt, OffsetDateTime::now_utc() + Duration::hours(1)))
        })
    }
}

#[tokio::test]
async fn user_delegation_sas_against_azurite_https_oauth() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let openssl = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&key_file)
        .arg("-out")
        .arg(&cert)
        .output();
    if !openssl.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED user_delegation_sas_against_azurite_https_oauth: openssl could not make a certificate");
        return;
    }
    let (cert, key_file) = (cert.display().to_string(), key_file.display().to_string());
    let Some(azurite) = Azurite::start_with(&["--oauth", "basic", "--cert", &cert, "--key", &key_file]) else {
        eprintln!("SKIPPED user_delegation_sas_against_azurite_https_oauth: Azurite is not installed");
        return;
    };
    // Test-only: Azurite's certificate is self-signed.
    let client = reqwest::Client::builder().tls_danger_accept_invalid_certs(true).build().unwrap();
    let url = format!("https://127.0.0.1:{}/{AZURITE_ACCOUNT}/{CONTAINER}", azurite.port());
    let container = ContainerUrl::parse(&url).unwrap();
    let now = OffsetDateTime::now_utc();
    setup(&client, &container, now).await;

    let options = azure_storage_blob::BlobServiceClientOptions {
        client_options: azure_core::http::ClientOptions {
            transport: Some(azure_core::http::Transport::new(Arc::new(client.clone()))),
            ..Default::default()
        },
        ..Default::default()
    };
    let token =
        user_delegation_sas(&container, Arc::new(FakeJwt), now, now + Duration::days(2), Some(options)).await.unwrap();
    assert!(!token.expose().starts_with('?'));
    assert!(token.expose().contains("sr=c") && token.expose().contains("sp=rl"), "sr/sp");
    let mut v = check(&token, now, now + Duration::days(1));
    let live = LiveOptions { folder: Some("Sales".into()), probe_suffix: "udk".into() };
    v.checks.extend(prove_live(&client, &container, &token, &live).await);
    assert_no_secret(&v, &token);
    assert!(v.accepted(), "{v:#?}");
    // The same token cannot cover a 30-day job: its delegation key expires first.
    let v = check(&token, now, now + Duration::days(30));
    assert_eq!(failed(&v), [CheckId::Window], "{v:#?}");

    // Longer than Azure's 7-day delegation key: refused before any call.
    let err = user_delegation_sas(&container, Arc::new(FakeJwt), now, now + Duration::days(8), None).await.unwrap_err();
    assert!(err.to_string().contains("at most 7 days"));
}
