//! What the wizard's lists are filled from: subscriptions, resource groups, managed instances
//! (region, tier, collation, state), storage accounts with their blob endpoints, containers,
//! account keys (`listKeys`, returned as [`Secret`]s) and `ListServiceSas` (a Read+List container
//! SAS signed by Azure, so the wizard never handles the account key).

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use super::client::ArmClient;
use super::defaults::{RESOURCE_GROUPS_API_VERSION, SQL_API_VERSION, STORAGE_API_VERSION, SUBSCRIPTIONS_API_VERSION};
use super::error::{ArmError, ErrorKind};
use crate::secrets::Secret;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub subscription_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceGroup {
    pub name: String,
    pub location: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagedInstance {
    pub id: String,
    pub name: String,
    pub resource_group: String,
    pub location: String,
    /// `sku.name`, such as `GP_Gen5`.
    pub sku: Option<String>,
    /// `sku.tier`: `GeneralPurpose`, `BusinessCritical`.
    pub tier: Option<String>,
    pub vcores: Option<u32>,
    pub collation: Option<String>,
    /// `properties.state`, such as `Ready`.
    pub state: Option<String>,
    pub fully_qualified_domain_name: Option<String>,
    /// The system-assigned identity, which needs Storage Blob Data Reader for the managed-identity option.
    pub identity_principal_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorageAccount {
    pub id: String,
    pub name: String,
    pub resource_group: String,
    pub location: String,
    pub kind: Option<String>,
    /// `properties.primaryEndpoints.blob`, such as `https://acct.blob.core.windows.net/`.
    pub blob_endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlobContainer {
    pub name: String,
}

/// A storage account key; the value is a [`Secret`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountKey {
    pub name: String,
    pub permissions: Option<String>,
    pub value: Secret,
}

#[derive(Deserialize)]
struct RawResource {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    sku: Option<RawSku>,
    #[serde(default)]
    identity: Option<RawIdentity>,
    #[serde(default)]
    properties: serde_json::Value,
}

#[derive(Deserialize)]
struct RawSku {
    name: Option<String>,
    tier: Option<String>,
}

#[derive(Deserialize)]
struct RawIdentity {
    #[serde(rename = "principalId")]
    principal_id: Option<String>,
}

fn text(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key).and_then(|x| x.as_str()).map(str::to_string)
}

/// The resource group named in a resource id (`/subscriptions/s/resourceGroups/RG/...`).
pub fn resource_group_of(id: &str) -> String {
    let parts: Vec<&str> = id.split('/').collect();
    parts.windows(2).find(|w| w[0].eq_ignore_ascii_case("resourceGroups")).map(|w| w[1].to_string()).unwrap_or_default()
}

impl From<RawResource> for ManagedInstance {
    fn from(r: RawResource) -> Self {
        let p = &r.properties;
        ManagedInstance {
            resource_group: resource_group_of(&r.id),
            sku: r.sku.as_ref().and_then(|s| s.name.clone()),
            tier: r.sku.as_ref().and_then(|s| s.tier.clone()),
            vcores: p.get("vCores").and_then(|v| v.as_u64()).and_then(|v| u32::try_from(v).ok()),
            collation: text(p, "collation"),
            state: text(p, "state"),
            fully_qualified_domain_name: text(p, "fullyQualifiedDomainName"),
            identity_principal_id: r.identity.and_then(|i| i.principal_id),
            id: r.id,
            name: r.name,
            location: r.location,
        }
    }
}

impl From<RawResource> for StorageAccount {
    fn from(r: RawResource) -> Self {
        let blob_endpoint = r.properties.get("primaryEndpoints").and_then(|e| text(e, "blob"));
        StorageAccount {
            resource_group: resource_group_of(&r.id),
            kind: r.kind,
            blob_endpoint,
            id: r.id,
            name: r.name,
            location: r.location,
        }
    }
}

/// One path segment of an ARM resource id, escaped. A segment of dots only is escaped too: URL
/// resolution would collapse `databases/..` into the instance itself.
pub(crate) fn seg(value: &str) -> String {
    if !value.is_empty() && value.bytes().all(|b| b == b'.') {
        return value.replace('.', "%2E");
    }
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>().replace('+', "%20")
}

fn storage_path(subscription: &str, group: &str, account: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Storage/storageAccounts/{}",
        seg(subscription),
        seg(group),
        seg(account)
    )
}

/// The ARM path of a managed instance.
pub fn instance_path(subscription: &str, group: &str, instance: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Sql/managedInstances/{}",
        seg(subscription),
        seg(group),
        seg(instance)
    )
}

impl ArmClient {
    pub async fn subscriptions(&self) -> Result<Vec<Subscription>, ArmError> {
        self.list_all("/subscriptions", SUBSCRIPTIONS_API_VERSION, "list subscriptions").await
    }

    pub async fn resource_groups(&self, subscription: &str) -> Result<Vec<ResourceGroup>, ArmError> {
        let path = format!("/subscriptions/{}/resourcegroups", seg(subscription));
        let raw: Vec<RawResource> = self.list_all(&path, RESOURCE_GROUPS_API_VERSION, "list resource groups").await?;
        Ok(raw.into_iter().map(|r| ResourceGroup { name: r.name, location: r.location }).collect())
    }

    /// The managed instances of a subscription, or of one resource group.
    pub async fn managed_instances(
        &self,
        subscription: &str,
        group: Option<&str>,
    ) -> Result<Vec<ManagedInstance>, ArmError> {
        let path = match group {
            Some(g) => format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Sql/managedInstances",
                seg(subscription),
                seg(g)
            ),
            None => format!("/subscriptions/{}/providers/Microsoft.Sql/managedInstances", seg(subscription)),
        };
        let raw: Vec<RawResource> = self.list_all(&path, SQL_API_VERSION, "list managed instances").await?;
        Ok(raw.into_iter().map(ManagedInstance::from).collect())
    }

    pub async fn managed_instance(
        &self,
        subscription: &str,
        group: &str,
        name: &str,
    ) -> Result<ManagedInstance, ArmError> {
        let what = format!("get managed instance '{name}'");
        let raw: RawResource = self.get_json(&instance_path(subscription, group, name), SQL_API_VERSION, &what).await?;
        Ok(raw.into())
    }

    /// The storage accounts of a subscription, or of one resource group.
    pub async fn storage_accounts(
        &self,
        subscription: &str,
        group: Option<&str>,
    ) -> Result<Vec<StorageAccount>, ArmError> {
        let path = match group {
            Some(g) => format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Storage/storageAccounts",
                seg(subscription),
                seg(g)
            ),
            None => format!("/subscriptions/{}/providers/Microsoft.Storage/storageAccounts", seg(subscription)),
        };
        let raw: Vec<RawResource> = self.list_all(&path, STORAGE_API_VERSION, "list storage accounts").await?;
        Ok(raw.into_iter().map(StorageAccount::from).collect())
    }

    pub async fn containers(
        &self,
        subscription: &str,
        group: &str,
        account: &str,
    ) -> Result<Vec<BlobContainer>, ArmError> {
        let path = format!("{}/blobServices/default/containers", storage_path(subscription, group, account));
        let what = format!("list the containers of '{account}'");
        let raw: Vec<RawResource> = self.list_all(&path, STORAGE_API_VERSION, &what).await?;
        Ok(raw.into_iter().map(|r| BlobContainer { name: r.name }).collect())
    }

    /// The account keys (`listKeys`), as secrets.
    pub async fn list_keys(&self, subscription: &str, group: &str, account: &str) -> Result<Vec<AccountKey>, ArmError> {
        #[derive(Deserialize)]
        struct Keys {
            #[serde(default)]
            keys: Vec<Key>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Key {
            key_name: String,
            permissions: Option<String>,
            value: String,
        }
        let path = format!("{}/listKeys", storage_path(subscription, group, account));
        let what = format!("list the keys of '{account}'");
        let keys: Keys = self.post_json(&path, STORAGE_API_VERSION, &json!({}), &what).await?;
        Ok(keys
            .keys
            .into_iter()
            .map(|k| AccountKey { name: k.key_name, permissions: k.permissions, value: Secret::new(k.value) })
            .collect())
    }

    /// A Read+List SAS for the whole `container`, signed by Azure (`ListServiceSas`), valid from
    /// `start` (if given) to `expiry`. `https_only` adds `spr=https` (leave it off for Azurite on http).
    pub async fn list_service_sas(
        &self,
        target: (&str, &str, &str),
        container: &str,
        start: Option<OffsetDateTime>,
        expiry: OffsetDateTime,
        https_only: bool,
    ) -> Result<Secret, ArmError> {
        let (subscription, group, account) = target;
        let what = format!("create a Read+List SAS for '{account}/{container}'");
        let rfc = |t: OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc3339)
                .map_err(|e| ArmError::local(ErrorKind::Unexpected, &what, e.to_string()))
        };
        let mut body = json!({
            "canonicalizedResource": format!("/blob/{account}/{container}"),
            "signedResource": "c",
            "signedPermission": "rl",
            "signedExpiry": rfc(expiry)?,
        });
        if let Some(start) = start {
            body["signedStart"] = json!(rfc(start)?);
        }
        if https_only {
            body["signedProtocol"] = json!("https");
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Sas {
            service_sas_token: Option<String>,
        }
        let path = format!("{}/ListServiceSas", storage_path(subscription, group, account));
        let sas: Sas = self.post_json(&path, STORAGE_API_VERSION, &body, &what).await?;
        match sas.service_sas_token.filter(|t| !t.is_empty()) {
            Some(token) => Ok(Secret::new(token.trim_start_matches('?').to_string())),
            None => Err(ArmError::local(ErrorKind::Unexpected, &what, "the answer has no serviceSasToken")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_groups_and_paths() {
        let id = "/subscriptions/20d7/resourceGroups/Test1/providers/Microsoft.Sql/managedInstances/testinstance1";
        assert_eq!(resource_group_of(id), "Test1");
        assert_eq!(resource_group_of("/subscriptions/x/resourcegroups/rg2"), "rg2");
        assert_eq!(resource_group_of("/subscriptions/x"), "");
        assert_eq!(
            instance_path("s", "my rg", "mi"),
            "/subscriptions/s/resourceGroups/my%20rg/providers/Microsoft.Sql/managedInstances/mi"
        );
    }
}
