//! The "Backups" and "Storage" steps: the databases found by inspection and the flat folder each
//! goes to (checked by [`super::folders`]); the container, from ARM's lists or a pasted URL; the
//! account key, fetched through ARM (`listKeys`) or pasted, and kept in the keychain only.

use std::path::PathBuf;

use super::folders::folder_problems;
use super::views::*;
use super::{Session, SessionError, StorageChoice};
use crate::backup::{self, InspectOptions, Inspection};
use crate::secrets::keychain::account_key_entry;
use crate::secrets::{Keychain, Secret};
use crate::storage::endpoint::ContainerUrl;

impl Session {
    /// Inspects the backups under `paths` and keeps each database with its proposed folder.
    pub async fn inspect_backups(&self, paths: Vec<PathBuf>) -> Result<Inspection, SessionError> {
        let inspection = tokio::task::spawn_blocking(move || backup::inspect(&paths, &InspectOptions::default()))
            .await
            .map_err(|e| SessionError::Internal(e.to_string()))??;
        let mut databases: Vec<DatabaseChoice> = inspection
            .databases
            .iter()
            .map(|db| DatabaseChoice {
                name: db.name.clone(),
                target: db.name.clone(),
                target_problem: None,
                folder: db.folder.clone(),
                folder_problems: Vec::new(),
                restorable: db.restorable,
                files_to_restore: u32::try_from(db.restore_sequence.len()).unwrap_or(u32::MAX),
                last_backup_name: db.last_backup_name.clone(),
                restore_sequence: db.restore_sequence.clone(),
            })
            .collect();
        recheck_folders(&mut databases);
        {
            let mut state = self.state();
            state.databases = databases;
            state.access = None;
        }
        self.check_target_names().await;
        Ok(inspection)
    }

    /// Renames the folder of database `database` (its name as inspection found it).
    pub fn set_folder(&self, database: &str, folder: &str) -> Result<SessionView, SessionError> {
        {
            let mut state = self.state();
            database_mut(&mut state.databases, database)?.folder = folder.trim().to_string();
            recheck_folders(&mut state.databases);
            state.access = None;
        }
        Ok(self.view())
    }

    /// The storage accounts of the target's subscription.
    pub async fn storage_accounts(&self) -> Result<Vec<StorageAccountItem>, SessionError> {
        let subscription = self.subscription()?;
        let list = self.arm()?.storage_accounts(&subscription, None).await?;
        Ok(list
            .into_iter()
            .map(|a| StorageAccountItem {
                name: a.name,
                resource_group: a.resource_group,
                location: a.location,
                blob_endpoint: a.blob_endpoint,
            })
            .collect())
    }

    /// The containers of an account, through ARM.
    pub async fn containers(&self, account: &StorageAccountItem) -> Result<Vec<ContainerItem>, SessionError> {
        let subscription = self.subscription()?;
        let list = self.arm()?.containers(&subscription, &account.resource_group, &account.name).await?;
        Ok(list.into_iter().map(|c| ContainerItem { name: c.name }).collect())
    }

    /// Chooses the container: a pasted URL, or an account from the list and a container name.
    pub fn select_storage(&self, request: StorageRequest) -> Result<SessionView, SessionError> {
        let url = match (&request.container_url, &request.account, &request.container) {
            (Some(url), _, _) if !url.trim().is_empty() => url.trim().to_string(),
            (_, Some(account), Some(container)) => {
                let endpoint = account.blob_endpoint.as_deref().ok_or_else(|| {
                    SessionError::Invalid(format!("the account '{}' has no blob endpoint", account.name))
                })?;
                format!("{}/{}", endpoint.trim_end_matches('/'), container.trim())
            }
            _ => return Err(SessionError::Invalid("give a container URL, or an account and a container".into())),
        };
        let container = ContainerUrl::parse(&url)?;
        let arm_account = request.account.filter(|a| a.name.eq_ignore_ascii_case(container.account()));
        let mut state = self.state();
        let same = state.storage.as_ref().is_some_and(|s| s.container == container);
        if !same {
            state.sas = None;
            state.access = None;
        }
        state.storage = Some(StorageChoice { container, arm_account });
        drop(state);
        Ok(self.view())
    }

    /// Fetches the account key through ARM (`listKeys`) and keeps it in the keychain.
    pub async fn fetch_account_key(&self) -> Result<SessionView, SessionError> {
        let subscription = self.subscription()?;
        let choice = self.storage_choice()?;
        let account = choice.arm_account.ok_or_else(|| {
            SessionError::NotReady("the account was not picked from the list: paste its key instead".into())
        })?;
        let keys = self.arm()?.list_keys(&subscription, &account.resource_group, &account.name).await?;
        let key = keys.into_iter().next().ok_or_else(|| {
            SessionError::NotReady(format!("ARM returned no key for '{}' (is Shared Key disabled?)", account.name))
        })?;
        self.keychain.set(&account_key_entry(choice.container.account()), &key.value)?;
        Ok(self.view())
    }

    /// Keeps a pasted account key in the keychain.
    pub fn save_account_key(&self, key: PastedSecret) -> Result<SessionView, SessionError> {
        let choice = self.storage_choice()?;
        check_key(&key.0)?;
        self.keychain.set(&account_key_entry(choice.container.account()), &key.0)?;
        Ok(self.view())
    }

    fn subscription(&self) -> Result<String, SessionError> {
        let state = self.state();
        match (&state.target, &state.rehearsal) {
            (Some(target), _) => Ok(target.subscription_id.clone()),
            (None, Some(world)) => Ok(world.subscription_id.clone()),
            (None, None) => Err(SessionError::NotReady("choose the managed instance first".into())),
        }
    }

    pub(super) fn storage_choice(&self) -> Result<StorageChoice, SessionError> {
        self.state().storage.clone().ok_or_else(|| SessionError::NotReady("choose the container first".into()))
    }
}

/// A storage account key is 64 bytes in base64.
fn check_key(key: &Secret) -> Result<(), SessionError> {
    use base64::Engine;
    match base64::engine::general_purpose::STANDARD.decode(key.expose()) {
        Ok(bytes) if !bytes.is_empty() => Ok(()),
        _ => Err(SessionError::Invalid(
            "that is not a storage account key (copy key1 or key2 from the account's Access keys page)".into(),
        )),
    }
}

/// The database `name` (its name in the backups) of the Backups step.
pub(super) fn database_mut<'a>(
    databases: &'a mut [DatabaseChoice],
    name: &str,
) -> Result<&'a mut DatabaseChoice, SessionError> {
    databases
        .iter_mut()
        .find(|d| d.name == name)
        .ok_or_else(|| SessionError::Invalid(format!("no database '{name}' on the Backups step")))
}

fn recheck_folders(databases: &mut [DatabaseChoice]) {
    let folders: Vec<String> = databases.iter().map(|d| d.folder.clone()).collect();
    for (i, db) in databases.iter_mut().enumerate() {
        let others: Vec<&str> = folders.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, f)| f.as_str()).collect();
        db.folder_problems = folder_problems(&db.folder, &others);
    }
}

/// The storage step as the UI sees it (whether the key is in the keychain is asked there).
pub(super) fn view(choice: &StorageChoice, keychain: &Keychain) -> StorageView {
    let key_entry = account_key_entry(choice.container.account());
    StorageView {
        container_url: choice.container.to_string(),
        account: choice.container.account().to_string(),
        container: choice.container.container().to_string(),
        arm_account: choice.arm_account.clone(),
        key_saved: keychain.exists(&key_entry).unwrap_or(false),
        key_entry,
    }
}
