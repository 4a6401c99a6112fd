//! The session's steps that need no network: the view of a new session, the Backups step on
//! synthetic backups and the folder rules, the container choice, and requests out of order.

use super::*;
use crate::backup::writer::write_sample_chain;

fn session() -> (Session, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::new(dir.path(), Keychain::with_service("lrs-session-unit-test")).unwrap();
    (session, dir)
}

#[test]
fn a_new_session_has_nothing_done() {
    let (session, _dir) = session();
    let view = session.view();
    assert_eq!(view.mode, Mode::Azure);
    assert_eq!(view.done, StepsDone::default());
    assert!(matches!(session.generate_sas(32, time::OffsetDateTime::now_utc()), Err(SessionError::NotReady(_))));
    let choices = session.choices();
    assert!(choices.arm.is_none() && choices.container.is_none() && choices.sas.is_none());
    assert_eq!(session.clouds().len(), 3);
}

#[tokio::test]
async fn backups_give_each_database_a_checked_folder() {
    let (session, dir) = session();
    let (sales, hr) = (dir.path().join("Sales"), dir.path().join("HR"));
    for (folder, name) in [(&sales, "Sales"), (&hr, "HR")] {
        std::fs::create_dir_all(folder).unwrap();
        write_sample_chain(folder, name, 2).unwrap();
    }
    let inspection = session.inspect_backups(vec![sales, hr]).await.unwrap();
    assert_eq!(inspection.databases.len(), 2);
    let view = session.view();
    assert!(view.done.backups, "{view:?}");
    let sales = view.databases.iter().find(|d| d.name == "Sales").unwrap();
    assert_eq!((sales.folder.as_str(), sales.files_to_restore), ("Sales", 4));
    assert!(sales.folder_problems.is_empty());

    let view = session.set_folder("Sales", "HR").unwrap();
    assert!(view.databases.iter().all(|d| d.folder_problems.len() == 1), "both are told: {view:?}");
    let view = session.set_folder("Sales", "sales/backups").unwrap();
    let sales = view.databases.iter().find(|d| d.name == "Sales").unwrap();
    assert_eq!(sales.folder_problems.len(), 2, "{sales:?}");
    assert!(matches!(session.set_folder("Nope", "x"), Err(SessionError::Invalid(_))));
}

#[test]
fn the_container_is_a_url_or_an_account_and_a_name() {
    let (session, _dir) = session();
    let err = session.select_storage(StorageRequest { container_url: None, account: None, container: None });
    assert_eq!(err.unwrap_err().kind(), SessionErrorKind::InvalidInput);
    let with_sas = StorageRequest {
        container_url: Some("https://acct.blob.core.windows.net/mig?sv=x".into()),
        account: None,
        container: None,
    };
    assert_eq!(session.select_storage(with_sas).unwrap_err().kind(), SessionErrorKind::InvalidInput);
    let account = StorageAccountItem {
        name: "acct".into(),
        resource_group: "rg".into(),
        location: "westeurope".into(),
        blob_endpoint: Some("https://acct.blob.core.windows.net/".into()),
    };
    let request = StorageRequest { container_url: None, account: Some(account), container: Some("migration".into()) };
    let view = session.select_storage(request).unwrap();
    let storage = view.storage.unwrap();
    assert_eq!(storage.container_url, "https://acct.blob.core.windows.net/migration");
    assert_eq!(storage.key_entry, "storage/acct/key");
    assert!(storage.arm_account.is_some());
    let not_a_key = session.save_account_key(PastedSecret(Secret::new("not base64!")));
    assert_eq!(not_a_key.unwrap_err().kind(), SessionErrorKind::InvalidInput);
    assert!(matches!(session.check_access_blocking(), Err(SessionError::NotReady(_))));
}

impl Session {
    fn check_access_blocking(&self) -> Result<SessionView, SessionError> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(self.check_access(time::OffsetDateTime::now_utc()))
    }
}
