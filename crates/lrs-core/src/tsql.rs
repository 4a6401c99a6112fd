//! The T-SQL helper: the statements a DBA runs on the source server to take backups LRS can use.
//! `BACKUP DATABASE/LOG ... TO DISK ... WITH CHECKSUM` into one folder per database, file names
//! stamped with the time (one backup set per file, never appended), or the `CREATE CREDENTIAL` +
//! `BACKUP ... TO URL` variant that writes straight into each database's folder of the container.
//! Pure text: names are quoted as `QUOTENAME` would, literals escaped; no secret is ever filled in
//! (the credential's SAS is a placeholder the DBA replaces on the server).

use serde::{Deserialize, Serialize};

/// Which backup to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum BackupType {
    Full,
    Differential,
    Log,
}

/// Where the backups go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BackupTarget {
    /// A folder on (or reachable from) the source server; a subfolder per database is used.
    Disk { folder: String },
    /// The container (`https://ACCOUNT.blob.core.windows.net/CONTAINER`); a folder per database.
    Url { container_url: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TsqlRequest {
    pub databases: Vec<String>,
    pub backup_type: BackupType,
    pub target: BackupTarget,
}

/// The script, and what to know before running it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TsqlScript {
    pub sql: String,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TsqlError {
    #[error("name at least one database")]
    NoDatabase,
    #[error("'{0}' is not a valid database name (1 to 128 characters, no control characters)")]
    BadDatabaseName(String),
    #[error("give the folder the backups go to")]
    NoFolder,
    #[error("the container URL must be https://ACCOUNT.blob.core.windows.net/CONTAINER, without '?': {0}")]
    BadContainerUrl(String),
}

/// Builds the script for `request`.
pub fn backup_script(request: &TsqlRequest) -> Result<TsqlScript, TsqlError> {
    let databases: Vec<&str> = request.databases.iter().map(|d| d.trim()).filter(|d| !d.is_empty()).collect();
    if databases.is_empty() {
        return Err(TsqlError::NoDatabase);
    }
    if let Some(bad) = databases.iter().find(|d| d.chars().count() > 128 || d.chars().any(char::is_control)) {
        return Err(TsqlError::BadDatabaseName((*bad).to_string()));
    }
    match &request.target {
        BackupTarget::Disk { folder } => disk_script(&databases, request.backup_type, folder),
        BackupTarget::Url { container_url } => url_script(&databases, request.backup_type, container_url),
    }
}

fn disk_script(databases: &[&str], kind: BackupType, folder: &str) -> Result<TsqlScript, TsqlError> {
    let sep = if folder.contains('/') && !folder.contains('\\') { '/' } else { '\\' };
    let folder = folder.trim().trim_end_matches(['/', '\\']);
    if folder.is_empty() {
        return Err(TsqlError::NoFolder);
    }
    let mut sql = header(kind, &format!("to disk, one folder per database under {folder}"));
    for db in databases {
        let path = format!("{folder}{sep}{}{sep}{}_{}_", file_safe(db), file_safe(db), label(kind));
        sql.push_str(&format!(
            "\n-- {db}: create the folder {folder}{sep}{} first (xp_create_subdir, or by hand)\n\
             SET @file = N'{}' + @stamp + N'.{}';\n\
             {} {} TO DISK = @file\n    WITH CHECKSUM, INIT, FORMAT, STATS = 10;\n",
            file_safe(db),
            literal(&path),
            extension(kind),
            statement(kind),
            quote_name(db),
        ));
    }
    let mut notes = common_notes(kind);
    notes.push(
        "INIT, FORMAT: each file holds exactly one backup set (LRS refuses files written WITH NOINIT to \
         the same media)."
            .into(),
    );
    Ok(TsqlScript { sql, notes })
}

fn url_script(databases: &[&str], kind: BackupType, container_url: &str) -> Result<TsqlScript, TsqlError> {
    let url = container_url.trim().trim_end_matches('/');
    let valid = (url.starts_with("https://") || url.starts_with("http://127.0.0.1"))
        && !url.contains('?')
        && url.matches('/').count() >= 3;
    if !valid {
        return Err(TsqlError::BadContainerUrl(url.to_string()));
    }
    let mut sql = format!(
        "-- Once per container, on the source server (SQL Server 2016 or later): a credential named\n\
         -- after the container URL. Its secret is a SAS with Read, Write, Create and List on the\n\
         -- container, without the leading '?'. It is NOT the Read+List token LRS uses.\n\
         IF NOT EXISTS (SELECT 1 FROM sys.credentials WHERE name = N'{lit}')\n\
         CREATE CREDENTIAL {name}\n    WITH IDENTITY = 'SHARED ACCESS SIGNATURE',\n    \
         SECRET = '<paste the SAS token with rwcl here>';\nGO\n\n",
        lit = literal(url),
        name = quote_name(url),
    );
    sql.push_str(&header(kind, "to URL, one folder per database in the container"));
    for db in databases {
        let path = format!("{url}/{}/{}_{}_", file_safe(db), file_safe(db), label(kind));
        sql.push_str(&format!(
            "\n-- {db}\nSET @file = N'{}' + @stamp + N'.{}';\n\
             {} {} TO URL = @file\n    WITH CHECKSUM, MAXTRANSFERSIZE = 4194304, BLOCKSIZE = 65536, STATS = 10;\n",
            literal(&path),
            extension(kind),
            statement(kind),
            quote_name(db),
        ));
    }
    let mut notes = common_notes(kind);
    notes.push(
        "MAXTRANSFERSIZE = 4 MiB with BLOCKSIZE = 64 KiB writes block blobs; one block blob holds about 195 GB, \
         so stripe a larger full backup over several URLs (logs must stay in one file: LRS takes no striped log)."
            .into(),
    );
    notes.push("The backups go straight to the container: the Upload step is not needed for them.".into());
    Ok(TsqlScript { sql, notes })
}

fn header(kind: BackupType, what: &str) -> String {
    format!(
        "-- {} backups {what}, WITH CHECKSUM, one backup set per file.\n\
         -- Works on SQL Server 2008 and later. Time stamp: yyyyMMdd_HHmmss.\n\
         DECLARE @stamp nvarchar(15) =\n    \
         REPLACE(REPLACE(REPLACE(CONVERT(nvarchar(19), GETDATE(), 120), N'-', N''), N':', N''), N' ', N'_');\n\
         DECLARE @file nvarchar(4000);\n",
        match kind {
            BackupType::Full => "Full",
            BackupType::Differential => "Differential",
            BackupType::Log => "Log",
        }
    )
}

fn common_notes(kind: BackupType) -> Vec<String> {
    let mut notes = vec![
        "WITH CHECKSUM lets LRS verify every page while it restores; it is what LRS recommends.".to_string(),
        "No COMPRESSION: the wizard reads the headers of uncompressed backups to check the chain before the upload."
            .to_string(),
    ];
    match kind {
        BackupType::Full => notes.push(
            "Then take log backups on the same schedule as today (the chain must not break: no other job may take \
             log backups in between, or add its files to the folder)."
                .into(),
        ),
        BackupType::Differential => {
            notes.push("A differential is based on the last full backup: keep that full in the same folder.".into())
        }
        BackupType::Log => notes.push(
            "Log backups need the FULL or BULK_LOGGED recovery model and a full backup taken since it was set.".into(),
        ),
    }
    notes
}

fn statement(kind: BackupType) -> &'static str {
    match kind {
        BackupType::Log => "BACKUP LOG",
        _ => "BACKUP DATABASE",
    }
}

fn label(kind: BackupType) -> &'static str {
    match kind {
        BackupType::Full => "FULL",
        BackupType::Differential => "DIFF",
        BackupType::Log => "LOG",
    }
}

/// The extensions LRS accepts: `.bak` for full, `.diff` for differential, `.log` for log backups.
fn extension(kind: BackupType) -> &'static str {
    match kind {
        BackupType::Full => "bak",
        BackupType::Differential => "diff",
        BackupType::Log => "log",
    }
}

/// `[name]` with `]` doubled, as `QUOTENAME` does.
pub fn quote_name(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// The inside of an `N'...'` literal: `'` doubled.
pub fn literal(text: &str) -> String {
    text.replace('\'', "''")
}

/// A database name as a file or folder name: characters Windows forbids in paths become `_`, and
/// so does anything a URL path would have to escape.
fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(databases: &[&str], backup_type: BackupType, target: BackupTarget) -> TsqlRequest {
        TsqlRequest { databases: databases.iter().map(|d| d.to_string()).collect(), backup_type, target }
    }

    #[test]
    fn full_backups_to_disk_one_folder_per_database() {
        let disk = BackupTarget::Disk { folder: r"D:\Backups\".into() };
        let script = backup_script(&request(&["Sales", "HR"], BackupType::Full, disk)).unwrap();
        let sql = &script.sql;
        assert!(sql.contains(r"SET @file = N'D:\Backups\Sales\Sales_FULL_' + @stamp + N'.bak';"), "{sql}");
        assert!(sql.contains("BACKUP DATABASE [Sales] TO DISK = @file\n    WITH CHECKSUM, INIT, FORMAT, STATS = 10;"));
        assert!(sql.contains(r"N'D:\Backups\HR\HR_FULL_'"));
        assert_eq!(sql.matches("DECLARE @stamp").count(), 1);
        assert!(script.notes.iter().any(|n| n.contains("CHECKSUM")));
    }

    #[test]
    fn log_and_differential_use_the_extensions_lrs_accepts() {
        let disk = BackupTarget::Disk { folder: "/var/opt/mssql/lrs".into() };
        let log = backup_script(&request(&["Sales"], BackupType::Log, disk.clone())).unwrap().sql;
        assert!(log.contains("BACKUP LOG [Sales] TO DISK"), "{log}");
        assert!(log.contains("N'/var/opt/mssql/lrs/Sales/Sales_LOG_' + @stamp + N'.log'"), "{log}");
        let diff = backup_script(&request(&["Sales"], BackupType::Differential, disk)).unwrap().sql;
        assert!(diff.contains("_DIFF_' + @stamp + N'.diff'"), "{diff}");
    }

    #[test]
    fn names_and_literals_are_escaped() {
        let disk = BackupTarget::Disk { folder: r"C:\It's here".into() };
        let sql = backup_script(&request(&["Odd]Name's"], BackupType::Full, disk)).unwrap().sql;
        assert!(sql.contains("BACKUP DATABASE [Odd]]Name's] TO DISK"), "{sql}");
        assert!(sql.contains(r"N'C:\It''s here\Odd_Name_s\Odd_Name_s_FULL_'"), "{sql}");
    }

    #[test]
    fn backup_to_url_with_a_credential_and_no_secret() {
        let url = BackupTarget::Url { container_url: "https://acct.blob.core.windows.net/migration/".into() };
        let script = backup_script(&request(&["Sales"], BackupType::Full, url)).unwrap();
        let sql = &script.sql;
        assert!(sql.contains("CREATE CREDENTIAL [https://acct.blob.core.windows.net/migration]"), "{sql}");
        assert!(sql.contains("IDENTITY = 'SHARED ACCESS SIGNATURE'"));
        assert!(sql.contains("SECRET = '<paste the SAS token with rwcl here>'"));
        assert!(sql.contains("N'https://acct.blob.core.windows.net/migration/Sales/Sales_FULL_' + @stamp + N'.bak'"));
        assert!(sql.contains("TO URL = @file\n    WITH CHECKSUM, MAXTRANSFERSIZE = 4194304, BLOCKSIZE = 65536"));
        assert!(!sql.contains("sig="));
    }

    #[test]
    fn bad_requests_are_refused() {
        let disk = BackupTarget::Disk { folder: "D:\\B".into() };
        assert_eq!(backup_script(&request(&[" "], BackupType::Full, disk.clone())), Err(TsqlError::NoDatabase));
        let long = "x".repeat(129);
        assert!(matches!(
            backup_script(&request(&[&long], BackupType::Full, disk)),
            Err(TsqlError::BadDatabaseName(_))
        ));
        let empty = BackupTarget::Disk { folder: " \\ ".into() };
        assert_eq!(backup_script(&request(&["a"], BackupType::Full, empty)), Err(TsqlError::NoFolder));
        let with_sas = BackupTarget::Url { container_url: "https://a.blob.core.windows.net/c?sv=1".into() };
        assert!(matches!(
            backup_script(&request(&["a"], BackupType::Full, with_sas)),
            Err(TsqlError::BadContainerUrl(_))
        ));
    }
}
