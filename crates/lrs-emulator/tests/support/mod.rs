//! Shared test support: an emulator on a manual clock with its own state folder, tokens, ARM
//! calls, and Azurite containers filled with synthetic backups.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lrs_core::secrets::Secret;
use lrs_core::storage::sas::{lrs_read_list_sas, ServiceSas};
use lrs_core::storage::ContainerUrl;
use lrs_emulator::seed::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT};
use lrs_emulator::{Emulator, EmulatorConfig, ManualClock, RunningEmulator, Timing};
use lrs_testkit::{Azurite, AZURITE_KEY};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

pub const SUB: &str = "22222222-2222-2222-2222-222222222222";
pub const API: &str = "2025-01-01";

pub fn mi_path() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/rehearsal-rg/providers/Microsoft.Sql/managedInstances/rehearsal-mi")
}

pub fn db_path(db: &str) -> String {
    format!("{}/databases/{db}", mi_path())
}

/// Timings that make a manual-clock test short: 30 s to initialize, 60 s per backup set.
pub fn test_timing() -> Timing {
    Timing {
        initializing_seconds: 30,
        seconds_per_backup_set: 60,
        megabytes_per_second: 100.0,
        cutover_seconds: 30,
        drop_seconds: 30,
        retry_after_seconds: 15,
        token_lifetime_seconds: 3599,
        job_limit_seconds: 30 * 24 * 3600,
        tick_millis: 3_600_000,
    }
}

#[derive(Debug)]
pub struct Harness {
    pub emulator: RunningEmulator,
    pub clock: ManualClock,
    pub state_dir: PathBuf,
    pub http: reqwest::Client,
}

pub fn config(clock: &ManualClock, state_dir: &Path, blob_endpoint: &str) -> EmulatorConfig {
    let mut config = EmulatorConfig::rehearsal().with_blob_endpoint(blob_endpoint);
    config.state_dir = Some(state_dir.to_path_buf());
    config.clock = Arc::new(clock.clone());
    config.timing = test_timing();
    config
}

impl Harness {
    pub async fn start(state_dir: &Path, blob_endpoint: &str) -> Harness {
        let clock = ManualClock::starting_now();
        Harness::start_with(config(&clock, state_dir, blob_endpoint), clock).await
    }

    pub async fn start_with(config: EmulatorConfig, clock: ManualClock) -> Harness {
        let state_dir = config.state_dir.clone().unwrap();
        let emulator = Emulator::start(config).await.unwrap();
        Harness { emulator, clock, state_dir, http: reqwest::Client::new() }
    }

    pub fn url(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        if path.contains("api-version=") {
            format!("{}{path}", self.emulator.base_url())
        } else {
            format!("{}{path}{sep}api-version={API}", self.emulator.base_url())
        }
    }

    /// A client-credentials token of the default service principal.
    pub async fn token(&self) -> String {
        let url = format!("{}/{DEFAULT_TENANT}/oauth2/v2.0/token", self.emulator.base_url());
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("scope", "https://management.azure.com/.default"),
        ];
        let r = self
            .http
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form_body(&form))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let token = self.token().await;
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        (status, headers, value)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let (status, _, body) = self.call(reqwest::Method::GET, path, None).await;
        (status, body)
    }

    pub async fn details(&self, db: &str) -> Value {
        let (status, body) = self.get(&format!("{}/restoreDetails/Default", db_path(db))).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Moves the clock by `seconds` and returns the restore details.
    pub async fn advance(&self, db: &str, seconds: i64) -> Value {
        self.clock.advance(Duration::seconds(seconds));
        self.details(db).await
    }
}

/// A start request body.
pub fn start_body(storage_uri: &str, sas: &str, last_backup: Option<&str>) -> Value {
    let mut properties = serde_json::json!({
        "createMode": "RestoreExternalBackup",
        "storageContainerUri": storage_uri,
        "storageContainerSasToken": sas,
        "collation": "SQL_Latin1_General_CP1_CI_AS",
        "autoCompleteRestore": last_backup.is_some(),
    });
    if let Some(last) = last_backup {
        properties["lastBackupName"] = Value::from(last);
    }
    serde_json::json!({ "location": "westeurope", "properties": properties })
}

/// A container on Azurite, and tokens for it.
#[derive(Debug)]
pub struct Storage {
    pub azurite: Azurite,
    pub container: ContainerUrl,
    pub http: reqwest::Client,
}

impl Storage {
    pub async fn start(name: &str) -> Option<Storage> {
        let azurite = Azurite::start()?;
        let container = ContainerUrl::parse(&azurite.container_url(name)).unwrap();
        let storage = Storage { azurite, container, http: reqwest::Client::new() };
        let url = format!("{}?restype=container&{}", storage.container.url(), storage.write_sas());
        let r = storage.http.put(url).header("x-ms-version", "2022-11-02").send().await.unwrap();
        assert!(r.status().is_success(), "create container: {}", r.status());
        Some(storage)
    }

    /// An account SAS with every right, for the test's own setup (create the container, upload).
    pub fn write_sas(&self) -> String {
        let now = OffsetDateTime::now_utc();
        lrs_core::storage::sas::AccountSas::full_blob_access(now, Duration::hours(2))
            .sign(self.container.account(), &Secret::new(AZURITE_KEY))
            .unwrap()
            .expose()
            .to_string()
    }

    /// The LRS token: Read + List on the container for 32 days.
    pub fn lrs_sas(&self) -> String {
        let now = OffsetDateTime::now_utc();
        lrs_read_list_sas(&self.container, &Secret::new(AZURITE_KEY), now, now + Duration::days(32))
            .unwrap()
            .expose()
            .to_string()
    }

    /// A container SAS with other permissions (signed correctly).
    pub fn sas_with(&self, letters: &str) -> String {
        let now = OffsetDateTime::now_utc();
        ServiceSas {
            resource: lrs_core::storage::sas::SignedResource::Container,
            permissions: lrs_core::storage::sas::Permissions::parse(letters).unwrap(),
            start: Some(now - Duration::minutes(15)),
            expiry: now + Duration::days(32),
            protocol: Some("https,http".into()),
            identifier: None,
            version: lrs_core::storage::sas::SIGNED_VERSION.into(),
        }
        .sign(self.container.account(), self.container.container(), &Secret::new(AZURITE_KEY))
        .unwrap()
        .expose()
        .to_string()
    }

    /// The database folder's URL (LRS's storageContainerUri).
    pub fn folder_uri(&self, folder: &str) -> String {
        format!("{}/{folder}", self.container.url())
    }

    pub async fn upload(&self, folder: &str, file: &Path) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(file).unwrap();
        let url = format!("{}/{folder}/{name}?{}", self.container.url(), self.write_sas());
        let r = self
            .http
            .put(url)
            .header("x-ms-version", "2022-11-02")
            .header("x-ms-blob-type", "BlockBlob")
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "upload {name}");
    }
}

/// An `application/x-www-form-urlencoded` body.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}
