//! The "Access" step: the Read+List SAS for LRS, signed here with the account key from the keychain
//! or pasted by the user, kept in the keychain (`sas/<account>/<container>`) and in memory; then its
//! check list: every static rule of [`crate::storage::sas::check`] and, in each database's folder,
//! the live proof (list and read work, create and delete are refused).

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::views::*;
use super::{SasChoice, Session, SessionError};
use crate::secrets::keychain::{account_key_entry, sas_entry};
use crate::secrets::Secret;
use crate::storage::sas::{self, Check, LiveOptions};

/// Most days a generated SAS may last.
pub const MAX_SAS_DAYS: u32 = 365;

impl Session {
    /// Signs a Read+List container SAS valid for `days` with the key kept in the keychain.
    pub fn generate_sas(&self, days: u32, now: OffsetDateTime) -> Result<SessionView, SessionError> {
        if !(1..=MAX_SAS_DAYS).contains(&days) {
            return Err(SessionError::Invalid(format!("choose between 1 and {MAX_SAS_DAYS} days")));
        }
        let choice = self.storage_choice()?;
        let key = self.keychain.get(&account_key_entry(choice.container.account()))?.ok_or_else(|| {
            SessionError::NotReady("the account key is not in the keychain yet (step 'Storage')".into())
        })?;
        let expiry = now + Duration::days(i64::from(days));
        let token = sas::lrs_read_list_sas(&choice.container, &key, now, expiry)?;
        let view = SasView {
            source: SasSource::Generated,
            start_utc: rfc3339(now - sas::START_SKEW),
            expiry_utc: rfc3339(expiry.replace_nanosecond(0).unwrap_or(expiry)),
            permissions: Some("rl".into()),
            keychain_entry: sas_entry(choice.container.account(), choice.container.container()),
        };
        self.keep_sas(token, view)
    }

    /// Takes a SAS the user pasted (checked on the next [`Session::check_access`]).
    pub fn paste_sas(&self, token: PastedSecret) -> Result<SessionView, SessionError> {
        let choice = self.storage_choice()?;
        if token.0.is_empty() {
            return Err(SessionError::Invalid("paste the SAS token".into()));
        }
        let field = |name: &str| query_field(token.0.expose(), name);
        let view = SasView {
            source: SasSource::Pasted,
            start_utc: field("st"),
            expiry_utc: field("se"),
            permissions: field("sp"),
            keychain_entry: sas_entry(choice.container.account(), choice.container.container()),
        };
        self.keep_sas(token.0, view)
    }

    fn keep_sas(&self, token: Secret, view: SasView) -> Result<SessionView, SessionError> {
        self.keychain.set(&view.keychain_entry, &token)?;
        let mut state = self.state();
        state.sas = Some(SasChoice { token, view });
        state.access = None;
        drop(state);
        Ok(self.view())
    }

    /// Runs every check of the SAS: static rules for the longest LRS job from `now`, then the live
    /// proof in each database's folder (or the container when no database was chosen).
    pub async fn check_access(&self, now: OffsetDateTime) -> Result<SessionView, SessionError> {
        let choice = self.storage_choice()?;
        let (token, folders) = {
            let state = self.state();
            let sas =
                state.sas.clone().ok_or_else(|| SessionError::NotReady("generate or paste a SAS first".into()))?;
            let folders: Vec<String> = state.databases.iter().map(|d| d.folder.clone()).collect();
            (sas.token, folders)
        };
        let until = now + sas::LONGEST_LRS_JOB;
        let mut checks: Vec<AccessCheck> =
            sas::check(&token, now, until).checks.iter().map(|c| access_check(c, "token")).collect();
        let suffix = format!("{}", now.unix_timestamp_nanos());
        let scopes: Vec<Option<String>> =
            if folders.is_empty() { vec![None] } else { folders.into_iter().map(Some).collect() };
        for folder in scopes {
            let options = LiveOptions { folder: folder.clone(), probe_suffix: suffix.clone() };
            let live = sas::prove_live(self.http.http(), &choice.container, &token, &options).await;
            let scope = folder.unwrap_or_else(|| "container".into());
            checks.extend(live.iter().map(|c| access_check(c, &scope)));
        }
        let report = AccessReport {
            accepted: !checks.is_empty() && checks.iter().all(|c| c.passed),
            until_utc: rfc3339(until).unwrap_or_default(),
            checks,
        };
        self.state().access = Some(report);
        Ok(self.view())
    }
}

fn access_check(check: &Check, scope: &str) -> AccessCheck {
    let id = serde_json::to_value(check.id).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    AccessCheck {
        id,
        scope: scope.to_string(),
        passed: check.passed,
        message: check.message.clone(),
        fix: check.fix.clone(),
    }
}

fn rfc3339(t: OffsetDateTime) -> Option<String> {
    t.replace_nanosecond(0).unwrap_or(t).format(&Rfc3339).ok()
}

/// A non-secret field of a SAS token (`se`, `st`, `sp`); never `sig`.
fn query_field(token: &str, name: &str) -> Option<String> {
    if name == "sig" {
        return None;
    }
    let query = token.trim().rsplit_once('?').map_or(token.trim(), |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_fields_are_read_from_a_token() {
        let token = "sv=2022-11-02&sp=rl&sr=c&st=2026-01-01T00%3A00%3A00Z&se=2026-02-01T00%3A00%3A00Z&sig=abc";
        assert_eq!(query_field(token, "se").as_deref(), Some("2026-02-01T00:00:00Z"));
        assert_eq!(query_field(&format!("?{token}"), "sp").as_deref(), Some("rl"));
        assert_eq!(query_field(token, "sig"), None);
        assert_eq!(query_field(token, "si"), None);
    }
}
