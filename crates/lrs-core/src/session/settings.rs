//! The app's settings: extra clouds (Azure Stack, a proxy, the emulator at a fixed address), the
//! sign-in tenant and client id, and the upload concurrency. Kept as JSON (`settings.json`) in the
//! app's config folder, written atomically; they hold no secret.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::arm::interactive::{AZURE_CLI_CLIENT_ID, ORGANIZATIONS};
use crate::arm::AzureCloud;
use crate::storage::defaults::{DEFAULT_CONCURRENCY, MAX_CONCURRENCY};

/// The settings file's name in the config folder.
pub const SETTINGS_FILE: &str = "settings.json";

/// A cloud that is not built in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CustomCloud {
    pub name: String,
    pub arm_endpoint: String,
    /// Defaults to the ARM endpoint.
    pub authority_host: Option<String>,
    /// Defaults to public ARM's audience.
    pub audience: Option<String>,
}

impl CustomCloud {
    pub fn cloud(&self) -> Result<AzureCloud, crate::arm::CloudError> {
        let mut cloud =
            AzureCloud::custom(&self.arm_endpoint, self.authority_host.as_deref(), self.audience.as_deref())?;
        cloud.name = self.name.clone();
        Ok(cloud)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Settings {
    pub clouds: Vec<CustomCloud>,
    /// The tenant of interactive sign-ins (`organizations`, or a tenant id).
    pub tenant_id: String,
    /// The public client id of interactive sign-ins (see the README to register your own).
    pub client_id: String,
    /// Blocks in flight during an upload.
    pub upload_concurrency: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            clouds: Vec::new(),
            tenant_id: ORGANIZATIONS.to_string(),
            client_id: AZURE_CLI_CLIENT_ID.to_string(),
            upload_concurrency: DEFAULT_CONCURRENCY as u32,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read the settings file '{}': {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the settings file '{}' is not valid JSON ({source}); fix or delete it", path.display())]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("cannot save the settings to '{}': {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

impl Settings {
    /// The settings in `dir`, or the defaults when there is no file yet.
    pub fn load(dir: &Path) -> Result<Settings, SettingsError> {
        let path = dir.join(SETTINGS_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
            Err(source) => return Err(SettingsError::Read { path, source }),
        };
        serde_json::from_str(&text).map_err(|source| SettingsError::Parse { path, source })
    }

    /// Checks the settings, then writes them to `dir` (a temporary file renamed over the old one).
    pub fn save(&self, dir: &Path) -> Result<(), SettingsError> {
        self.validate()?;
        let path = dir.join(SETTINGS_FILE);
        let write = |source| SettingsError::Write { path: path.clone(), source };
        std::fs::create_dir_all(dir).map_err(write)?;
        let text = serde_json::to_string_pretty(self).map_err(|e| SettingsError::Invalid(e.to_string()))?;
        let temp = dir.join(format!("{SETTINGS_FILE}.tmp"));
        std::fs::write(&temp, text).map_err(write)?;
        std::fs::rename(&temp, &path).map_err(write)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        let max = MAX_CONCURRENCY as u32;
        if !(1..=max).contains(&self.upload_concurrency) {
            return Err(SettingsError::Invalid(format!("the upload concurrency must be between 1 and {max}")));
        }
        if self.client_id.trim().is_empty() || self.tenant_id.trim().is_empty() {
            return Err(SettingsError::Invalid("the sign-in tenant and client id may not be empty".into()));
        }
        let mut names: Vec<String> = crate::arm::cloud::CLOUD_NAMES.iter().map(|n| n.to_ascii_lowercase()).collect();
        for cloud in &self.clouds {
            let name = cloud.name.trim();
            if name.is_empty() {
                return Err(SettingsError::Invalid("every cloud needs a name".into()));
            }
            if names.contains(&name.to_ascii_lowercase()) {
                return Err(SettingsError::Invalid(format!("two clouds are named '{name}'")));
            }
            names.push(name.to_ascii_lowercase());
            cloud.cloud().map_err(|e| SettingsError::Invalid(format!("cloud '{name}': {e}")))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_when_there_is_no_file_and_a_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Settings::load(dir.path()).unwrap(), Settings::default());
        let mut settings = Settings { upload_concurrency: 4, ..Settings::default() };
        settings.clouds.push(CustomCloud {
            name: "Lab".into(),
            arm_endpoint: "http://127.0.0.1:8443".into(),
            authority_host: None,
            audience: None,
        });
        settings.save(dir.path()).unwrap();
        assert_eq!(Settings::load(dir.path()).unwrap(), settings);
        let text = std::fs::read_to_string(dir.path().join(SETTINGS_FILE)).unwrap();
        assert!(text.contains("\"upload_concurrency\": 4"), "{text}");
    }

    #[test]
    fn invalid_settings_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let bad = Settings { upload_concurrency: 0, ..Settings::default() };
        assert!(matches!(bad.save(dir.path()), Err(SettingsError::Invalid(_))));
        let mut insecure = Settings::default();
        insecure.clouds.push(CustomCloud {
            name: "Remote".into(),
            arm_endpoint: "http://10.0.0.5".into(),
            authority_host: None,
            audience: None,
        });
        assert!(matches!(insecure.validate(), Err(SettingsError::Invalid(m)) if m.contains("Remote")));
        let mut clash = Settings::default();
        clash.clouds.push(CustomCloud {
            name: "azurecloud".into(),
            arm_endpoint: "https://x.example".into(),
            authority_host: None,
            audience: None,
        });
        assert!(clash.validate().is_err());
        std::fs::write(dir.path().join(SETTINGS_FILE), "{not json").unwrap();
        assert!(matches!(Settings::load(dir.path()), Err(SettingsError::Parse { .. })));
    }
}
