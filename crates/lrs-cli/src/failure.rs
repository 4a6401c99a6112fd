//! How the ARM commands (`login`, `list`, `start`, `status`, `complete`, `stop`) fail: a
//! [`Failure`] is either a usage error (exit 2: a bad flag value, no sign-in configured, a
//! confirmation not given) or a service/LRS failure (exit 1), printed on stderr with the service's
//! code, the plain-language meaning and fix from `lrs_core::arm::explain`, and the request id to
//! quote to Azure support; with `--json`, the same fields as `{"error": {...}}` on stdout.
//!
//! Every message comes from `lrs-core` errors, which are redacted there; the CLI adds no URL with
//! a query and no token.

use std::process::ExitCode;

use lrs_core::arm::{ArmError, LrsError};
use serde_json::json;

/// Exit code of a service or LRS failure (also: a restore that ended `Failed`).
pub const EXIT_FAILED: u8 = 1;
/// Exit code of a usage or configuration error (clap uses 2 as well).
pub const EXIT_USAGE: u8 = 2;

/// Why an ARM command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// Bad usage or configuration: nothing was asked of Azure that could have changed anything.
    Usage(String),
    /// Refused by a check made before the request (a SAS LRS would refuse, say), with a fix.
    Refused { message: String, fix: Option<String> },
    /// Azure answered with an error, or could not be reached.
    Arm(ArmError),
    /// An LRS operation refused by `lrs-core`'s own checks (stop of a database LRS did not create).
    Lrs(LrsError),
}

impl From<ArmError> for Failure {
    fn from(err: ArmError) -> Self {
        Failure::Arm(err)
    }
}

impl From<LrsError> for Failure {
    fn from(err: LrsError) -> Self {
        match err {
            LrsError::Arm(err) => Failure::Arm(err),
            LrsError::MissingLastBackupName | LrsError::InvalidLastBackupName(_) | LrsError::InvalidStorageUri(_) => {
                Failure::Usage(err.to_string())
            }
            other => Failure::Lrs(other),
        }
    }
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::Usage(message.into())
    }

    fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => EXIT_USAGE,
            Failure::Refused { .. } | Failure::Arm(_) | Failure::Lrs(_) => EXIT_FAILED,
        }
    }

    /// Prints the failure (stderr; also stdout as JSON when `json`) and returns the exit code.
    pub fn report(&self, command: &str, json: bool) -> ExitCode {
        eprintln!("lrs {command}: {}", self.text());
        if json {
            println!("{}", json!({ "error": self.json() }));
        }
        ExitCode::from(self.exit_code())
    }

    fn text(&self) -> String {
        match self {
            Failure::Usage(message) => message.clone(),
            Failure::Refused { message, fix } => match fix {
                Some(fix) => format!("{message}\n  fix:        {fix}"),
                None => message.clone(),
            },
            Failure::Lrs(err) => err.to_string(),
            Failure::Arm(err) => arm_text(err),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Failure::Usage(message) => json!({ "kind": "usage", "message": message }),
            Failure::Refused { message, fix } => json!({ "kind": "refused", "message": message, "fix": fix }),
            Failure::Lrs(err) => json!({ "kind": "refused", "message": err.to_string() }),
            Failure::Arm(err) => {
                let explanation = err.explanation();
                json!({
                    "kind": err.kind_name(),
                    "status": err.status,
                    "code": err.code,
                    "message": err.message,
                    "operation": err.operation,
                    "meaning": explanation.map(|e| e.meaning),
                    "fix": explanation.map(|e| e.fix),
                    "request_id": err.request_id,
                })
            }
        }
    }
}

/// An ARM error as people read it: the one-line error, then code, meaning, fix and request id.
pub fn arm_text(err: &ArmError) -> String {
    let mut text = err.to_string();
    if let Some(code) = &err.code {
        text.push_str(&format!("\n  code:       {code}"));
    }
    if let Some(explanation) = err.explanation() {
        text.push_str(&format!("\n  meaning:    {}\n  fix:        {}", explanation.meaning, explanation.fix));
    }
    if let Some(id) = &err.request_id {
        text.push_str(&format!("\n  request id: {id}"));
    }
    text
}

/// The plain-language lines for an LRS error code found in a status (`blockReason`).
pub fn explain_code(code: &str) -> Option<String> {
    lrs_core::arm::explain::explain(code).map(|e| format!("  meaning:    {}\n  fix:        {}", e.meaning, e.fix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arm_error_is_explained_with_its_request_id() {
        let body = br#"{"error":{"code":"BrokenRestorePlanGapInLogBackups","message":"The restore plan is broken"}}"#;
        let err = ArmError::from_response("start", 400, Some("rid-9".into()), body);
        let failure = Failure::from(err);
        let text = failure.text();
        assert!(text.contains("code:       BrokenRestorePlanGapInLogBackups"), "{text}");
        assert!(text.contains("meaning:") && text.contains("fix:"), "{text}");
        assert!(text.ends_with("request id: rid-9"), "{text}");
        assert_eq!(failure.exit_code(), EXIT_FAILED);
        let json = failure.json();
        assert_eq!(json["code"], "BrokenRestorePlanGapInLogBackups");
        assert_eq!(json["request_id"], "rid-9");
        assert!(json["fix"].is_string());
    }

    #[test]
    fn usage_errors_exit_2() {
        assert_eq!(Failure::usage("x").exit_code(), EXIT_USAGE);
        assert_eq!(Failure::from(LrsError::MissingLastBackupName).exit_code(), EXIT_USAGE);
    }
}
