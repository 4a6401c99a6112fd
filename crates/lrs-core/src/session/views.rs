//! What the wizard shows and sends: the session's state as the UI sees it ([`SessionView`]), the
//! picker items, and the requests of each step. These types cross to the webview (JSON, with
//! TypeScript bindings under the `ts` feature), so none holds a secret: a key or token typed by the
//! user arrives as a [`PastedSecret`], which cannot be serialized back.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::secrets::Secret;

/// Migrating to Azure, or rehearsing against the local emulators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Azure,
    Rehearsal,
}

/// A secret the user typed or pasted (account key, SAS, client secret). Deserialized from a JSON
/// string; never serialized, and its `Debug` is redacted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct PastedSecret(pub Secret);

impl<'de> Deserialize<'de> for PastedSecret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(PastedSecret::from)
    }
}

impl From<String> for PastedSecret {
    fn from(value: String) -> Self {
        PastedSecret(Secret::new(value.trim().to_string()))
    }
}

/// How the user signs in to Azure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    /// The system browser (authorization code with PKCE).
    Browser,
    /// A code to type at the sign-in page on any device.
    DeviceCode,
    /// A service principal whose secret is in the keychain (or given once, then kept there).
    ServicePrincipal,
    /// The Azure CLI's login (`az login`).
    AzureCli,
}

/// The sign-in step's request.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignInRequest {
    /// A cloud name from [`CloudItem`].
    pub cloud: String,
    pub method: SignInMethod,
    /// A tenant id or `organizations`.
    pub tenant_id: String,
    pub client_id: String,
    /// The service principal's secret, to keep in the keychain; `null` when it is there already.
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub client_secret: Option<PastedSecret>,
}

/// What the user must do to finish an interactive sign-in (sent while the sign-in waits).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignInPrompt {
    DeviceCode {
        verification_uri: String,
        user_code: String,
        expires_in_seconds: u64,
    },
    /// The sign-in page; `opened` is false when the system browser could not be started.
    Browser {
        url: String,
        opened: bool,
    },
}

/// Who is signed in, where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignInView {
    pub cloud: String,
    pub arm_endpoint: String,
    pub method: SignInMethod,
    pub tenant_id: String,
    pub client_id: String,
}

/// A cloud the user may choose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CloudItem {
    pub name: String,
    pub arm_endpoint: String,
    pub built_in: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SubscriptionItem {
    pub id: String,
    pub name: String,
    pub state: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GroupItem {
    pub name: String,
    pub location: String,
}

/// A managed instance with what the picker shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InstanceItem {
    pub name: String,
    pub resource_group: String,
    pub location: String,
    /// `GeneralPurpose`, `BusinessCritical`.
    pub tier: Option<String>,
    pub sku: Option<String>,
    pub vcores: Option<u32>,
    pub collation: Option<String>,
    /// `Ready`, `Stopped`, ...
    pub state: Option<String>,
}

/// The target step's request.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TargetRequest {
    pub subscription_id: String,
    pub resource_group: String,
    pub instance: String,
}

/// The chosen managed instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TargetView {
    pub subscription_id: String,
    pub instance: InstanceItem,
}

/// A problem with a database's folder name, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FolderProblem {
    pub problem: String,
    pub fix: String,
}

/// One database found on the Backups step, and the folder its backups go to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DatabaseChoice {
    /// The name in the backup headers.
    pub name: String,
    /// The name it gets on the managed instance (by default `name`); it must not exist there.
    pub target: String,
    /// Why `target` cannot be used (in use on the instance, invalid, twice); `None` when it can.
    pub target_problem: Option<String>,
    /// The folder in the container (one flat folder per database).
    pub folder: String,
    /// Empty when the folder name follows the LRS rules.
    pub folder_problems: Vec<FolderProblem>,
    pub restorable: bool,
    /// Files in the restore sequence.
    pub files_to_restore: u32,
    pub last_backup_name: Option<String>,
    /// The paths inspected for it, in restore order.
    pub restore_sequence: Vec<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StorageAccountItem {
    pub name: String,
    pub resource_group: String,
    pub location: String,
    pub blob_endpoint: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContainerItem {
    pub name: String,
}

/// The storage step's request: a container URL, or an account from the list and a container name.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StorageRequest {
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub container_url: Option<String>,
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub account: Option<StorageAccountItem>,
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub container: Option<String>,
}

/// The chosen container and whether its key is in the keychain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StorageView {
    pub container_url: String,
    pub account: String,
    pub container: String,
    /// The account as ARM knows it, when it was picked from the list (the key can then be fetched).
    pub arm_account: Option<StorageAccountItem>,
    /// The keychain entry of the account key (`storage/<account>/key`).
    pub key_entry: String,
    pub key_saved: bool,
}

/// Where the SAS came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SasSource {
    Generated,
    Pasted,
}

/// The SAS LRS will use, without the token: its window (RFC 3339, UTC) and permissions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SasView {
    pub source: SasSource,
    pub start_utc: Option<String>,
    pub expiry_utc: Option<String>,
    pub permissions: Option<String>,
    /// The keychain entry it is kept in (`sas/<account>/<container>`).
    pub keychain_entry: String,
}

/// One line of the access check list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccessCheck {
    /// The rule (`permissions`, `live_list`, ...).
    pub id: String,
    /// `token`, or the database folder a live check ran in.
    pub scope: String,
    pub passed: bool,
    pub message: String,
    pub fix: Option<String>,
}

/// The access step's verdict: LRS will accept the SAS when `accepted`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccessReport {
    pub accepted: bool,
    /// The token must stay valid until then (RFC 3339, UTC).
    pub until_utc: String,
    pub checks: Vec<AccessCheck>,
}

/// The rehearsal world, as the pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RehearsalView {
    pub arm_endpoint: String,
    pub subscription_id: String,
    pub resource_group: String,
    pub instance: String,
    pub storage_account: String,
    pub container_url: String,
    /// One folder of sample backups per database.
    pub samples: Vec<PathBuf>,
}

/// Which steps are done, so the pages know what they may offer (computed in Rust).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StepsDone {
    pub signed_in: bool,
    pub target: bool,
    pub backups: bool,
    pub storage: bool,
    pub access: bool,
}

/// Everything the wizard holds, as the UI sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionView {
    pub mode: Mode,
    pub rehearsal: Option<RehearsalView>,
    pub sign_in: Option<SignInView>,
    pub target: Option<TargetView>,
    pub databases: Vec<DatabaseChoice>,
    pub storage: Option<StorageView>,
    pub sas: Option<SasView>,
    pub access: Option<AccessReport>,
    pub done: StepsDone,
}
