//! The name each database gets on the managed instance (part of the "Backups" step): by default its
//! name in the backup headers; it may be changed, must be a valid and unique name, and must be free
//! on the instance, because LRS creates the database and refuses a name in use. The check asks ARM
//! for each name (404: free) as soon as the backups are inspected and whenever a name changes.

use super::storage::database_mut;
use super::views::DatabaseChoice;
use super::{Session, SessionError, SessionView};
use crate::arm::defaults::SQL_API_VERSION;
use crate::arm::DatabaseRef;

impl Session {
    /// Sets the name database `database` (its name in the backups) gets on the instance, then
    /// checks every name again.
    pub async fn set_target_name(&self, database: &str, target: &str) -> Result<SessionView, SessionError> {
        {
            let mut state = self.state();
            database_mut(&mut state.databases, database)?.target = target.trim().to_string();
            state.access = None;
        }
        self.check_target_names().await;
        Ok(self.view())
    }

    /// Checks every database's target name: valid, unique, and free on the chosen instance. A name
    /// that cannot be checked (not signed in yet, ARM unreachable) is left unflagged: the start
    /// checks it again and refuses a name in use.
    pub(super) async fn check_target_names(&self) {
        let (databases, place, arm) = {
            let state = self.state();
            let place = state
                .target
                .as_ref()
                .map(|t| (t.subscription_id.clone(), t.instance.resource_group.clone(), t.instance.name.clone()));
            (state.databases.clone(), place, state.arm.clone())
        };
        let mut problems = local_problems(&databases);
        if let (Some((subscription, group, instance)), Some(arm)) = (place, arm) {
            for (db, problem) in databases.iter().zip(problems.iter_mut()) {
                if problem.is_some() {
                    continue;
                }
                let target = DatabaseRef {
                    subscription: subscription.clone(),
                    resource_group: group.clone(),
                    instance: instance.clone(),
                    database: db.target.clone(),
                };
                let what = format!("check that database '{}' does not exist", db.target);
                match arm.get_json::<serde_json::Value>(&target.path(), SQL_API_VERSION, &what).await {
                    Ok(_) => {
                        *problem = Some(format!(
                            "a database named '{}' already exists on {instance}: LRS restores into a new database, so give another name",
                            db.target
                        ))
                    }
                    Err(e) if e.is_not_found() => {}
                    Err(e) => tracing::warn!(database = %db.target, error = %e, "the target name could not be checked"),
                }
            }
        }
        let mut state = self.state();
        for (db, problem) in state.databases.iter_mut().zip(problems) {
            db.target_problem = problem;
        }
    }
}

/// What is wrong with each target name without asking ARM: empty, a character a managed database
/// name cannot have, or the same name twice (names on an instance ignore case).
fn local_problems(databases: &[DatabaseChoice]) -> Vec<Option<String>> {
    databases
        .iter()
        .enumerate()
        .map(|(i, db)| {
            let name = db.target.as_str();
            if name.is_empty() {
                return Some("give the database a name".to_string());
            }
            if name.len() > 128 {
                return Some("a database name has at most 128 characters".to_string());
            }
            if name
                .chars()
                .any(|c| c.is_control() || matches!(c, '/' | '\\' | '?' | '#' | '%' | '&' | ':' | '*' | '<' | '>'))
            {
                return Some(
                    "remove the characters / \\ ? # % & : * < > (ARM does not accept them in a database name)"
                        .to_string(),
                );
            }
            if databases.iter().enumerate().any(|(j, o)| j != i && o.target.eq_ignore_ascii_case(name)) {
                return Some(format!("'{name}' is used twice: names on an instance ignore case"));
            }
            None
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(name: &str, target: &str) -> DatabaseChoice {
        DatabaseChoice {
            name: name.into(),
            target: target.into(),
            target_problem: None,
            folder: name.into(),
            folder_problems: vec![],
            restorable: true,
            files_to_restore: 1,
            last_backup_name: None,
            restore_sequence: vec![],
        }
    }

    #[test]
    fn names_are_checked_before_asking_arm() {
        let dbs = [choice("A", "Sales"), choice("B", "sales"), choice("C", ""), choice("D", "x/y"), choice("E", "HR")];
        let problems = local_problems(&dbs);
        assert!(problems[0].as_deref().unwrap().contains("used twice"), "both names of a pair are flagged");
        assert!(problems[1].as_deref().unwrap().contains("used twice"));
        assert!(problems[2].as_deref().unwrap().contains("give the database a name"));
        assert!(problems[3].as_deref().unwrap().contains("remove the characters"));
        assert_eq!(problems[4], None);
    }
}
