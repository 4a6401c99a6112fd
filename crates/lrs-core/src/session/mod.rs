//! What the desktop wizard holds between its steps, and every step's work: the mode (Azure or
//! rehearsal), the sign-in and the ARM client, the target managed instance, the databases found on
//! the Backups step and their folders, the container and where its key is kept, the SAS and its
//! check list. The app's commands are one-line calls of [`Session`] methods; the CLI does not need
//! it (it is stateless between commands).
//!
//! Secrets stay in Rust: the account key and the SAS are kept in the keychain (and the SAS in
//! memory as a [`Secret`]); [`SessionView`], all the webview sees, holds none.
//!
//! - [`views`]: the JSON types of the UI; [`settings`]: the settings file; [`folders`]: the folder
//!   naming rules; `signin`, `storage`, `access`: the steps;
//! - [`migrate`]: the migration itself ([`MigrationDesk`]: the plan from the choices, upload, start,
//!   dashboard, cutover and stop on `crate::migration`); [`dashboard`]: what its pages show.

mod access;
pub mod dashboard;
mod error;
pub mod folders;
pub mod migrate;
pub mod settings;
mod signin;
mod storage;
mod targets;
pub mod views;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

pub use dashboard::{
    ActionOutcome, Activity, AuditFormat, AuditRow, BlockView, CutoverRequest, DatabaseRow, MigrationMode,
    MigrationView, ProgressSample, StartChoice, StopRequest, UploadProgress,
};
pub use error::{SessionError, SessionErrorKind};
pub use migrate::MigrationDesk;
pub use settings::{CustomCloud, Settings, SettingsError};
pub use views::*;

use crate::arm::{ArmClient, AzureCloud, ServicePrincipal};
use crate::secrets::{Keychain, Secret};
use crate::storage::client::{HttpOptions, StorageClient};
use crate::storage::endpoint::ContainerUrl;

/// The rehearsal world a session is pointed at (built by `lrs-rehearsal`).
#[derive(Clone, Debug)]
pub struct RehearsalWorld {
    pub cloud: AzureCloud,
    pub principal: ServicePrincipal,
    pub subscription_id: String,
    pub resource_group: String,
    pub instance: String,
    pub storage_account: String,
    pub container: ContainerUrl,
    pub samples: Vec<PathBuf>,
}

/// The wizard's choices as the engine needs them (see [`Session::choices`]).
#[derive(Clone, Debug)]
pub struct WizardChoices {
    pub mode: Mode,
    pub cloud: Option<AzureCloud>,
    /// The signed-in ARM client (the emulator's in a rehearsal).
    pub arm: Option<ArmClient>,
    pub target: Option<TargetView>,
    /// Each database: its folder in the container, its restore sequence and last backup name.
    pub databases: Vec<DatabaseChoice>,
    pub container: Option<ContainerUrl>,
    /// The keychain entry holding the account key (`storage/<account>/key`), once chosen.
    pub account_key_entry: Option<String>,
    /// The Read+List SAS for LRS (also in the keychain as `sas/<account>/<container>`).
    pub sas: Option<Secret>,
    /// True once every access check passed.
    pub access_accepted: bool,
}

/// The chosen container, and the account as ARM knows it when it came from the list.
#[derive(Clone, Debug)]
struct StorageChoice {
    container: ContainerUrl,
    arm_account: Option<StorageAccountItem>,
}

/// The SAS LRS will use.
#[derive(Clone, Debug)]
struct SasChoice {
    token: Secret,
    view: SasView,
}

#[derive(Debug, Default)]
struct State {
    mode: Mode,
    rehearsal: Option<RehearsalWorld>,
    cloud: Option<AzureCloud>,
    arm: Option<ArmClient>,
    sign_in: Option<SignInView>,
    target: Option<TargetView>,
    databases: Vec<DatabaseChoice>,
    storage: Option<StorageChoice>,
    sas: Option<SasChoice>,
    access: Option<AccessReport>,
}

/// The wizard's session; share it behind an `Arc` (or as Tauri managed state). Methods take `&self`.
#[derive(Debug)]
pub struct Session {
    keychain: Keychain,
    http: StorageClient,
    config_dir: PathBuf,
    settings: Mutex<Settings>,
    state: Mutex<State>,
}

impl Session {
    /// A session whose settings live in `config_dir` (a broken settings file gives the defaults).
    pub fn new(config_dir: &Path, keychain: Keychain) -> Result<Session, SessionError> {
        let settings = Settings::load(config_dir).unwrap_or_default();
        let http = StorageClient::new(&HttpOptions::default()).map_err(|e| SessionError::Internal(e.to_string()))?;
        Ok(Session {
            keychain,
            http,
            config_dir: config_dir.to_path_buf(),
            settings: Mutex::new(settings),
            state: Mutex::new(State::default()),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held leaves plain data behind: keep using it.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Everything the UI shows, without a secret.
    pub fn view(&self) -> SessionView {
        let state = self.state();
        let storage = state.storage.as_ref().map(|s| storage::view(s, &self.keychain));
        SessionView {
            mode: state.mode,
            rehearsal: state.rehearsal.as_ref().map(rehearsal_view),
            sign_in: state.sign_in.clone(),
            target: state.target.clone(),
            databases: state.databases.clone(),
            sas: state.sas.as_ref().map(|s| s.view.clone()),
            access: state.access.clone(),
            done: StepsDone {
                signed_in: state.arm.is_some(),
                target: state.target.is_some(),
                backups: !state.databases.is_empty()
                    && state.databases.iter().all(|d| d.restorable && d.target_problem.is_none()),
                storage: storage.as_ref().is_some_and(|s| s.key_saved)
                    && state.databases.iter().all(|d| d.folder_problems.is_empty()),
                access: state.access.as_ref().is_some_and(|a| a.accepted),
            },
            storage,
        }
    }

    /// What the later steps (upload, start, dashboard, cutover) work from, secrets included; for
    /// Rust callers only (it is not serializable). Each part is `None` until its step is done.
    pub fn choices(&self) -> WizardChoices {
        let state = self.state();
        WizardChoices {
            mode: state.mode,
            cloud: state.cloud.clone(),
            arm: state.arm.clone(),
            target: state.target.clone(),
            databases: state.databases.clone(),
            container: state.storage.as_ref().map(|s| s.container.clone()),
            account_key_entry: state
                .storage
                .as_ref()
                .map(|s| crate::secrets::keychain::account_key_entry(s.container.account())),
            sas: state.sas.as_ref().map(|s| s.token.clone()),
            access_accepted: state.access.as_ref().is_some_and(|a| a.accepted),
        }
    }

    /// The keychain the session keeps keys and tokens in.
    pub fn keychain(&self) -> &Keychain {
        &self.keychain
    }

    /// Starts over for a migration to Azure (leaving a rehearsal, if one was on).
    pub fn begin_azure(&self) -> SessionView {
        let mut state = self.state();
        if state.mode == Mode::Rehearsal {
            *state = State::default();
        }
        drop(state);
        self.view()
    }

    /// Points the session at a rehearsal world and signs in with its service principal.
    pub async fn begin_rehearsal(&self, world: RehearsalWorld) -> Result<SessionView, SessionError> {
        let credential = world.principal.credential(&world.cloud)?;
        let arm = ArmClient::new(world.cloud.clone(), credential, Default::default())?;
        // Prove the sign-in works now rather than on the next page.
        arm.subscriptions().await?;
        let sign_in = SignInView {
            cloud: world.cloud.name.clone(),
            arm_endpoint: world.cloud.arm_endpoint.to_string(),
            method: SignInMethod::ServicePrincipal,
            tenant_id: world.principal.tenant_id.clone(),
            client_id: world.principal.client_id.clone(),
        };
        *self.state() = State {
            mode: Mode::Rehearsal,
            cloud: Some(world.cloud.clone()),
            arm: Some(arm),
            sign_in: Some(sign_in),
            rehearsal: Some(world),
            ..State::default()
        };
        Ok(self.view())
    }

    /// The settings in use.
    pub fn settings(&self) -> Settings {
        self.settings.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Checks and saves new settings.
    pub fn save_settings(&self, settings: Settings) -> Result<Settings, SessionError> {
        settings.save(&self.config_dir)?;
        *self.settings.lock().unwrap_or_else(|p| p.into_inner()) = settings.clone();
        Ok(settings)
    }

    fn arm(&self) -> Result<ArmClient, SessionError> {
        self.state().arm.clone().ok_or(SessionError::NotSignedIn)
    }
}

fn rehearsal_view(world: &RehearsalWorld) -> RehearsalView {
    RehearsalView {
        arm_endpoint: world.cloud.arm_endpoint.to_string(),
        subscription_id: world.subscription_id.clone(),
        resource_group: world.resource_group.clone(),
        instance: world.instance.clone(),
        storage_account: world.storage_account.clone(),
        container_url: world.container.to_string(),
        samples: world.samples.clone(),
    }
}

#[cfg(test)]
mod tests;
