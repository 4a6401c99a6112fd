//! What the emulator's world contains at first start: tenants' service principals, subscriptions,
//! resource groups, managed instances and storage accounts. [`Seed::rehearsal`] is the documented
//! default; a `--config` JSON file replaces it (see the crate README for the format).

use serde::{Deserialize, Serialize};

/// The default tenant of the rehearsal world.
pub const DEFAULT_TENANT: &str = "11111111-1111-1111-1111-111111111111";
/// The default subscription.
pub const DEFAULT_SUBSCRIPTION: &str = "22222222-2222-2222-2222-222222222222";
/// The default service principal's client id and secret.
pub const DEFAULT_CLIENT_ID: &str = "33333333-3333-3333-3333-333333333333";
pub const DEFAULT_CLIENT_SECRET: &str = "rehearsal-secret";
pub const DEFAULT_RESOURCE_GROUP: &str = "rehearsal-rg";
pub const DEFAULT_INSTANCE: &str = "rehearsal-mi";
pub const DEFAULT_LOCATION: &str = "westeurope";
pub const DEFAULT_COLLATION: &str = "SQL_Latin1_General_CP1_CI_AS";
/// Azurite's blob endpoint on its default port.
pub const DEFAULT_BLOB_ENDPOINT: &str = "http://127.0.0.1:10000/devstoreaccount1";
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
/// Azurite's well-known development key (public, documented by Microsoft; not a secret).
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    pub service_principals: Vec<ServicePrincipal>,
    /// The user that device-code and authorization-code sign-ins act as, per tenant.
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub subscriptions: Vec<Subscription>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServicePrincipal {
    pub tenant_id: String,
    pub client_id: String,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    pub tenant_id: String,
    pub user_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subscription {
    pub id: String,
    pub display_name: String,
    pub tenant_id: String,
    #[serde(default)]
    pub resource_groups: Vec<ResourceGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceGroup {
    pub name: String,
    pub location: String,
    #[serde(default)]
    pub managed_instances: Vec<ManagedInstance>,
    #[serde(default)]
    pub storage_accounts: Vec<StorageAccount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedInstance {
    pub name: String,
    pub location: String,
    /// `GeneralPurpose` or `BusinessCritical`.
    #[serde(default = "general_purpose")]
    pub tier: String,
    #[serde(default = "default_collation")]
    pub collation: String,
    #[serde(default = "default_vcores")]
    pub v_cores: u32,
    #[serde(default = "default_storage_gb")]
    pub storage_size_in_gb: u32,
    /// Databases on the instance; LRS restores count against it (General Purpose: 100).
    #[serde(default = "default_max_databases")]
    pub max_databases: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageAccount {
    pub name: String,
    pub location: String,
    /// The blob endpoint, without a trailing slash (`https://acct.blob.core.windows.net` or a
    /// path-style emulator endpoint such as Azurite's).
    pub blob_endpoint: String,
    /// `key1` and `key2`.
    pub keys: Vec<String>,
}

fn general_purpose() -> String {
    "GeneralPurpose".to_string()
}
fn default_collation() -> String {
    DEFAULT_COLLATION.to_string()
}
fn default_vcores() -> u32 {
    8
}
fn default_storage_gb() -> u32 {
    256
}
fn default_max_databases() -> usize {
    100
}

impl Seed {
    /// The documented default world, its storage account pointing at `blob_endpoint`.
    pub fn rehearsal(blob_endpoint: &str) -> Seed {
        let instance = ManagedInstance {
            name: DEFAULT_INSTANCE.into(),
            location: DEFAULT_LOCATION.into(),
            tier: general_purpose(),
            collation: default_collation(),
            v_cores: default_vcores(),
            storage_size_in_gb: default_storage_gb(),
            max_databases: default_max_databases(),
        };
        let storage = StorageAccount {
            name: AZURITE_ACCOUNT.into(),
            location: DEFAULT_LOCATION.into(),
            blob_endpoint: blob_endpoint.trim_end_matches('/').to_string(),
            keys: vec![AZURITE_KEY.into(), AZURITE_KEY.into()],
        };
        Seed {
            service_principals: vec![ServicePrincipal {
                tenant_id: DEFAULT_TENANT.into(),
                client_id: DEFAULT_CLIENT_ID.into(),
                secret: DEFAULT_CLIENT_SECRET.into(),
            }],
            users: vec![User { tenant_id: DEFAULT_TENANT.into(), user_name: "rehearsal@example.invalid".into() }],
            subscriptions: vec![Subscription {
                id: DEFAULT_SUBSCRIPTION.into(),
                display_name: "Rehearsal subscription".into(),
                tenant_id: DEFAULT_TENANT.into(),
                resource_groups: vec![ResourceGroup {
                    name: DEFAULT_RESOURCE_GROUP.into(),
                    location: DEFAULT_LOCATION.into(),
                    managed_instances: vec![instance],
                    storage_accounts: vec![storage],
                }],
            }],
        }
    }

    pub fn subscription(&self, id: &str) -> Option<&Subscription> {
        self.subscriptions.iter().find(|s| s.id.eq_ignore_ascii_case(id))
    }
}

impl Subscription {
    pub fn group(&self, name: &str) -> Option<&ResourceGroup> {
        self.resource_groups.iter().find(|g| g.name.eq_ignore_ascii_case(name))
    }
}

impl ResourceGroup {
    pub fn instance(&self, name: &str) -> Option<&ManagedInstance> {
        self.managed_instances.iter().find(|m| m.name.eq_ignore_ascii_case(name))
    }

    pub fn storage_account(&self, name: &str) -> Option<&StorageAccount> {
        self.storage_accounts.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }
}
