//! Helpers shared by the upload tests against Azurite: a container created with an account SAS,
//! engine clients with an account key or a SAS, files of chosen sizes, and reading a blob back.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use lrs_core::secrets::Secret;
use lrs_core::storage::client::{ContainerClient, HttpOptions, StorageClient, UploadCredential};
use lrs_core::storage::sas::{self, AccountSas};
use lrs_core::storage::ContainerUrl;
use lrs_testkit::{Azurite, AZURITE_ACCOUNT, AZURITE_KEY};
use md5::{Digest, Md5};
use time::OffsetDateTime;

pub fn key() -> Secret {
    Secret::new(AZURITE_KEY)
}

/// An account SAS able to create containers and read blobs (for the tests' own calls).
pub fn admin_sas() -> Secret {
    let now = OffsetDateTime::now_utc();
    AccountSas::full_blob_access(now, time::Duration::hours(2)).sign(AZURITE_ACCOUNT, &key()).unwrap()
}

/// Creates `container` on Azurite (direct, not through any proxy).
pub async fn create_container(azurite: &Azurite, container: &str) {
    let url = format!("{}?restype=container&{}", azurite.container_url(container), admin_sas().expose());
    let status = reqwest::Client::new().put(url).header("content-length", "0").send().await.unwrap().status();
    assert!(status.as_u16() == 201 || status.as_u16() == 409, "create container: {status}");
}

pub fn client(container_url: &str, credential: UploadCredential) -> ContainerClient {
    let http = StorageClient::new(&HttpOptions::default()).unwrap();
    http.container(ContainerUrl::parse(container_url).unwrap(), credential)
}

/// A write SAS for `container_url`, as the engine would mint it.
pub fn write_sas(container_url: &str) -> Secret {
    let c = ContainerUrl::parse(container_url).unwrap();
    sas::write_sas(&c, &key(), OffsetDateTime::now_utc(), time::Duration::hours(1)).unwrap()
}

/// A file of `len` bytes of a deterministic pattern.
pub fn pattern_file(dir: &Path, name: &str, len: usize) -> PathBuf {
    let data: Vec<u8> = (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

/// A sparse file of `len` bytes with a little data at a few offsets.
pub fn sparse_file(dir: &Path, name: &str, len: u64) -> PathBuf {
    use std::io::{Seek, SeekFrom, Write};
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    f.set_len(len).unwrap();
    for offset in [0, len / 3, len / 2 + 12_345, len - 5] {
        f.seek(SeekFrom::Start(offset)).unwrap();
        f.write_all(b"LRS!!").unwrap();
    }
    path
}

pub fn md5_file(path: &Path) -> [u8; 16] {
    use std::io::Read;
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            return h.finalize().into();
        }
        h.update(&buf[..n]);
    }
}

/// Downloads a blob straight from Azurite and returns its size and MD5.
pub async fn read_back(azurite: &Azurite, container: &str, blob: &str) -> (u64, [u8; 16]) {
    let url = format!("{}/{blob}?{}", azurite.container_url(container), admin_sas().expose());
    let mut response = reqwest::Client::new().get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "read back {blob}");
    let mut h = Md5::new();
    let mut size = 0u64;
    while let Some(chunk) = response.chunk().await.unwrap() {
        size += chunk.len() as u64;
        h.update(&chunk);
    }
    (size, h.finalize().into())
}

/// The uncommitted blocks Azurite holds for a blob.
pub async fn uncommitted_blocks(azurite: &Azurite, container: &str, blob: &str) -> usize {
    let url = format!(
        "{}/{blob}?comp=blocklist&blocklisttype=uncommitted&{}",
        azurite.container_url(container),
        admin_sas().expose()
    );
    let text = reqwest::Client::new().get(url).send().await.unwrap().text().await.unwrap();
    text.matches("<Block>").count()
}
