//! Listings: ARM returns `{ "value": [...], "nextLink": "..." }` and the next page is at
//! `nextLink` (an absolute URL that already carries the api-version) until it is absent.
//! [`Pager`] walks the pages one at a time; [`ArmClient::list_all`] collects them. A page limit and
//! a repeated-link check keep a misbehaving service from looping forever.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use url::Url;

use super::client::ArmClient;
use super::defaults;
use super::error::{ArmError, ErrorKind};

/// One page of a listing.
#[derive(Debug, Clone, Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    #[serde(rename = "nextLink", default)]
    pub next_link: Option<String>,
}

/// Walks a listing page by page.
#[derive(Debug)]
pub struct Pager<'a> {
    client: &'a ArmClient,
    next: Option<Url>,
    seen: Vec<Url>,
    what: String,
}

impl<'a> Pager<'a> {
    /// The listing at `path` (`/subscriptions/...`) with `api_version`.
    pub fn new(client: &'a ArmClient, path: &str, api_version: &str, what: &str) -> Result<Self, ArmError> {
        let first = client.url(path, api_version)?;
        Ok(Pager { client, next: Some(first), seen: Vec::new(), what: what.to_string() })
    }

    /// The next page, or `None` after the last one.
    pub async fn next_page<T: DeserializeOwned>(&mut self) -> Result<Option<Vec<T>>, ArmError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        if self.seen.len() >= defaults::MAX_PAGES || self.seen.contains(&url) {
            let message = format!("the listing did not end after {} pages (nextLink repeats)", self.seen.len());
            return Err(ArmError::local(ErrorKind::Unexpected, &self.what, message));
        }
        self.seen.push(url.clone());
        let page: Page<T> = self.client.send(Method::GET, url, None, &self.what).await?.json(&self.what)?;
        self.next = match page.next_link.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            None => None,
            Some(link) => Some(Url::parse(link).map_err(|e| {
                ArmError::local(ErrorKind::Unexpected, &self.what, format!("the nextLink is not a URL: {e}"))
            })?),
        };
        Ok(Some(page.value))
    }
}

impl ArmClient {
    /// Every item of the listing at `path`, following `nextLink`.
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        api_version: &str,
        what: &str,
    ) -> Result<Vec<T>, ArmError> {
        let mut pager = Pager::new(self, path, api_version, what)?;
        let mut all = Vec::new();
        while let Some(page) = pager.next_page::<T>().await? {
            all.extend(page);
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_read_with_and_without_next_link() {
        let p: Page<serde_json::Value> = serde_json::from_str(r#"{"value":[1,2],"nextLink":"https://x/y"}"#).unwrap();
        assert_eq!((p.value.len(), p.next_link.as_deref()), (2, Some("https://x/y")));
        let p: Page<serde_json::Value> = serde_json::from_str(r#"{"value":[]}"#).unwrap();
        assert!(p.value.is_empty() && p.next_link.is_none());
        let p: Page<serde_json::Value> = serde_json::from_str(r#"{"nextLink":null}"#).unwrap();
        assert!(p.value.is_empty() && p.next_link.is_none());
    }
}
