//! Where the backups go: a Blob Storage container, named by its URL (Azure public or sovereign
//! clouds, a custom domain, or a path-style emulator such as Azurite), or by a connection string.
//! A URL never carries credentials here: a SAS in its query is refused with a message that says
//! how to pass it instead.

use std::fmt;
use std::net::IpAddr;

use url::Url;

use crate::secrets::Secret;

/// Azurite's well-known development account (public, documented by Microsoft).
pub const EMULATOR_ACCOUNT: &str = "devstoreaccount1";
/// Azurite's well-known development key (public, documented by Microsoft; not a secret).
pub const EMULATOR_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A container: its account endpoint, account name and container name.
#[derive(Clone, PartialEq, Eq)]
pub struct ContainerUrl {
    /// The account's blob endpoint, without a trailing slash: `https://acct.blob.core.windows.net`
    /// or `http://127.0.0.1:10000/devstoreaccount1` (path-style).
    account_endpoint: Url,
    account: String,
    container: String,
}

/// Why a container URL or connection string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("'{0}' is not a URL: give the container URL, such as https://ACCOUNT.blob.core.windows.net/CONTAINER")]
    NotAUrl(String),
    #[error("the container URL must use https (or http for a local emulator on 127.0.0.1/localhost): '{0}'")]
    Scheme(String),
    #[error(
        "the container URL carries a query (a SAS token?). Pass the URL without '?...' and give the token through \
         an environment variable or the keychain, so it does not end up in your shell history"
    )]
    HasQuery,
    #[error("the URL names no container: add it after the account, such as {0}/CONTAINER")]
    NoContainer(String),
    #[error(
        "the URL names a blob or a folder ('{0}'); give the container URL only: the database folder is chosen \
         separately (--folder)"
    )]
    TooDeep(String),
    #[error("'{0}' is not a valid container name: 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit")]
    ContainerName(String),
    #[error("the account name cannot be told from the host '{0}': use https://ACCOUNT.blob.<suffix>/CONTAINER")]
    NoAccount(String),
    #[error("the connection string is missing {0}")]
    ConnectionString(&'static str),
}

impl ContainerUrl {
    /// Parses a container URL. Path-style (`http://host:port/ACCOUNT/CONTAINER`) is used for IP
    /// addresses and `localhost`, host-style (`https://ACCOUNT.blob.SUFFIX/CONTAINER`) otherwise.
    pub fn parse(text: &str) -> Result<Self, EndpointError> {
        let url = Url::parse(text.trim()).map_err(|_| EndpointError::NotAUrl(text.to_string()))?;
        if url.query().is_some() {
            return Err(EndpointError::HasQuery);
        }
        let loopback = is_loopback_host(&url);
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => return Err(EndpointError::Scheme(text.to_string())),
        }
        let host = url.host_str().ok_or_else(|| EndpointError::NotAUrl(text.to_string()))?.to_string();
        let segments: Vec<&str> =
            url.path_segments().map(|s| s.filter(|p| !p.is_empty()).collect()).unwrap_or_default();
        let path_style = loopback || host.parse::<IpAddr>().is_ok();
        let (account, container, rest) = if path_style {
            let account = segments.first().ok_or_else(|| EndpointError::NoAccount(host.clone()))?.to_string();
            (account, segments.get(1).copied(), segments.get(2..).unwrap_or(&[]).to_vec())
        } else {
            let account = host
                .split('.')
                .next()
                .filter(|a| !a.is_empty())
                .ok_or_else(|| EndpointError::NoAccount(host.clone()))?;
            (account.to_string(), segments.first().copied(), segments.get(1..).unwrap_or(&[]).to_vec())
        };
        let mut account_endpoint = url.clone();
        account_endpoint.set_path(if path_style { &account } else { "" });
        let base = account_endpoint.as_str().trim_end_matches('/').to_string();
        let container = container.ok_or(EndpointError::NoContainer(base.clone()))?;
        if !rest.is_empty() {
            return Err(EndpointError::TooDeep(rest.join("/")));
        }
        validate_container_name(container)?;
        let account_endpoint = Url::parse(&base).map_err(|_| EndpointError::NotAUrl(text.to_string()))?;
        Ok(ContainerUrl { account_endpoint, account, container: container.to_string() })
    }

    /// Builds the URL of `container` in the account a connection string names, with its account
    /// key when the string has one (`UseDevelopmentStorage=true` means Azurite on 127.0.0.1:10000).
    pub fn from_connection_string(text: &Secret, container: &str) -> Result<(Self, Option<Secret>), EndpointError> {
        let mut fields = std::collections::HashMap::new();
        for part in text.expose().split(';').filter(|p| !p.trim().is_empty()) {
            if let Some((k, v)) = part.split_once('=') {
                fields.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        if fields.get("usedevelopmentstorage").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            let url = Self::parse(&format!("http://127.0.0.1:10000/{EMULATOR_ACCOUNT}/{container}"))?;
            return Ok((url, Some(Secret::new(EMULATOR_KEY))));
        }
        let key = fields.get("accountkey").map(|k| Secret::new(k.clone()));
        let endpoint = match fields.get("blobendpoint") {
            Some(endpoint) => endpoint.trim_end_matches('/').to_string(),
            None => {
                let account = fields.get("accountname").ok_or(EndpointError::ConnectionString("AccountName"))?;
                let protocol = fields.get("defaultendpointsprotocol").map_or("https", String::as_str);
                let suffix = fields.get("endpointsuffix").map_or("core.windows.net", String::as_str);
                format!("{protocol}://{account}.blob.{suffix}")
            }
        };
        Ok((Self::parse(&format!("{endpoint}/{container}"))?, key))
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn container(&self) -> &str {
        &self.container
    }

    /// The account's blob endpoint, without a trailing slash.
    pub fn account_endpoint(&self) -> &Url {
        &self.account_endpoint
    }

    /// The container URL, without a trailing slash and without a query.
    pub fn url(&self) -> Url {
        let mut url = self.account_endpoint.clone();
        let path = format!("{}/{}", url.path().trim_end_matches('/'), self.container);
        url.set_path(&path);
        url
    }

    /// The URL of a blob in the container (`name` may contain `/` for a folder).
    pub fn blob_url(&self, name: &str) -> Url {
        let mut url = self.url();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.extend(name.split('/'));
        }
        url
    }

    /// True for a local emulator on a loopback address: the only case where plain http is allowed.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.account_endpoint)
    }
}

impl fmt::Display for ContainerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.url())
    }
}

impl fmt::Debug for ContainerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContainerUrl({})", self.url())
    }
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Azure's container naming rules.
pub fn validate_container_name(name: &str) -> Result<(), EndpointError> {
    let ok = (3..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    if ok {
        Ok(())
    } else {
        Err(EndpointError::ContainerName(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn azure_public_and_sovereign_clouds() {
        let c = ContainerUrl::parse("https://acct.blob.core.windows.net/migrations").unwrap();
        assert_eq!((c.account(), c.container()), ("acct", "migrations"));
        assert_eq!(c.account_endpoint().as_str(), "https://acct.blob.core.windows.net/");
        assert_eq!(c.url().as_str(), "https://acct.blob.core.windows.net/migrations");
        assert_eq!(
            c.blob_url("Sales/full 1.bak").as_str(),
            "https://acct.blob.core.windows.net/migrations/Sales/full%201.bak"
        );
        assert!(!c.is_loopback());
        let gov = ContainerUrl::parse("https://gov.blob.core.usgovcloudapi.net/dbs/").unwrap();
        assert_eq!((gov.account(), gov.container()), ("gov", "dbs"));
        let cn = ContainerUrl::parse("https://cn.blob.core.chinacloudapi.cn/dbs").unwrap();
        assert_eq!(cn.account(), "cn");
    }

    #[test]
    fn azurite_is_path_style_and_may_use_http() {
        let c = ContainerUrl::parse("http://127.0.0.1:10000/devstoreaccount1/migrations").unwrap();
        assert_eq!((c.account(), c.container()), ("devstoreaccount1", "migrations"));
        assert_eq!(c.url().as_str(), "http://127.0.0.1:10000/devstoreaccount1/migrations");
        assert_eq!(c.blob_url("db/a.bak").as_str(), "http://127.0.0.1:10000/devstoreaccount1/migrations/db/a.bak");
        assert!(c.is_loopback());
        assert!(ContainerUrl::parse("http://localhost:10000/devstoreaccount1/mig").unwrap().is_loopback());
    }

    #[test]
    fn refuses_what_lrs_or_azure_would_refuse() {
        let err = |t: &str| ContainerUrl::parse(t).unwrap_err();
        assert_eq!(
            err("http://acct.blob.core.windows.net/c01"),
            EndpointError::Scheme("http://acct.blob.core.windows.net/c01".into())
        );
        assert_eq!(err("https://acct.blob.core.windows.net/c01?sv=2022&sig=x"), EndpointError::HasQuery);
        assert!(matches!(err("https://acct.blob.core.windows.net/"), EndpointError::NoContainer(_)));
        assert!(matches!(err("https://acct.blob.core.windows.net/c01/db/x.bak"), EndpointError::TooDeep(_)));
        assert!(matches!(err("https://acct.blob.core.windows.net/Bad_Name"), EndpointError::ContainerName(_)));
        assert!(matches!(err("not a url"), EndpointError::NotAUrl(_)));
        // The SAS never appears in the message.
        assert!(!err("https://a.blob.core.windows.net/c01?sig=SECRET").to_string().contains("SECRET"));
    }

    #[test]
    fn connection_strings() {
        let (c, key) = ContainerUrl::from_connection_string(&Secret::new("UseDevelopmentStorage=true"), "mig").unwrap();
        assert_eq!(c.url().as_str(), "http://127.0.0.1:10000/devstoreaccount1/mig");
        assert_eq!(key.unwrap().expose(), EMULATOR_KEY);
        let cs = Secret::new(
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.chinacloudapi.cn",
        );
        let (c, key) = ContainerUrl::from_connection_string(&cs, "mig").unwrap();
        assert_eq!(c.url().as_str(), "https://acct.blob.core.chinacloudapi.cn/mig");
        assert_eq!(key.unwrap().expose(), "a2V5");
        let cs = Secret::new("BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;AccountName=devstoreaccount1");
        let (c, key) = ContainerUrl::from_connection_string(&cs, "mig").unwrap();
        assert_eq!(c.container(), "mig");
        assert!(key.is_none());
    }
}
