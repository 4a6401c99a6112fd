//! The engine's plan and services from the session: the databases and target chosen in the
//! wizard, the sign-in, and the account key in the keychain.

use std::path::PathBuf;

use crate::arm::cloud::CLOUD_NAMES;
use crate::migration::{DatabasePlan, MigrationPlan, Mode, Services, StoragePlan, Target};
use crate::session::views::{DatabaseChoice, SignInMethod};
use crate::session::{Session, SessionError};
use crate::storage::ContainerUrl;

/// The plan of the session's choices (continuous mode and the instance's collation until the
/// Start step says otherwise).
pub(super) fn plan_from(session: &Session) -> Result<MigrationPlan, SessionError> {
    let view = session.view();
    let choices = session.choices();
    let target = choices.target.ok_or_else(|| {
        SessionError::NotReady("choose the managed instance first (step 'Sign in and target')".into())
    })?;
    if !view.done.backups {
        return Err(SessionError::NotReady("every database must be restorable first (step 'Backups')".into()));
    }
    if !view.done.storage {
        return Err(SessionError::NotReady(
            "choose the container, keep its key and fix the folder names first (step 'Storage')".into(),
        ));
    }
    let container = choices
        .container
        .ok_or_else(|| SessionError::NotReady("choose the container first (step 'Storage')".into()))?;
    let cloud = choices.cloud.ok_or(SessionError::NotSignedIn)?;
    let built_in = CLOUD_NAMES.contains(&cloud.name.as_str());
    let databases = choices.databases.iter().map(database_plan).collect::<Result<Vec<_>, _>>()?;
    Ok(MigrationPlan::new(
        Mode::Continuous,
        Target {
            cloud: built_in.then(|| cloud.name.clone()),
            arm_endpoint: (!built_in).then(|| cloud.arm_endpoint.to_string()),
            subscription: Some(target.subscription_id.clone()),
            resource_group: target.instance.resource_group.clone(),
            instance: target.instance.name.clone(),
            collation: None,
        },
        StoragePlan {
            container_url: container.url().to_string(),
            account_key_env: None,
            keychain: choices.account_key_entry,
            sas_days: 32,
        },
        databases,
    ))
}

/// A database of the plan: its source is the folder holding its whole restore sequence.
fn database_plan(db: &DatabaseChoice) -> Result<DatabasePlan, SessionError> {
    let source = common_folder(&db.restore_sequence)
        .ok_or_else(|| SessionError::NotReady(format!("'{}' has no restore sequence (step 'Backups')", db.name)))?;
    let mut plan = DatabasePlan::new(db.target.clone(), source, db.folder.clone());
    if db.target != db.name {
        plan.source_database = Some(db.name.clone());
    }
    Ok(plan)
}

/// The deepest folder that holds every file.
fn common_folder(files: &[PathBuf]) -> Option<PathBuf> {
    let mut common = files.first()?.parent()?.to_path_buf();
    for file in &files[1..] {
        while !file.starts_with(&common) {
            common = common.parent()?.to_path_buf();
        }
    }
    Some(common)
}

pub(super) fn same_migration(a: &MigrationPlan, b: &MigrationPlan) -> bool {
    a.storage.container_url == b.storage.container_url
        && a.target.instance == b.target.instance
        && a.target.resource_group == b.target.resource_group
        && a.databases.len() == b.databases.len()
        && a.databases
            .iter()
            .zip(&b.databases)
            .all(|(x, y)| x.name == y.name && x.folder == y.folder && x.source == y.source)
}

/// The engine's services from the session's sign-in and the key in the keychain.
pub(super) fn services(session: &Session, plan: &MigrationPlan) -> Result<Services, SessionError> {
    let (arm, identity) = {
        let state = session.state();
        let arm = state.arm.clone().ok_or(SessionError::NotSignedIn)?;
        let identity = match &state.sign_in {
            Some(s) if s.method == SignInMethod::ServicePrincipal => format!("service principal {}", s.client_id),
            Some(s) => format!("{} sign-in on {} (tenant {})", method_name(s.method), s.cloud, s.tenant_id),
            None => "the wizard's sign-in".to_string(),
        };
        (arm, identity)
    };
    let entry = plan
        .storage
        .keychain
        .clone()
        .ok_or_else(|| SessionError::NotReady("the plan names no keychain entry for the account key".into()))?;
    let account_key = session.keychain.get(&entry)?.ok_or_else(|| {
        SessionError::NotReady(format!("the account key is not in the keychain ({entry}): step 'Storage'"))
    })?;
    let container = ContainerUrl::parse(&plan.storage.container_url)?;
    let subscription = plan
        .target
        .subscription
        .clone()
        .ok_or_else(|| SessionError::NotReady("the plan names no subscription".into()))?;
    Ok(Services { arm, http: session.http.clone(), container, account_key, subscription, identity })
}

fn method_name(method: SignInMethod) -> &'static str {
    match method {
        SignInMethod::Browser => "browser",
        SignInMethod::DeviceCode => "device code",
        SignInMethod::ServicePrincipal => "service principal",
        SignInMethod::AzureCli => "Azure CLI",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_is_the_folder_holding_the_whole_sequence() {
        let files = vec![PathBuf::from("/b/Sales/FULL/a.bak"), PathBuf::from("/b/Sales/LOG/b.trn")];
        assert_eq!(common_folder(&files), Some(PathBuf::from("/b/Sales")));
        assert_eq!(common_folder(&[PathBuf::from("/b/HR/a.bak")]), Some(PathBuf::from("/b/HR")));
        assert_eq!(common_folder(&[]), None);
    }
}
