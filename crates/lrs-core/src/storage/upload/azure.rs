//! [`BlobStore`] over the official `azure_storage_blob` 1.x clients of a [`ContainerClient`]:
//! Put Block with a transactional CRC-64 (`x-ms-content-crc64`) or MD5 (`Content-MD5`), Put Block List with the blob's Content-MD5, Get
//! Block List and Get Blob Properties. SDK errors become [`RequestError`]s here, keeping the status,
//! `x-ms-error-code` and `Retry-After`, and dropping anything that could hold the SAS URL.

use azure_core::error::ErrorKind;
use azure_core::Bytes;
use azure_storage_blob::models::{
    BlobClientGetPropertiesResultHeaders, BlockBlobClientCommitBlockListOptions, BlockBlobClientStageBlockOptions,
    BlockListType, BlockLookupList,
};

use super::checksum::BlockSum;
use super::store::{BlobProperties, BlobStore, BlockListing, StoredBlock};
use crate::storage::client::{redact, ContainerClient};
use crate::storage::retry::{parse_retry_after, Failure, RequestError};

const STAGE: &str = "put block";
const COMMIT: &str = "put block list";
const LIST: &str = "get block list";
const PROPERTIES: &str = "get properties";

impl BlobStore for ContainerClient {
    async fn stage_block(&self, blob: &str, block_id: &[u8], data: Bytes, sum: BlockSum) -> Result<(), RequestError> {
        let client = self.blob_client(blob).map_err(|e| other(STAGE, blob, &e))?.block_blob_client();
        let options = match sum {
            BlockSum::Crc64(crc64) => BlockBlobClientStageBlockOptions {
                transactional_content_crc64: Some(crc64.to_vec()),
                ..Default::default()
            },
            BlockSum::Md5(md5) => {
                BlockBlobClientStageBlockOptions { transactional_content_md5: Some(md5.to_vec()), ..Default::default() }
            }
        };
        let len = data.len() as u64;
        client.stage_block(block_id, len, data.into(), Some(options)).await.map_err(|e| from_sdk(STAGE, blob, &e))?;
        Ok(())
    }

    async fn commit(&self, blob: &str, block_ids: &[Vec<u8>], content_md5: [u8; 16]) -> Result<(), RequestError> {
        let client = self.blob_client(blob).map_err(|e| other(COMMIT, blob, &e))?.block_blob_client();
        let list = BlockLookupList { latest: Some(block_ids.to_vec()), ..Default::default() };
        let body = list.try_into().map_err(|e: azure_core::Error| from_sdk(COMMIT, blob, &e))?;
        let options = BlockBlobClientCommitBlockListOptions {
            blob_content_md5: Some(content_md5.to_vec()),
            ..Default::default()
        };
        client.commit_block_list(body, Some(options)).await.map_err(|e| from_sdk(COMMIT, blob, &e))?;
        Ok(())
    }

    async fn block_list(&self, blob: &str) -> Result<BlockListing, RequestError> {
        let client = self.blob_client(blob).map_err(|e| other(LIST, blob, &e))?.block_blob_client();
        let list = match client.get_block_list(BlockListType::All, None).await {
            Ok(response) => response.into_model().map_err(|e| from_sdk(LIST, blob, &e))?,
            Err(e) if e.http_status().map(u16::from) == Some(404) => return Ok(BlockListing::default()),
            Err(e) => return Err(from_sdk(LIST, blob, &e)),
        };
        let convert = |blocks: Option<Vec<azure_storage_blob::models::Block>>| -> Vec<StoredBlock> {
            blocks
                .unwrap_or_default()
                .into_iter()
                .map(|b| StoredBlock {
                    id: b.name.unwrap_or_default(),
                    size: b.size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                })
                .collect()
        };
        Ok(BlockListing { committed: convert(list.committed_blocks), uncommitted: convert(list.uncommitted_blocks) })
    }

    fn is_loopback(&self) -> bool {
        self.container().is_loopback()
    }

    async fn properties(&self, blob: &str) -> Result<Option<BlobProperties>, RequestError> {
        let client = self.blob_client(blob).map_err(|e| other(PROPERTIES, blob, &e))?;
        let response = match client.get_properties(None).await {
            Ok(response) => response,
            Err(e) if e.http_status().map(u16::from) == Some(404) => return Ok(None),
            Err(e) => return Err(from_sdk(PROPERTIES, blob, &e)),
        };
        let size = response.content_length().map_err(|e| from_sdk(PROPERTIES, blob, &e))?.unwrap_or(0);
        let md5 = response.content_md5().map_err(|e| from_sdk(PROPERTIES, blob, &e))?;
        let content_md5 = md5.and_then(|m| <[u8; 16]>::try_from(m.as_slice()).ok());
        Ok(Some(BlobProperties { size, content_md5 }))
    }
}

fn other(operation: &'static str, blob: &str, err: &dyn std::fmt::Display) -> RequestError {
    RequestError::new(operation, blob, Failure::Other(redact(&err.to_string())))
}

/// Maps an SDK error once: the status and error code for a service answer, the network for I/O.
/// The SDK's own message of a reqwest failure names the URL, so only the error chain's innermost
/// cause is kept, and scrubbed.
fn from_sdk(operation: &'static str, blob: &str, err: &azure_core::Error) -> RequestError {
    let failure = match err.kind() {
        ErrorKind::HttpResponse { status, error_code, raw_response } => {
            let header = |name: &'static str| {
                raw_response.as_ref().and_then(|r| r.headers().get_optional_str(&name.into()).map(str::to_owned))
            };
            Failure::Status {
                status: u16::from(*status),
                code: error_code.clone().filter(|c| !c.chars().all(|ch| ch.is_ascii_digit())),
                message: service_message(&err.to_string()),
                retry_after: parse_retry_after(
                    header("retry-after").as_deref(),
                    header("x-ms-retry-after-ms").as_deref(),
                ),
            }
        }
        ErrorKind::Connection | ErrorKind::Io => Failure::Network(redact(&innermost(err))),
        _ => Failure::Other(redact(&innermost(err))),
    };
    RequestError::new(operation, blob, failure)
}

/// The `<Message>` of a storage error body (first line), or nothing.
fn service_message(text: &str) -> String {
    let message = text
        .split_once("<Message>")
        .and_then(|(_, rest)| rest.split_once("</Message>"))
        .map(|(m, _)| m.lines().next().unwrap_or("").trim().to_string())
        .unwrap_or_default();
    redact(&message)
}

fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut source: &(dyn std::error::Error + 'static) = err;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_messages_are_cut_to_their_first_line() {
        let body =
            "403 Forbidden: <?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed \
                    to authenticate the request.\nRequestId:abc\nTime:2026</Message></Error>";
        assert_eq!(service_message(body), "Server failed to authenticate the request.");
        assert_eq!(service_message("503"), "");
    }
}
