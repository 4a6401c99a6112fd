//! The migration plan: what a team wants moved, written by `lrs migrate plan` (or the wizard) as a
//! TOML file the user can read, review and keep in version control. It holds no secret: the storage
//! credential is named (an environment variable or a keychain entry), never stored.
//!
//! One plan is one managed instance and one container; each database has a local source folder,
//! a flat folder in the container and a target name. [`MigrationPlan::problems`] checks it as LRS
//! would (flat folder names without the reserved keyword, unique names and folders, at most 100
//! databases per instance) before anything runs.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::backup::has_reserved_keyword;
use crate::storage::ContainerUrl;

/// LRS restores at most this many databases in parallel on one instance.
pub const MAX_DATABASES_PER_INSTANCE: usize = 100;

/// Autocomplete (LRS completes by itself after the last backup) or continuous (new log backups
/// keep being shipped until the user cuts over).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Autocomplete,
    Continuous,
}

/// Where LRS restores: the cloud and the managed instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// `AzureCloud` (default), `AzureUSGovernment`, `AzureChinaCloud`; ignored with `arm_endpoint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<String>,
    /// A custom ARM endpoint, such as the local LRS emulator's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arm_endpoint: Option<String>,
    /// `None`: the one subscription the sign-in sees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    pub resource_group: String,
    pub instance: String,
    /// `None`: the instance's collation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
}

/// Where the backups go, and which credential writes them (named, not stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoragePlan {
    /// The container URL, without a SAS.
    pub container_url: String,
    /// The environment variable that holds the storage account key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_key_env: Option<String>,
    /// The keychain entry that holds the storage account key (`storage/<account>/key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keychain: Option<String>,
    /// How long the Read+List SAS given to LRS is valid, in days (an LRS job lasts at most 30).
    #[serde(default = "default_sas_days")]
    pub sas_days: u32,
}

fn default_sas_days() -> u32 {
    32
}

/// One database: its backups on disk, its folder in the container, its name on the instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabasePlan {
    /// The database name on the managed instance (must not exist yet).
    pub name: String,
    /// The local folder holding this database's backups (and, in continuous mode, its new logs).
    pub source: PathBuf,
    /// The flat folder in the container.
    pub folder: String,
    /// The database's name in the backup headers, when `source` holds backups of several
    /// databases (default: `name`). A folder with one database's backups needs none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_database: Option<String>,
}

impl DatabasePlan {
    pub fn new(name: impl Into<String>, source: impl Into<PathBuf>, folder: impl Into<String>) -> DatabasePlan {
        DatabasePlan { name: name.into(), source: source.into(), folder: folder.into(), source_database: None }
    }

    /// The name to look for in the backup headers.
    pub fn source_database(&self) -> &str {
        self.source_database.as_deref().unwrap_or(&self.name)
    }
}

/// A whole plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationPlan {
    /// A stable identifier: the plan's state and audit log are kept under it.
    pub id: String,
    pub mode: Mode,
    pub target: Target,
    pub storage: StoragePlan,
    #[serde(default)]
    pub databases: Vec<DatabasePlan>,
}

/// Why a plan file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cannot read the plan '{}': {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the plan '{}' is not valid TOML for a migration plan: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("cannot write the plan '{}': {message}", path.display())]
    Write { path: PathBuf, message: String },
    #[error("the plan '{}' cannot run:\n{}", path.display(), problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid { path: PathBuf, problems: Vec<String> },
}

impl MigrationPlan {
    /// A new plan with a fresh id.
    pub fn new(mode: Mode, target: Target, storage: StoragePlan, databases: Vec<DatabasePlan>) -> MigrationPlan {
        MigrationPlan { id: uuid::Uuid::new_v4().to_string(), mode, target, storage, databases }
    }

    /// Reads and checks a plan file.
    pub fn load(path: &Path) -> Result<MigrationPlan, PlanError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| PlanError::Read { path: path.to_path_buf(), source })?;
        let plan: MigrationPlan =
            toml::from_str(&text).map_err(|e| PlanError::Parse { path: path.to_path_buf(), message: e.to_string() })?;
        let problems = plan.problems();
        if problems.is_empty() {
            Ok(plan)
        } else {
            Err(PlanError::Invalid { path: path.to_path_buf(), problems })
        }
    }

    /// The plan as TOML, with a header that says what it is.
    pub fn to_toml(&self) -> Result<String, PlanError> {
        let body = toml::to_string_pretty(self)
            .map_err(|e| PlanError::Write { path: PathBuf::new(), message: e.to_string() })?;
        Ok(format!(
            "# LRS Wizard migration plan: run it with `lrs migrate run <this file>`.\n\
             # It holds no secret: the storage account key comes from the variable or keychain entry named below.\n\
             # The `id` keys this plan's state and audit log; keep it when you edit the file.\n\n{body}"
        ))
    }

    /// Writes the plan (checked first), refusing to replace an existing file.
    pub fn save_new(&self, path: &Path) -> Result<(), PlanError> {
        let problems = self.problems();
        if !problems.is_empty() {
            return Err(PlanError::Invalid { path: path.to_path_buf(), problems });
        }
        let text = self.to_toml()?;
        let write = |message: String| PlanError::Write { path: path.to_path_buf(), message };
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| {
            write(match e.kind() {
                std::io::ErrorKind::AlreadyExists => "the file exists: choose another name or delete it".to_string(),
                _ => e.to_string(),
            })
        })?;
        std::io::Write::write_all(&mut file, text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| write(e.to_string()))
    }

    pub fn database(&self, name: &str) -> Option<&DatabasePlan> {
        self.databases.iter().find(|d| d.name.eq_ignore_ascii_case(name))
    }

    /// Everything that would make LRS refuse the plan, in plain language (empty when it can run).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !id_ok {
            problems.push(format!(
                "id '{}' must be 1 to 64 letters, digits, '-' or '_' (it names the plan's state folder)",
                self.id
            ));
        }
        if self.databases.is_empty() {
            problems.push("the plan has no database: add a [[databases]] entry".to_string());
        }
        if self.databases.len() > MAX_DATABASES_PER_INSTANCE {
            problems.push(format!(
                "the plan has {} databases: LRS restores at most {MAX_DATABASES_PER_INSTANCE} at once on one instance; split it into several plans",
                self.databases.len()
            ));
        }
        if let Err(e) = ContainerUrl::parse(&self.storage.container_url) {
            problems.push(format!("storage.container_url: {e}"));
        }
        match (&self.storage.account_key_env, &self.storage.keychain) {
            (None, None) => problems.push(
                "storage: name where the account key comes from: account_key_env = \"VAR\" or keychain = \"storage/<account>/key\""
                    .to_string(),
            ),
            (Some(_), Some(_)) => {
                problems.push("storage: give either account_key_env or keychain, not both".to_string())
            }
            _ => {}
        }
        if !(1..=365).contains(&self.storage.sas_days) {
            problems.push(format!(
                "storage.sas_days is {}: give 1 to 365 (32 covers the 30-day LRS limit)",
                self.storage.sas_days
            ));
        }
        for (field, value) in
            [("target.resource_group", &self.target.resource_group), ("target.instance", &self.target.instance)]
        {
            if value.trim().is_empty() {
                problems.push(format!("{field} is empty"));
            }
        }
        for (i, db) in self.databases.iter().enumerate() {
            let at = format!("databases[{i}] ('{}')", db.name);
            if db.name.trim().is_empty() {
                problems.push(format!("databases[{i}]: the name is empty"));
            }
            if db.name.chars().any(|c| c.is_control() || matches!(c, '/' | '\\' | '?' | '#' | '%' | '&' | ':')) {
                problems.push(format!(
                    "{at}: the name contains a character a database name on a managed instance cannot have"
                ));
            }
            problems.extend(folder_problem(&db.folder).map(|p| format!("{at}: folder '{}' {p}", db.folder)));
            if db.source.as_os_str().is_empty() {
                problems.push(format!("{at}: the source folder is empty"));
            }
            for other in &self.databases[..i] {
                if other.name.eq_ignore_ascii_case(&db.name) {
                    problems.push(format!("{at}: the name is used twice (database names on an instance ignore case)"));
                }
                if other.folder == db.folder {
                    problems.push(format!(
                        "{at}: folder '{}' is also used by '{}': LRS restores one database per folder",
                        db.folder, other.name
                    ));
                }
            }
        }
        problems
    }
}

/// What is wrong with a database folder name for LRS, if anything.
pub fn folder_problem(folder: &str) -> Option<String> {
    if folder.is_empty() {
        return Some("is empty".to_string());
    }
    if folder.contains('/') || folder.contains('\\') {
        return Some("must be one flat folder name: LRS does not read nested folders".to_string());
    }
    if has_reserved_keyword(folder) {
        return Some("contains the keyword 'backup', which LRS refuses in the path".to_string());
    }
    if folder.chars().any(|c| c.is_control() || matches!(c, '?' | '#' | '%')) {
        return Some(
            "contains a character that cannot be in a blob path ('?', '#', '%' or a control character)".to_string(),
        );
    }
    if folder.len() > 200 {
        return Some("is longer than 200 characters".to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> MigrationPlan {
        MigrationPlan::new(
            Mode::Continuous,
            Target {
                cloud: None,
                arm_endpoint: Some("http://127.0.0.1:9/".into()),
                subscription: None,
                resource_group: "rg".into(),
                instance: "mi".into(),
                collation: None,
            },
            StoragePlan {
                container_url: "http://127.0.0.1:10000/devstoreaccount1/migration".into(),
                account_key_env: Some("KEY".into()),
                keychain: None,
                sas_days: 32,
            },
            vec![DatabasePlan::new("Sales", "/b/Sales", "Sales"), DatabasePlan::new("HR", "/b/HR", "HR")],
        )
    }

    #[test]
    fn a_plan_round_trips_through_toml_and_holds_no_secret_field() {
        let plan = plan();
        let text = plan.to_toml().unwrap();
        assert!(text.starts_with("# LRS Wizard migration plan"));
        assert!(text.contains("account_key_env = \"KEY\""));
        let back: MigrationPlan = toml::from_str(&text).unwrap();
        assert_eq!(back, plan);
        assert!(plan.problems().is_empty(), "{:?}", plan.problems());
    }

    #[test]
    fn every_problem_is_named() {
        let mut bad = plan();
        bad.databases[1].folder = "Sales".into();
        bad.databases.push(DatabasePlan::new("sales", "/b/x", "old_backups"));
        bad.databases.push(DatabasePlan::new("N", "/b/n", "a/b"));
        bad.storage.account_key_env = None;
        bad.storage.sas_days = 0;
        let problems = bad.problems().join("\n");
        for expected in
            ["also used by 'Sales'", "used twice", "keyword 'backup'", "one flat folder", "account_key_env", "sas_days"]
        {
            assert!(problems.contains(expected), "missing '{expected}' in:\n{problems}");
        }
    }

    #[test]
    fn more_than_a_hundred_databases_are_refused() {
        let mut big = plan();
        big.databases =
            (0..101).map(|i| DatabasePlan::new(format!("db{i}"), format!("/b/{i}"), format!("db{i}"))).collect();
        assert!(big.problems().iter().any(|p| p.contains("at most 100")));
    }

    #[test]
    fn unknown_fields_are_refused_with_their_name() {
        let text = plan().to_toml().unwrap().replace("mode = ", "sas_token = \"x\"\nmode = ");
        let e = toml::from_str::<MigrationPlan>(&text).unwrap_err().to_string();
        assert!(e.contains("sas_token"), "{e}");
    }
}
