//! Blob Storage as LRS uses it, through the SAS only: the folder named by `storageContainerUri`
//! (container URL plus folder), its flat listing, and a `Read + Seek` view of one blob that
//! fetches ranges on demand, so `lrs-core`'s reader reads the head and the tail of each backup
//! without downloading it.

use std::io::{self, Read, Seek, SeekFrom};
use std::net::IpAddr;

use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;
use url::Url;

/// The storage service version of the emulator's requests.
const VERSION: &str = "2022-11-02";

/// A folder in a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub container: Url,
    /// The folder's prefix with its trailing slash, or empty for the container's root.
    pub prefix: String,
}

/// Parses `storageContainerUri`: `https://ACCOUNT.blob.SUFFIX/CONTAINER[/FOLDER...]`, or path-style
/// `http://HOST:PORT/ACCOUNT/CONTAINER[/FOLDER...]` for an IP address or `localhost` (Azurite).
pub fn parse_folder(uri: &str) -> Result<Folder, String> {
    let url = Url::parse(uri.trim()).map_err(|_| format!("'{uri}' is not a URL"))?;
    if url.query().is_some() {
        return Err("the storage container URI carries a query; the SAS token goes in storageContainerSasToken".into());
    }
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_string();
    let path_style = host == "localhost" || host.parse::<IpAddr>().is_ok();
    let segments: Vec<&str> = url.path_segments().map(|s| s.filter(|p| !p.is_empty()).collect()).unwrap_or_default();
    let skip = usize::from(path_style);
    if segments.get(skip).is_none() {
        return Err(format!("'{uri}' names no container"));
    }
    let mut container_url = url.clone();
    container_url.set_path(&segments.get(..=skip).unwrap_or_default().join("/"));
    let rest = segments.get(skip + 1..).unwrap_or_default();
    let prefix = if rest.is_empty() { String::new() } else { format!("{}/", rest.join("/")) };
    Ok(Folder { container: container_url, prefix })
}

/// One blob of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The full blob name (with the folder prefix).
    pub name: String,
    pub size: u64,
    pub etag: String,
    pub last_modified: Option<OffsetDateTime>,
}

/// A storage request that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageFailure {
    pub status: Option<u16>,
    pub detail: String,
}

impl Folder {
    fn with_sas(&self, mut url: Url, sas: &str) -> Url {
        let query = url.query().map(|q| format!("{q}&{sas}")).unwrap_or_else(|| sas.to_string());
        url.set_query(Some(&query));
        url
    }

    /// The blob's URL with the SAS.
    pub fn blob_url(&self, name: &str, sas: &str) -> Url {
        let mut url = self.container.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.extend(name.split('/'));
        }
        self.with_sas(url, sas)
    }

    /// The blobs directly in the folder (nested folders are not LRS's), following continuation markers.
    pub async fn list(&self, client: &reqwest::Client, sas: &str) -> Result<Vec<Listed>, StorageFailure> {
        let mut blobs = Vec::new();
        let mut marker = String::new();
        loop {
            let mut url = self.container.clone();
            url.query_pairs_mut()
                .append_pair("restype", "container")
                .append_pair("comp", "list")
                .append_pair("prefix", &self.prefix)
                .append_pair("delimiter", "/");
            if !marker.is_empty() {
                url.query_pairs_mut().append_pair("marker", &marker);
            }
            let response = client
                .get(self.with_sas(url, sas))
                .header("x-ms-version", VERSION)
                .send()
                .await
                .map_err(|e| StorageFailure { status: None, detail: without_query(&e.to_string()) })?;
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            if !status.is_success() {
                let code = between(&text, "<Code>", "</Code>").unwrap_or_default();
                return Err(StorageFailure { status: Some(status.as_u16()), detail: format!("{status} {code}") });
            }
            blobs.extend(parse_blobs(&text));
            marker = between(&text, "<NextMarker>", "</NextMarker>").unwrap_or_default();
            if marker.is_empty() {
                return Ok(blobs);
            }
        }
    }
}

/// A reqwest error's text names the URL, SAS included: keep only what comes before a query.
fn without_query(text: &str) -> String {
    text.split('?').next().unwrap_or_default().to_string()
}

fn parse_blobs(xml: &str) -> Vec<Listed> {
    xml.split("<Blob>")
        .skip(1)
        .filter_map(|chunk| {
            let chunk = chunk.split("</Blob>").next()?;
            Some(Listed {
                name: unescape(&between(chunk, "<Name>", "</Name>")?),
                size: between(chunk, "<Content-Length>", "</Content-Length>")?.parse().ok()?,
                etag: between(chunk, "<Etag>", "</Etag>").unwrap_or_default(),
                last_modified: between(chunk, "<Last-Modified>", "</Last-Modified>").and_then(|t| parse_http_date(&t)),
            })
        })
        .collect()
}

fn between(text: &str, open: &str, close: &str) -> Option<String> {
    let start = text.find(open)? + open.len();
    let end = text.get(start..)?.find(close)? + start;
    text.get(start..end).map(str::to_string)
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// `Wed, 08 May 2020 17:29:46 GMT`.
fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    let normalized = text.trim().replace(" GMT", " +0000");
    OffsetDateTime::parse(&normalized, &Rfc2822).ok()
}

/// A blob read through ranged GETs, recording what it fetched (to mirror it into a sparse file).
/// It blocks on the async client: use it inside `spawn_blocking`.
#[derive(Debug)]
pub struct RangedBlob {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
    url: Url,
    len: u64,
    pos: u64,
    pub fetched: Vec<(u64, Vec<u8>)>,
}

impl RangedBlob {
    pub fn new(client: reqwest::Client, runtime: tokio::runtime::Handle, url: Url, len: u64) -> RangedBlob {
        RangedBlob { client, runtime, url, len, pos: 0, fetched: Vec::new() }
    }

    fn get(&self, start: u64, end: u64) -> io::Result<Vec<u8>> {
        let request = self
            .client
            .get(self.url.clone())
            .header("x-ms-version", VERSION)
            .header("x-ms-range", format!("bytes={start}-{end}"));
        self.runtime.block_on(async move {
            let response = request.send().await.map_err(|e| io::Error::other(without_query(&e.to_string())))?;
            if !response.status().is_success() {
                return Err(io::Error::other(format!("ranged read answered {}", response.status())));
            }
            response.bytes().await.map(|b| b.to_vec()).map_err(|e| io::Error::other(without_query(&e.to_string())))
        })
    }
}

impl Read for RangedBlob {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len || buf.is_empty() {
            return Ok(0);
        }
        let end = (self.pos + buf.len() as u64).min(self.len) - 1;
        let bytes = self.get(self.pos, end)?;
        let n = bytes.len().min(buf.len());
        buf.get_mut(..n)
            .ok_or_else(|| io::Error::other("short buffer"))?
            .copy_from_slice(bytes.get(..n).unwrap_or(&[]));
        self.fetched.push((self.pos, bytes.get(..n).unwrap_or(&[]).to_vec()));
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RangedBlob {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_parse_in_both_styles() {
        let f = parse_folder("http://127.0.0.1:10000/devstoreaccount1/migrations/Sales").unwrap();
        assert_eq!(f.container.as_str(), "http://127.0.0.1:10000/devstoreaccount1/migrations");
        assert_eq!(f.prefix, "Sales/");
        let f = parse_folder("https://acct.blob.core.windows.net/backups").unwrap();
        assert_eq!(f.container.as_str(), "https://acct.blob.core.windows.net/backups");
        assert_eq!(f.prefix, "");
        assert!(parse_folder("https://acct.blob.core.windows.net/").is_err());
    }

    #[test]
    fn listings_parse() {
        let xml = "<EnumerationResults><Blobs><Blob><Name>Sales/a&amp;b.bak</Name><Properties>\
                   <Last-Modified>Fri, 08 May 2020 17:29:46 GMT</Last-Modified><Etag>0x1</Etag>\
                   <Content-Length>42</Content-Length></Properties></Blob><BlobPrefix><Name>Sales/x/</Name>\
                   </BlobPrefix></Blobs><NextMarker/></EnumerationResults>";
        let blobs = parse_blobs(xml);
        assert_eq!(blobs.len(), 1);
        assert_eq!(blobs[0].name, "Sales/a&b.bak");
        assert_eq!(blobs[0].size, 42);
        assert_eq!(blobs[0].last_modified.unwrap().unix_timestamp(), 1588958986);
    }
}
