//! Azure clouds: where ARM lives, where Entra ID signs in, and which audience a token needs.
//! The three public clouds are built in; any other cloud (Azure Stack, the local LRS emulator) is
//! a custom one. `http://` is accepted only for loopback hosts, so a token is never sent in clear
//! text over a network.

use std::net::IpAddr;

use url::Url;

/// Why a cloud could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudError {
    #[error("unknown cloud '{0}': use AzureCloud, AzureUSGovernment, AzureChinaCloud or a custom ARM endpoint")]
    UnknownName(String),
    #[error("{what} '{url}' is not a valid URL: {reason}")]
    InvalidUrl { what: &'static str, url: String, reason: String },
    #[error("{what} '{url}' uses http:// on a non-loopback host: only https:// is allowed, except for 127.0.0.1, ::1 and localhost")]
    InsecureUrl { what: &'static str, url: String },
}

/// One Azure cloud (or a cloud-like endpoint such as the emulator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureCloud {
    /// The name the CLI and the Azure tools use (`AzureCloud`, ..., or `Custom`).
    pub name: String,
    /// The ARM endpoint, always ending with `/` (`https://management.azure.com/`).
    pub arm_endpoint: Url,
    /// The Entra ID authority host, without a tenant (`https://login.microsoftonline.com/`).
    pub authority_host: Url,
    /// The token audience for ARM; the scope asked for is the audience followed by `/.default`.
    pub audience: String,
}

/// The token audience of public ARM (also the emulator's).
pub const PUBLIC_ARM_AUDIENCE: &str = "https://management.azure.com";

/// The names of the built-in clouds, as `az cloud list` spells them.
pub const CLOUD_NAMES: [&str; 3] = ["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"];

impl AzureCloud {
    pub fn public() -> AzureCloud {
        builtin("AzureCloud", "https://management.azure.com/", "https://login.microsoftonline.com/")
    }

    pub fn us_government() -> AzureCloud {
        builtin("AzureUSGovernment", "https://management.usgovcloudapi.net/", "https://login.microsoftonline.us/")
    }

    pub fn china() -> AzureCloud {
        builtin("AzureChinaCloud", "https://management.chinacloudapi.cn/", "https://login.chinacloudapi.cn/")
    }

    /// A built-in cloud by name (case-insensitive).
    pub fn by_name(name: &str) -> Result<AzureCloud, CloudError> {
        match name.to_ascii_lowercase().as_str() {
            "azurecloud" | "public" => Ok(AzureCloud::public()),
            "azureusgovernment" | "usgov" => Ok(AzureCloud::us_government()),
            "azurechinacloud" | "china" => Ok(AzureCloud::china()),
            _ => Err(CloudError::UnknownName(name.to_string())),
        }
    }

    /// A custom cloud. `authority_host` defaults to the ARM endpoint (the local emulator serves
    /// both) and `audience` to public ARM's, [`PUBLIC_ARM_AUDIENCE`], which the emulator (and a
    /// proxy in front of public Azure) expect; a sovereign or Azure Stack cloud passes its own.
    pub fn custom(
        arm_endpoint: &str,
        authority_host: Option<&str>,
        audience: Option<&str>,
    ) -> Result<Self, CloudError> {
        let arm = checked_url("ARM endpoint", arm_endpoint)?;
        let authority = match authority_host {
            Some(host) => checked_url("authority host", host)?,
            None => arm.clone(),
        };
        let audience = audience.unwrap_or(PUBLIC_ARM_AUDIENCE).trim_end_matches('/').to_string();
        Ok(AzureCloud { name: "Custom".into(), arm_endpoint: arm, authority_host: authority, audience })
    }

    /// The local LRS emulator at `base` (`http://127.0.0.1:PORT`): ARM and Entra ID on one host,
    /// tokens for public ARM's audience.
    pub fn emulator(base: &str) -> Result<Self, CloudError> {
        let mut cloud = AzureCloud::custom(base, None, None)?;
        cloud.name = "LrsEmulator".into();
        Ok(cloud)
    }

    /// This cloud with another authority host (from `AZURE_AUTHORITY_HOST`, say).
    pub fn with_authority_host(mut self, authority_host: &str) -> Result<Self, CloudError> {
        self.authority_host = checked_url("authority host", authority_host)?;
        Ok(self)
    }

    /// The OAuth scope of an ARM token.
    pub fn arm_scope(&self) -> String {
        format!("{}/.default", self.audience.trim_end_matches('/'))
    }

    /// The token endpoint of `tenant` (`{authority}/{tenant}/oauth2/v2.0/token`).
    pub fn token_endpoint(&self, tenant: &str) -> Result<Url, CloudError> {
        self.authority_host.join(&format!("{tenant}/oauth2/v2.0/token")).map_err(|e| CloudError::InvalidUrl {
            what: "tenant",
            url: tenant.to_string(),
            reason: e.to_string(),
        })
    }

    /// True when `url` is on this cloud's ARM endpoint (same scheme, host and port): the only
    /// place the ARM bearer token may be sent.
    pub fn is_arm_origin(&self, url: &Url) -> bool {
        url.origin() == self.arm_endpoint.origin()
    }
}

// The arguments are the literal URLs above, which a test parses: `expect` cannot fire.
#[allow(clippy::expect_used)]
fn builtin(name: &str, arm: &str, authority: &str) -> AzureCloud {
    let parse = |s: &str| Url::parse(s).expect("built-in cloud URLs are valid");
    let arm = parse(arm);
    let audience = arm.as_str().trim_end_matches('/').to_string();
    AzureCloud { name: name.to_string(), arm_endpoint: arm, authority_host: parse(authority), audience }
}

/// Parses `url`, requires https (or http on loopback) and a trailing slash on the path.
pub fn checked_url(what: &'static str, url: &str) -> Result<Url, CloudError> {
    let invalid = |reason: String| CloudError::InvalidUrl { what, url: url.to_string(), reason };
    let mut parsed = Url::parse(url.trim()).map_err(|e| invalid(e.to_string()))?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("it must not have a query or a fragment".into()));
    }
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback(&parsed) => {}
        "http" => return Err(CloudError::InsecureUrl { what, url: url.to_string() }),
        other => return Err(invalid(format!("unsupported scheme '{other}'"))),
    }
    if !parsed.path().ends_with('/') {
        let path = format!("{}/", parsed.path());
        parsed.set_path(&path);
    }
    Ok(parsed)
}

/// True for `localhost`, `127.0.0.0/8` and `::1`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_clouds_have_their_endpoints_and_scopes() {
        let public = AzureCloud::by_name("AzureCloud").unwrap();
        assert_eq!(public.arm_endpoint.as_str(), "https://management.azure.com/");
        assert_eq!(public.arm_scope(), "https://management.azure.com/.default");
        assert_eq!(
            public.token_endpoint("t1").unwrap().as_str(),
            "https://login.microsoftonline.com/t1/oauth2/v2.0/token"
        );
        let gov = AzureCloud::by_name("azureusgovernment").unwrap();
        assert_eq!(gov.authority_host.as_str(), "https://login.microsoftonline.us/");
        assert_eq!(gov.arm_scope(), "https://management.usgovcloudapi.net/.default");
        let china = AzureCloud::by_name("AzureChinaCloud").unwrap();
        assert_eq!(china.arm_endpoint.as_str(), "https://management.chinacloudapi.cn/");
        assert!(matches!(AzureCloud::by_name("Mars"), Err(CloudError::UnknownName(_))));
    }

    #[test]
    fn http_is_allowed_on_loopback_only() {
        let emu = AzureCloud::custom("http://127.0.0.1:8443", None, None).unwrap();
        assert_eq!(emu.arm_endpoint.as_str(), "http://127.0.0.1:8443/");
        assert_eq!(emu.authority_host, emu.arm_endpoint);
        assert_eq!(emu.arm_scope(), "https://management.azure.com/.default");
        let stack = AzureCloud::custom(
            "https://management.local.azurestack.external",
            None,
            Some("https://management.azurestackci.onmicrosoft.com/abc/"),
        )
        .unwrap();
        assert_eq!(stack.arm_scope(), "https://management.azurestackci.onmicrosoft.com/abc/.default");
        assert_eq!(AzureCloud::emulator("http://127.0.0.1:1").unwrap().name, "LrsEmulator");
        assert!(AzureCloud::custom("http://localhost:1/", None, None).is_ok());
        assert!(AzureCloud::custom("http://[::1]:1/", None, None).is_ok());
        let err = AzureCloud::custom("http://10.0.0.5:8443", None, None).unwrap_err();
        assert!(matches!(err, CloudError::InsecureUrl { .. }), "{err}");
        let err = AzureCloud::custom("https://arm.example", Some("http://login.example"), None).unwrap_err();
        assert!(matches!(err, CloudError::InsecureUrl { what: "authority host", .. }));
        assert!(AzureCloud::custom("ftp://x/", None, None).is_err());
        assert!(AzureCloud::custom("https://arm.example/?a=b", None, None).is_err());
    }

    #[test]
    fn the_token_goes_to_the_arm_origin_only() {
        let cloud = AzureCloud::public();
        assert!(cloud.is_arm_origin(&Url::parse("https://management.azure.com/subscriptions?x=1").unwrap()));
        assert!(!cloud.is_arm_origin(&Url::parse("https://evil.example/subscriptions").unwrap()));
        assert!(!cloud.is_arm_origin(&Url::parse("http://management.azure.com/").unwrap()));
    }
}
