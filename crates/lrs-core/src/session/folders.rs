//! The folder each database's backups go to in the container, checked against the LRS rules: LRS
//! reads one flat folder per database, its path may not contain the reserved keyword `backup`, and
//! two databases in one folder is the most common cause of a failed restore (ADS PR #22483).
//! Characters are limited to those that need no escaping in the folder's URL.

use crate::backup::has_reserved_keyword;

use super::views::FolderProblem;

/// Longest folder name accepted (far below the service's 1,024-character blob names, leaving room
/// for the file names in the folder).
pub const MAX_FOLDER_CHARS: usize = 200;

/// Every problem of `folder` for database `database`, given the folders of the other databases.
pub fn folder_problems(folder: &str, others: &[&str]) -> Vec<FolderProblem> {
    let mut problems = Vec::new();
    let problem = |problem: String, fix: &str| FolderProblem { problem, fix: fix.to_string() };
    if folder.is_empty() {
        problems.push(problem("The folder name is empty.".into(), "Name the folder, for example after the database."));
        return problems;
    }
    if folder.contains('/') || folder.contains('\\') {
        problems.push(problem(
            format!("'{folder}' is a nested path: LRS reads one flat folder per database, directly in the container."),
            "Use one folder name without '/' or '\\'.",
        ));
    }
    if has_reserved_keyword(folder) {
        problems.push(problem(
            format!("'{folder}' contains 'backup', a keyword LRS reserves: LRS would refuse the path."),
            "Choose a name without 'backup' or 'backups' (the database name, or the name with '-lrs').",
        ));
    }
    let bad: Vec<char> = folder
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '\\')))
        .fold(Vec::new(), |mut seen, c| {
            if !seen.contains(&c) {
                seen.push(c);
            }
            seen
        });
    if !bad.is_empty() {
        let shown: Vec<String> = bad.iter().map(|c| format!("'{c}'")).collect();
        problems.push(problem(
            format!("'{folder}' contains {}, which the folder's URL would have to escape.", shown.join(", ")),
            "Use letters, digits, '-', '_' and '.' only.",
        ));
    }
    if folder.starts_with('.') || folder.ends_with('.') {
        problems.push(problem(
            format!("'{folder}' starts or ends with a dot, which Blob Storage handles badly in paths."),
            "Remove the leading or trailing dot.",
        ));
    }
    if folder.chars().count() > MAX_FOLDER_CHARS {
        problems.push(problem(
            format!("The folder name is longer than {MAX_FOLDER_CHARS} characters."),
            "Use a shorter name.",
        ));
    }
    if others.iter().any(|o| o.eq_ignore_ascii_case(folder)) {
        problems.push(problem(
            format!("Another database also goes to '{folder}': LRS needs one folder per database."),
            "Give each database its own folder.",
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixes(folder: &str, others: &[&str]) -> usize {
        folder_problems(folder, others).len()
    }

    #[test]
    fn good_names_pass() {
        assert_eq!(fixes("Sales", &[]), 0);
        assert_eq!(fixes("Sales-2026_01.v2", &["Hr"]), 0);
    }

    #[test]
    fn each_rule_is_reported_with_a_fix() {
        assert_eq!(fixes("", &[]), 1);
        assert_eq!(fixes("a/b", &[]), 1);
        assert_eq!(fixes("SalesBackups", &[]), 1);
        assert_eq!(fixes("Sales Q1", &[]), 1);
        assert_eq!(fixes("Sales?", &[]), 1);
        assert_eq!(fixes(".Sales", &[]), 1);
        assert_eq!(fixes(&"x".repeat(201), &[]), 1);
        assert_eq!(fixes("sales", &["Hr", "SALES"]), 1);
        let problems = folder_problems("my backup/db", &[]);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().all(|p| !p.fix.is_empty()));
    }
}
