//! Static checks of any SAS token against LRS's rules, without a network call: the token's format,
//! its signature fields, stored access policy, permissions, scope, times, window and protocol.
//! Each rule gives one [`Check`] with pass or fail and how to fix it; [`Verdict::accepted`] is true
//! only when every check passed. The token itself never appears in a message (it is not needed:
//! only the non-secret fields such as `sp`, `se` or `sr` are quoted).

use std::collections::BTreeMap;

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

use super::permissions;
use super::service::format_time;
use crate::secrets::Secret;

/// What a check is about; stable names for scripts (`--json`) and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    Format,
    Signed,
    NoStoredPolicy,
    Permissions,
    Scope,
    Times,
    Window,
    Protocol,
    NoIpRange,
    LiveList,
    LiveRead,
    LiveCreateRefused,
    LiveDeleteRefused,
}

/// One rule, passed or failed, with a plain-language message and, when it failed, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: CheckId,
    pub passed: bool,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn pass(id: CheckId, message: impl Into<String>) -> Check {
        Check { id, passed: true, message: message.into(), fix: None }
    }

    pub fn fail(id: CheckId, message: impl Into<String>, fix: impl Into<String>) -> Check {
        Check { id, passed: false, message: message.into(), fix: Some(fix.into()) }
    }
}

/// Every check of a token, in order. Serializes without the token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub checks: Vec<Check>,
}

impl Verdict {
    /// True when LRS will accept the token: every check passed (and there was at least one).
    pub fn accepted(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    pub fn get(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }
}

const CREATE: &str = "create a new token with `lrs sas create` (Read and List on the whole container, no policy)";

/// Checks `token` for LRS: it must be usable from `now` through `until` (the planned end of the
/// migration; by default now + 30 days, the longest LRS job).
pub fn check(token: &Secret, now: OffsetDateTime, until: OffsetDateTime) -> Verdict {
    let raw = token.expose().trim();
    let fields = Fields::parse(raw);
    let times = fields.times();
    let checks = vec![
        format_check(raw),
        signed_check(&fields),
        policy_check(&fields),
        permissions_check(&fields),
        scope_check(&fields),
        times.check(),
        times.window_check(now, until),
        protocol_check(&fields),
        ip_check(&fields),
    ];
    Verdict { checks }
}

/// The token's query parameters (names lower-cased; values decoded).
struct Fields(BTreeMap<String, String>);

impl Fields {
    fn parse(raw: &str) -> Fields {
        let query = raw.rsplit_once('?').map_or(raw, |(_, q)| q);
        let map = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.into_owned()))
            .collect();
        Fields(map)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn times(&self) -> Times {
        Times {
            start: self.get("st").map(|v| ("st", v.to_string(), parse_time(v))),
            expiry: self.get("se").map(|v| ("se", v.to_string(), parse_time(v))),
            key_expiry: self.get("ske").map(|v| ("ske", v.to_string(), parse_time(v))),
        }
    }
}

fn format_check(raw: &str) -> Check {
    if raw.contains("://") {
        return Check::fail(
            CheckId::Format,
            "this is a whole SAS URL; LRS takes the container URL and the token separately",
            "give only the part after the '?' (LRS's StorageContainerSasToken), without the '?'",
        );
    }
    if raw.starts_with('?') {
        return Check::fail(
            CheckId::Format,
            "the token starts with '?': LRS does not accept it that way",
            "remove the leading '?' (copy from after the question mark)",
        );
    }
    Check::pass(CheckId::Format, "no leading '?'")
}

fn signed_check(f: &Fields) -> Check {
    let missing: Vec<&str> = ["sig", "sv"].into_iter().filter(|k| f.get(k).is_none()).collect();
    if missing.is_empty() {
        return Check::pass(CheckId::Signed, format!("signed (sig present), service version sv={}", f.0["sv"]));
    }
    Check::fail(
        CheckId::Signed,
        format!("the token has no {}: it is cut off or not a SAS token", missing.join(" and no ")),
        format!("copy the whole token again, or {CREATE}"),
    )
}

fn policy_check(f: &Fields) -> Check {
    match f.get("si") {
        None => Check::pass(CheckId::NoStoredPolicy, "no stored access policy (si)"),
        Some(policy) => Check::fail(
            CheckId::NoStoredPolicy,
            format!("the token uses the stored access policy '{policy}' (si=): LRS does not support that"),
            format!("{CREATE}; permissions and times must be in the token itself"),
        ),
    }
}

fn permissions_check(f: &Fields) -> Check {
    let Some(sp) = f.get("sp") else {
        return Check::fail(
            CheckId::Permissions,
            "the token names no permissions (sp)",
            format!("{CREATE}; select Read and List only"),
        );
    };
    let mut problems = Vec::new();
    let mut extra: Vec<char> = sp.chars().filter(|c| *c != 'r' && *c != 'l').collect();
    extra.dedup();
    for letter in &extra {
        problems.push(format!("{letter} ({}) lets LRS refuse to start", permissions::name(*letter)));
    }
    if !sp.contains('r') {
        problems.push("r (Read) is missing: LRS cannot read the backups".to_string());
    }
    if !sp.contains('l') {
        problems.push("l (List) is missing: LRS cannot find the backups in the folder".to_string());
    }
    if problems.is_empty() {
        return Check::pass(CheckId::Permissions, "permissions are exactly Read and List (sp=rl)");
    }
    Check::fail(
        CheckId::Permissions,
        format!("sp={sp}: {}; LRS needs exactly Read and List", problems.join("; ")),
        format!("{CREATE}; select Read and List only"),
    )
}

fn scope_check(f: &Fields) -> Check {
    if let Some(sr) = f.get("sr") {
        let kind = if f.get("skoid").is_some() { "user delegation SAS" } else { "service SAS" };
        return match sr {
            "c" => Check::pass(CheckId::Scope, format!("{kind} for the whole container (sr=c)")),
            "b" | "bs" | "bv" => Check::fail(
                CheckId::Scope,
                format!("a blob SAS (sr={sr}) grants one blob; LRS needs the whole container"),
                format!("{CREATE}; in the portal, generate the SAS on the container, not on a blob"),
            ),
            "d" => Check::fail(
                CheckId::Scope,
                "a directory SAS (sr=d); LRS needs the whole container",
                format!("{CREATE}; generate the SAS on the container, not on a folder"),
            ),
            other => Check::fail(
                CheckId::Scope,
                format!("unknown signed resource sr={other}; LRS needs a container SAS (sr=c)"),
                CREATE,
            ),
        };
    }
    match (f.get("ss"), f.get("srt")) {
        (Some(ss), Some(srt)) => {
            let mut missing = Vec::new();
            if !ss.contains('b') {
                missing.push("the blob service (ss has no b)");
            }
            if !srt.contains('c') {
                missing.push("containers (srt has no c: listing the folder fails)");
            }
            if !srt.contains('o') {
                missing.push("objects (srt has no o: reading the backups fails)");
            }
            if missing.is_empty() {
                Check::pass(
                    CheckId::Scope,
                    format!(
                        "account SAS (ss={ss}, srt={srt}) covers the container; note it opens every \
                         container of the account: a container SAS is narrower"
                    ),
                )
            } else {
                Check::fail(
                    CheckId::Scope,
                    format!("account SAS (ss={ss}, srt={srt}) does not cover {}", missing.join(", ")),
                    format!("{CREATE}, or an account SAS with ss=b and srt=co"),
                )
            }
        }
        _ => Check::fail(
            CheckId::Scope,
            "the token names no signed resource (neither sr nor ss/srt)",
            format!("copy the whole token again, or {CREATE}"),
        ),
    }
}

fn protocol_check(f: &Fields) -> Check {
    match f.get("spr") {
        None => Check::pass(CheckId::Protocol, "any protocol allowed (no spr), https included"),
        Some(spr) if spr.split(',').any(|p| p.trim() == "https") => {
            Check::pass(CheckId::Protocol, format!("spr={spr} allows https"))
        }
        Some(spr) => Check::fail(
            CheckId::Protocol,
            format!("spr={spr} does not allow https, which LRS uses"),
            format!("{CREATE}; allow HTTPS"),
        ),
    }
}

fn ip_check(f: &Fields) -> Check {
    match f.get("sip") {
        None => Check::pass(CheckId::NoIpRange, "no IP restriction (sip)"),
        Some(sip) => Check::fail(
            CheckId::NoIpRange,
            format!(
                "the token only works from sip={sip}; the managed instance reads from its own addresses, \
                 so LRS may be refused"
            ),
            format!("{CREATE} without an allowed-IP range; restrict access with the storage firewall instead"),
        ),
    }
}

type TimeField = (&'static str, String, Result<OffsetDateTime, &'static str>);

struct Times {
    start: Option<TimeField>,
    expiry: Option<TimeField>,
    key_expiry: Option<TimeField>,
}

impl Times {
    fn all(&self) -> impl Iterator<Item = &TimeField> {
        [&self.start, &self.expiry, &self.key_expiry].into_iter().flatten()
    }

    fn check(&self) -> Check {
        let bad: Vec<String> =
            self.all().filter_map(|(n, v, p)| p.as_ref().err().map(|why| format!("{n}={v} {why}"))).collect();
        if !bad.is_empty() {
            return Check::fail(
                CheckId::Times,
                bad.join("; "),
                format!("{CREATE}; times must be UTC, such as 2026-03-01T12:00:00Z"),
            );
        }
        if self.expiry.is_none() {
            return Check::fail(CheckId::Times, "the token has no expiry (se)", CREATE);
        }
        Check::pass(CheckId::Times, "start and expiry are UTC times")
    }

    fn window_check(&self, now: OffsetDateTime, until: OffsetDateTime) -> Check {
        let fix = "create a new token whose start is before now and whose expiry is after the planned end \
                   of the migration (`lrs sas create --days N`); times are UTC, whatever your time zone";
        let Some((_, _, Ok(expiry))) = &self.expiry else {
            return Check::fail(CheckId::Window, "the window cannot be checked without a valid expiry (se)", fix);
        };
        let mut end = *expiry;
        let mut end_name = "expires";
        if let Some((_, _, Ok(key_expiry))) = &self.key_expiry {
            if *key_expiry < end {
                (end, end_name) = (*key_expiry, "its user delegation key (ske) expires");
            }
        }
        if let Some((_, _, Ok(start))) = &self.start {
            if *start > now {
                let msg = format!(
                    "the token is not valid yet: it starts {} and it is now {} (UTC)",
                    format_time(*start),
                    format_time(now)
                );
                return Check::fail(CheckId::Window, msg, fix);
            }
        }
        if end <= now {
            let msg =
                format!("the token has expired: it {end_name} {} (now {} UTC)", format_time(end), format_time(now));
            return Check::fail(CheckId::Window, msg, fix);
        }
        if end < until {
            let short = (until - end).whole_hours();
            let msg = format!(
                "the token {end_name} {}, before the planned end {} ({} days {} hours short; an LRS job can \
                 last 30 days)",
                format_time(end),
                format_time(until),
                short / 24,
                short % 24
            );
            return Check::fail(CheckId::Window, msg, fix);
        }
        Check::pass(
            CheckId::Window,
            format!("valid from now until {} (covers {})", format_time(end), format_time(until)),
        )
    }
}

/// Parses a SAS time: `YYYY-MM-DD`, `YYYY-MM-DDThh:mmZ`, `YYYY-MM-DDThh:mm:ssZ` (with an optional
/// fraction). Anything else, including a time with an offset, is refused with the reason.
fn parse_time(value: &str) -> Result<OffsetDateTime, &'static str> {
    let date_only = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = Date::parse(value, &date_only) {
        return Ok(date.midnight().assume_utc());
    }
    if let Ok(t) = OffsetDateTime::parse(value, &Rfc3339) {
        return if value.ends_with('Z') || value.ends_with('z') {
            Ok(t.to_offset(UtcOffset::UTC))
        } else {
            Err("is not UTC (it has an offset; SAS times must end in Z)")
        };
    }
    if let Some(minutes) = value.strip_suffix('Z').filter(|v| v.len() == 16) {
        if let Ok(t) = OffsetDateTime::parse(&format!("{minutes}:00Z"), &Rfc3339) {
            return Ok(t);
        }
    }
    if value.len() >= 19 && !value.ends_with('Z') && !value.contains(['+']) {
        return Err("has no time zone (SAS times must be UTC and end in Z)");
    }
    Err("is not a valid time (expected UTC, such as 2026-03-01T12:00:00Z)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-01 12:00 UTC);
    const UNTIL: OffsetDateTime = datetime!(2026-01-31 12:00 UTC);
    const GOOD: &str = "st=2026-01-01T11%3A45%3A00Z&se=2026-02-02T12%3A00%3A00Z&sp=rl&spr=https&sv=2022-11-02&sr=c\
                        &sig=KQbBUVMs0JdGMldRj63W45zzk7KWXgCfIdHLtukI5kg%3D";

    fn verdict(token: &str) -> Verdict {
        check(&Secret::new(token), NOW, UNTIL)
    }

    fn failed(token: &str) -> Vec<CheckId> {
        verdict(token).failed().map(|c| c.id).collect()
    }

    #[test]
    fn a_good_token_passes_every_check() {
        let v = verdict(GOOD);
        assert!(v.accepted(), "{v:#?}");
        assert_eq!(v.checks.len(), 9);
    }

    #[test]
    fn each_bad_variant_fails_its_own_check() {
        assert_eq!(failed(&format!("?{GOOD}")), [CheckId::Format]);
        assert_eq!(failed(&format!("https://a.blob.core.windows.net/c?{GOOD}")), [CheckId::Format]);
        assert_eq!(failed(&GOOD.replace("sp=rl", "sp=rwl")), [CheckId::Permissions]);
        assert_eq!(failed(&GOOD.replace("sp=rl", "sp=r")), [CheckId::Permissions]);
        assert_eq!(failed(&format!("{GOOD}&si=lrs-policy")), [CheckId::NoStoredPolicy]);
        assert_eq!(failed(&GOOD.replace("sr=c", "sr=b")), [CheckId::Scope]);
        assert_eq!(failed(&GOOD.replace("spr=https", "spr=http")), [CheckId::Protocol]);
        assert_eq!(failed(&GOOD.replace("&sig=", "&x=")), [CheckId::Signed]);
        assert_eq!(failed(&format!("{GOOD}&sip=10.0.0.1")), [CheckId::NoIpRange]);
        assert_eq!(failed(&GOOD.replace("2026-02-02T12%3A00%3A00Z", "2026-01-20T12%3A00%3A00Z")), [CheckId::Window]);
        assert_eq!(failed(&GOOD.replace("2026-02-02T12%3A00%3A00Z", "2025-12-20")), [CheckId::Window]);
        let offset = GOOD.replace("2026-02-02T12%3A00%3A00Z", "2026-02-02T12%3A00%3A00%2B02%3A00");
        assert_eq!(failed(&offset), [CheckId::Times, CheckId::Window]);
    }

    #[test]
    fn messages_name_the_problem_and_the_fix() {
        let v = verdict(&GOOD.replace("sp=rl", "sp=rwdl"));
        let c = v.get(CheckId::Permissions).unwrap();
        assert!(c.message.contains("w (Write) lets LRS refuse to start"), "{}", c.message);
        assert!(c.message.contains("d (Delete)"), "{}", c.message);
        assert!(c.fix.as_deref().unwrap().contains("Read and List only"));
        let v = verdict(&GOOD.replace("2026-02-02T12%3A00%3A00Z", "2026-01-20T12%3A00%3A00Z"));
        assert!(v.get(CheckId::Window).unwrap().message.contains("11 days 0 hours short"));
        let v = verdict(&GOOD.replace("2026-02-02T12%3A00%3A00Z", "2025-12-20T00%3A00%3A00Z"));
        assert!(v.get(CheckId::Window).unwrap().message.contains("expired"));
        let v = verdict(&GOOD.replace("2026-01-01T11%3A45%3A00Z", "2026-01-01T13%3A00%3A00Z"));
        assert!(v.get(CheckId::Window).unwrap().message.contains("not valid yet"));
        let v = verdict(&GOOD.replace("2026-02-02T12%3A00%3A00Z", "2026-02-02T12%3A00%3A00"));
        assert!(v.get(CheckId::Times).unwrap().message.contains("no time zone"));
    }

    #[test]
    fn account_sas_must_cover_blob_containers_and_objects() {
        let account = "se=2026-02-02T12%3A00%3A00Z&sp=rl&spr=https&sv=2022-11-02&ss=b&srt=co&sig=abc";
        assert!(verdict(account).accepted());
        assert_eq!(failed(&account.replace("srt=co", "srt=o")), [CheckId::Scope]);
        assert_eq!(failed(&account.replace("ss=b", "ss=f")), [CheckId::Scope]);
        let msg = verdict(&account.replace("srt=co", "srt=o")).get(CheckId::Scope).unwrap().message.clone();
        assert!(msg.contains("srt has no c"), "{msg}");
    }

    #[test]
    fn user_delegation_key_expiry_limits_the_window() {
        let udk =
            format!("{GOOD}&skoid=o&sktid=t&skt=2026-01-01T11%3A00%3A00Z&ske=2026-01-08T11%3A00%3A00Z&sks=b&skv=x");
        let v = verdict(&udk);
        assert_eq!(v.failed().map(|c| c.id).collect::<Vec<_>>(), [CheckId::Window]);
        assert!(v.get(CheckId::Window).unwrap().message.contains("user delegation key"));
    }

    #[test]
    fn the_verdict_never_contains_the_signature() {
        let v = verdict(&format!("?{}", GOOD.replace("sp=rl", "sp=rwl")));
        let json = serde_json::to_string(&v).unwrap();
        for text in [json, format!("{v:?}")] {
            assert!(!text.contains("KQbBUVMs0JdGMldRj63W45zzk7KWXgCfIdHLtukI5kg"));
        }
    }
}
