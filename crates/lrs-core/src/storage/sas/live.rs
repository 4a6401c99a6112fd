//! The live proof of a SAS token against its container, the way LRS will use it: listing the
//! database folder and reading a range of one blob must succeed; creating and deleting a blob must
//! be refused. The write probes target a unique blob name of their own that does not exist (never a
//! user's blob), and the create probe is conditional so that even a too-powerful token creates
//! nothing. HTTP outcomes are explained in
//! plain language once, in [`explain`]; URLs carrying the token never reach a message.

use reqwest::{Client, Method, StatusCode};

use super::check::{Check, CheckId};
use super::SIGNED_VERSION;
use crate::secrets::Secret;
use crate::storage::endpoint::ContainerUrl;

/// How long one probe request may take (the answers are small; a stall means a network problem).
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// What to prove and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOptions {
    /// The database folder LRS will read (without slashes); `None` for the whole container.
    pub folder: Option<String>,
    /// A unique suffix for the probe blob's name (passed in: tests and callers choose it).
    pub probe_suffix: String,
}

impl LiveOptions {
    /// The name of the probe blob: `FOLDER/.lrs-sas-probe-SUFFIX`.
    pub fn probe_name(&self) -> String {
        match self.folder.as_deref().map(|f| f.trim_matches('/')).filter(|f| !f.is_empty()) {
            Some(folder) => format!("{folder}/.lrs-sas-probe-{}", self.probe_suffix),
            None => format!(".lrs-sas-probe-{}", self.probe_suffix),
        }
    }

    fn prefix(&self) -> String {
        self.folder
            .as_deref()
            .map(|f| f.trim_matches('/'))
            .filter(|f| !f.is_empty())
            .map_or(String::new(), |f| format!("{f}/"))
    }
}

/// One HTTP outcome: the status and the service's error code (`x-ms-error-code` or `<Code>`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    status: StatusCode,
    code: Option<String>,
    body: String,
}

/// Runs the four live checks and returns them (to append to the static [`super::Verdict`]).
pub async fn prove_live(
    client: &Client,
    container: &ContainerUrl,
    token: &Secret,
    options: &LiveOptions,
) -> Vec<Check> {
    let token = token.expose().trim().trim_start_matches('?');
    let probe = options.probe_name();
    let probe_url = with_token(container.blob_url(&probe).as_str(), "", token);
    let prefix = options.prefix();
    let where_ = if prefix.is_empty() { "the container".to_string() } else { format!("the folder '{prefix}'") };

    let list_url =
        with_token(container.url().as_str(), &format!("restype=container&comp=list&prefix={}", encode(&prefix)), token);
    let list = send(client, Method::GET, &list_url, &[]).await;
    let first_blob = list.as_ref().ok().filter(|o| o.status.is_success()).and_then(|o| first_blob_name(&o.body));
    let list_check = match &list {
        Ok(o) if o.status == StatusCode::OK => Check::pass(CheckId::LiveList, format!("listing {where_} works")),
        outcome => {
            Check::fail(CheckId::LiveList, format!("listing {where_} failed: {}", describe(outcome)), fix_for(outcome))
        }
    };

    let read_check = read_check(client, container, token, first_blob.as_deref(), &probe_url).await;
    let (create_check, created) = create_check(client, &probe_url, &probe).await;
    let delete_check = delete_check(client, &probe_url, &probe, created).await;
    vec![list_check, read_check, create_check, delete_check]
}

async fn read_check(
    client: &Client,
    container: &ContainerUrl,
    token: &str,
    blob: Option<&str>,
    probe_url: &str,
) -> Check {
    let (url, what) = match blob {
        Some(name) => (with_token(container.blob_url(name).as_str(), "", token), format!("'{name}'")),
        None => (probe_url.to_string(), "a blob".to_string()),
    };
    let outcome = send(client, Method::GET, &url, &[("x-ms-range", "bytes=0-511")]).await;
    match (&outcome, blob) {
        (Ok(o), Some(_)) if o.status.is_success() || o.status == StatusCode::RANGE_NOT_SATISFIABLE => {
            Check::pass(CheckId::LiveRead, format!("reading {what} works"))
        }
        (Ok(o), None) if o.status == StatusCode::NOT_FOUND && o.code.as_deref() == Some("BlobNotFound") => Check::pass(
            CheckId::LiveRead,
            "the folder has no blob yet; reading is allowed (a read of a missing blob got 404 BlobNotFound, not 403)",
        ),
        _ => {
            Check::fail(CheckId::LiveRead, format!("reading {what} failed: {}", describe(&outcome)), fix_for(&outcome))
        }
    }
}

/// Asks to create the probe blob under a condition that cannot hold (`If-Match` on a blob that does
/// not exist): the service checks the token's permissions first, so a 403 proves creation is refused,
/// while a token that may write gets 412/404 and nothing is created. Returns the check and whether
/// a blob was created all the same (a service that ignored the condition).
async fn create_check(client: &Client, probe_url: &str, probe: &str) -> (Check, bool) {
    let headers = [("x-ms-blob-type", "BlockBlob"), ("if-match", "\"0x8D0000000000000\"")];
    let outcome = send(client, Method::PUT, probe_url, &headers).await;
    let too_much = || {
        Check::fail(
            CheckId::LiveCreateRefused,
            "the token may create and write blobs: it grants more than Read and List, so LRS refuses to start",
            "create a new token with Read and List only (`lrs sas create`)",
        )
    };
    match &outcome {
        Ok(o) if refused_for_permission(o) => {
            (Check::pass(CheckId::LiveCreateRefused, "creating a blob is refused, as LRS requires"), false)
        }
        Ok(o) if o.status == StatusCode::PRECONDITION_FAILED || o.status == StatusCode::NOT_FOUND => {
            (too_much(), false)
        }
        Ok(o) if o.status.is_success() => {
            let mut check = too_much();
            check.message.push_str(&format!(" (it created the probe blob '{probe}')"));
            (check, true)
        }
        other => (
            Check::fail(
                CheckId::LiveCreateRefused,
                format!("could not prove that creating a blob is refused: {}", describe(other)),
                fix_for(other),
            ),
            false,
        ),
    }
}

/// Asks to delete the probe blob, which does not exist unless this run created it (so no user blob
/// is ever touched): 403 means deleting is refused; 404 means the token may delete.
async fn delete_check(client: &Client, probe_url: &str, probe: &str, created: bool) -> Check {
    let outcome = send(client, Method::DELETE, probe_url, &[]).await;
    match &outcome {
        Ok(o) if refused_for_permission(o) => {
            let left =
                if created { format!(" (the probe blob '{probe}' is left behind: delete it)") } else { String::new() };
            Check::pass(CheckId::LiveDeleteRefused, format!("deleting a blob is refused, as LRS requires{left}"))
        }
        Ok(o) if o.status.is_success() || o.status == StatusCode::NOT_FOUND => Check::fail(
            CheckId::LiveDeleteRefused,
            "the token may delete blobs: the service did not refuse the delete (of this check's own probe name)",
            "create a new token with Read and List only (`lrs sas create`)",
        ),
        other => Check::fail(
            CheckId::LiveDeleteRefused,
            format!("could not prove that deleting a blob is refused: {}", describe(other)),
            fix_for(other),
        ),
    }
}

/// A 403 for lack of permission (not for a bad signature): the token was understood and refused.
fn refused_for_permission(o: &Outcome) -> bool {
    o.status == StatusCode::FORBIDDEN
        && matches!(o.code.as_deref(), Some("AuthorizationPermissionMismatch" | "AuthorizationResourceTypeMismatch"))
}

async fn send(client: &Client, method: Method, url: &str, headers: &[(&str, &str)]) -> Result<Outcome, String> {
    let put = method == Method::PUT;
    let mut request = client.request(method, url).header("x-ms-version", SIGNED_VERSION);
    if put {
        // An empty body gets no Content-Length from reqwest, and the service requires one on Put Blob.
        request = request.header(reqwest::header::CONTENT_LENGTH, "0").body(Vec::<u8>::new());
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = tokio::time::timeout(PROBE_TIMEOUT, request.send())
        .await
        .map_err(|_| format!("the storage endpoint did not answer within {} s", PROBE_TIMEOUT.as_secs()))?
        .map_err(transport_error)?;
    let status = response.status();
    let header_code = response.headers().get("x-ms-error-code").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = if status.is_success() && status != StatusCode::OK {
        String::new()
    } else {
        response.text().await.unwrap_or_default()
    };
    let code = header_code.or_else(|| between(&body, "<Code>", "</Code>").map(str::to_string));
    Ok(Outcome { status, code, body })
}

/// A transport error without its URL (which carries the token).
fn transport_error(error: reqwest::Error) -> String {
    let kind = if error.is_connect() {
        "could not connect to the storage endpoint (check the URL, the network and any proxy or firewall)"
    } else if error.is_timeout() {
        "the storage endpoint did not answer in time"
    } else {
        "the request failed"
    };
    let mut detail = error.without_url().to_string();
    detail.truncate(200);
    format!("{kind} ({detail})")
}

fn describe(outcome: &Result<Outcome, String>) -> String {
    match outcome {
        Err(transport) => transport.clone(),
        Ok(o) => explain(o.status, o.code.as_deref()),
    }
}

/// The service's answer in plain language, with its status and error code.
pub fn explain(status: StatusCode, code: Option<&str>) -> String {
    let meaning = match code {
        Some("AuthenticationFailed") => {
            "the service did not accept the token's signature: it was edited or cut, signed with a key that has \
             since been rotated, or is outside its time window"
        }
        Some("AuthorizationFailure") => {
            "the service refused the token: a wrong or tampered signature, a token for another account or \
             container, an expired window, or the storage firewall"
        }
        Some("AuthorizationPermissionMismatch") => "the token does not grant the permission this operation needs",
        Some("AuthorizationResourceTypeMismatch") => "the account SAS does not cover this resource type (srt)",
        Some("AuthorizationServiceMismatch") => "the account SAS does not cover the blob service (ss)",
        Some("AuthorizationProtocolMismatch") => "the token does not allow this protocol (spr)",
        Some("AuthorizationSourceIPMismatch") => "the token does not allow requests from this IP address (sip)",
        Some("NoAuthenticationInformation") => "the request carried no credentials: the token is empty",
        Some("ContainerNotFound") => "the container does not exist: check the container URL",
        Some("BlobNotFound") => "the blob does not exist",
        Some("InvalidQueryParameterValue") => "the service could not parse a field of the token",
        _ => match status {
            StatusCode::FORBIDDEN => "access denied",
            StatusCode::NOT_FOUND => "not found",
            StatusCode::BAD_REQUEST => "the service refused the request as malformed",
            s if s.is_server_error() => "the storage service had an error; try again",
            _ => "unexpected answer",
        },
    };
    match code {
        Some(code) => format!("{} {code}: {meaning}", status.as_u16()),
        None => format!("{}: {meaning}", status.as_u16()),
    }
}

fn fix_for(outcome: &Result<Outcome, String>) -> String {
    let code = outcome.as_ref().ok().and_then(|o| o.code.as_deref());
    match code {
        Some("AuthenticationFailed" | "AuthorizationFailure") => {
            "create a new token with `lrs sas create` (check that it was copied whole, for this account and \
             container, and that the key was not rotated)"
        }
        Some("ContainerNotFound") => "check the container URL, or create the container first",
        Some(
            "AuthorizationPermissionMismatch" | "AuthorizationResourceTypeMismatch" | "AuthorizationServiceMismatch",
        ) => "create a new token with exactly Read and List on the whole container (`lrs sas create`)",
        _ if outcome.is_err() => "check the container URL and the network, then run the check again",
        _ => "create a new token with `lrs sas create` and run the check again",
    }
    .to_string()
}

fn with_token(url: &str, query: &str, token: &str) -> String {
    match (query.is_empty(), token.is_empty()) {
        (true, _) => format!("{url}?{token}"),
        (false, true) => format!("{url}?{query}"),
        (false, false) => format!("{url}?{query}&{token}"),
    }
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

/// The first blob of a List Blobs answer (skipping folder placeholders), XML entities decoded.
fn first_blob_name(xml: &str) -> Option<String> {
    xml.split("<Blob>")
        .skip(1)
        .filter_map(|b| between(b, "<Name>", "</Name>"))
        .map(unescape)
        .find(|n| !n.ends_with('/'))
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_names_stay_in_the_folder() {
        let o = LiveOptions { folder: Some("/Sales/".into()), probe_suffix: "1a".into() };
        assert_eq!(o.probe_name(), "Sales/.lrs-sas-probe-1a");
        assert_eq!(o.prefix(), "Sales/");
        let o = LiveOptions { folder: None, probe_suffix: "1a".into() };
        assert_eq!((o.probe_name().as_str(), o.prefix().as_str()), (".lrs-sas-probe-1a", ""));
    }

    #[test]
    fn first_blob_of_a_listing() {
        let xml = "<EnumerationResults><Blobs><Blob><Name>db/</Name></Blob><Blob><Name>db/a&amp;b.bak</Name>\
                   <Properties/></Blob></Blobs></EnumerationResults>";
        assert_eq!(first_blob_name(xml).as_deref(), Some("db/a&b.bak"));
        assert_eq!(first_blob_name("<Blobs></Blobs>"), None);
    }

    #[test]
    fn explanations_name_the_code() {
        let text = explain(StatusCode::FORBIDDEN, Some("AuthorizationPermissionMismatch"));
        assert!(text.starts_with("403 AuthorizationPermissionMismatch: the token does not grant"));
        assert!(explain(StatusCode::FORBIDDEN, Some("AuthenticationFailed")).contains("signature"));
        assert_eq!(explain(StatusCode::FORBIDDEN, None), "403: access denied");
    }
}
