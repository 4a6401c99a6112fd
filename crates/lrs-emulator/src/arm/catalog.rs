//! The read-only part of the world, for the wizard's pickers: subscriptions (`2022-12-01` shape),
//! resource groups, managed instances (shape of `ManagedInstanceListByResourceGroup.json`), storage
//! accounts with their blob endpoint, `listKeys` and `ListServiceSas` (signed with the account key,
//! so the token works against Azurite or the real account).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use lrs_core::secrets::Secret;
use lrs_core::storage::sas::{Permissions, ServiceSas, SignedResource, SIGNED_VERSION};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::Req;
use crate::http::{json_response, ArmError};
use crate::seed::{ManagedInstance, ResourceGroup, StorageAccount, Subscription};

const SQL: &str = "providers/microsoft.sql/managedinstances";
const STORAGE: &str = "providers/microsoft.storage/storageaccounts";

pub fn route(req: &Req) -> Result<Option<Response>, ArmError> {
    let ok = |v: Value| Ok(Some(json_response(StatusCode::OK, &v)));
    let get = Method::GET;
    if req.matches(get.clone(), "subscriptions").is_some() {
        let tenant = req.subject.tenant_id.clone();
        let subs = req.app.read(|s| {
            s.seed
                .subscriptions
                .iter()
                .filter(|x| x.tenant_id.eq_ignore_ascii_case(&tenant))
                .map(subscription)
                .collect()
        });
        return ok(req.page(subs));
    }
    if let Some(c) = req.matches(get.clone(), "subscriptions/*") {
        return ok(subscription(&req.subscription(&c[0])?));
    }
    if let Some(c) = req.matches(get.clone(), "subscriptions/*/resourcegroups") {
        let sub = req.subscription(&c[0])?;
        return ok(req.page(sub.resource_groups.iter().map(|g| group(&sub, g)).collect()));
    }
    if let Some(c) = req.matches(get.clone(), "subscriptions/*/resourcegroups/*") {
        let sub = req.subscription(&c[0])?;
        return ok(group(&sub, &req.group(&c[0], &c[1])?));
    }
    if let Some(c) = req.matches(get.clone(), &format!("subscriptions/*/{SQL}")) {
        let sub = req.subscription(&c[0])?;
        req.require_sql_version("global", "managedInstances")?;
        let all = sub.resource_groups.iter().flat_map(|g| g.managed_instances.iter().map(|m| instance(&sub, g, m)));
        return ok(req.page(all.collect()));
    }
    if let Some(c) = req.matches(get.clone(), &format!("subscriptions/*/resourcegroups/*/{SQL}")) {
        let (sub, g) = (req.subscription(&c[0])?, req.group(&c[0], &c[1])?);
        req.require_sql_version(&g.location, "managedInstances")?;
        return ok(req.page(g.managed_instances.iter().map(|m| instance(&sub, &g, m)).collect()));
    }
    if let Some(c) = req.matches(get.clone(), &format!("subscriptions/*/resourcegroups/*/{SQL}/*")) {
        let (sub, g, mi) = (req.subscription(&c[0])?, req.group(&c[0], &c[1])?, req.instance(&c[0], &c[1], &c[2])?);
        req.require_sql_version(&mi.location, "managedInstances")?;
        return ok(instance(&sub, &g, &mi));
    }
    if let Some(c) = req.matches(get.clone(), &format!("subscriptions/*/{STORAGE}")) {
        let sub = req.subscription(&c[0])?;
        let all = sub.resource_groups.iter().flat_map(|g| g.storage_accounts.iter().map(|a| account(&sub, g, a)));
        return ok(req.page(all.collect()));
    }
    if let Some(c) = req.matches(get.clone(), &format!("subscriptions/*/resourcegroups/*/{STORAGE}")) {
        let (sub, g) = (req.subscription(&c[0])?, req.group(&c[0], &c[1])?);
        return ok(req.page(g.storage_accounts.iter().map(|a| account(&sub, &g, a)).collect()));
    }
    if let Some(c) = req.matches(get, &format!("subscriptions/*/resourcegroups/*/{STORAGE}/*")) {
        let (sub, g) = (req.subscription(&c[0])?, req.group(&c[0], &c[1])?);
        return ok(account(&sub, &g, &storage_account(&g, &c[2])?));
    }
    if let Some(c) = req.matches(Method::POST, &format!("subscriptions/*/resourcegroups/*/{STORAGE}/*/listkeys")) {
        let a = storage_account(&req.group(&c[0], &c[1])?, &c[2])?;
        let keys: Vec<Value> = a
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| json!({"keyName": format!("key{}", i + 1), "value": k, "permissions": "FULL"}))
            .collect();
        return ok(json!({ "keys": keys }));
    }
    if let Some(c) = req.matches(Method::POST, &format!("subscriptions/*/resourcegroups/*/{STORAGE}/*/listservicesas"))
    {
        let a = storage_account(&req.group(&c[0], &c[1])?, &c[2])?;
        return ok(json!({ "serviceSasToken": service_sas(req, &a)? }));
    }
    Ok(None)
}

fn storage_account(g: &ResourceGroup, name: &str) -> Result<StorageAccount, ArmError> {
    g.storage_account(name)
        .cloned()
        .ok_or_else(|| ArmError::resource_not_found(&format!("Microsoft.Storage/storageAccounts/{name}"), &g.name))
}

fn subscription(s: &Subscription) -> Value {
    json!({
        "id": format!("/subscriptions/{}", s.id),
        "subscriptionId": s.id,
        "tenantId": s.tenant_id,
        "displayName": s.display_name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off"
        },
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "tags": {}
    })
}

fn group(s: &Subscription, g: &ResourceGroup) -> Value {
    json!({
        "id": format!("/subscriptions/{}/resourceGroups/{}", s.id, g.name),
        "name": g.name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": g.location,
        "properties": { "provisioningState": "Succeeded" }
    })
}

fn instance(s: &Subscription, g: &ResourceGroup, m: &ManagedInstance) -> Value {
    let (prefix, family) =
        if m.tier.eq_ignore_ascii_case("BusinessCritical") { ("BC", "Gen5") } else { ("GP", "Gen5") };
    let dns_zone = "0a1b2c3d4e5f";
    json!({
        "location": m.location,
        "id": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Sql/managedInstances/{}", s.id, g.name, m.name),
        "name": m.name,
        "type": "Microsoft.Sql/managedInstances",
        "sku": { "name": format!("{prefix}_{family}"), "tier": m.tier, "capacity": m.v_cores, "family": family },
        "properties": {
            "fullyQualifiedDomainName": format!("{}.{dns_zone}.database.windows.net", m.name),
            "administratorLogin": "rehearsaladmin",
            "subnetId": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/virtualNetworks/vnet-mi/subnets/ManagedInstance", s.id, g.name),
            "state": "Ready",
            "provisioningState": "Succeeded",
            "vCores": m.v_cores,
            "storageSizeInGB": m.storage_size_in_gb,
            "licenseType": "LicenseIncluded",
            "collation": m.collation,
            "publicDataEndpointEnabled": false,
            "proxyOverride": "Default",
            "minimalTlsVersion": "1.2",
            "dnsZone": dns_zone,
            "currentBackupStorageRedundancy": "Geo",
            "requestedBackupStorageRedundancy": "Geo"
        }
    })
}

fn account(s: &Subscription, g: &ResourceGroup, a: &StorageAccount) -> Value {
    json!({
        "id": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Storage/storageAccounts/{}", s.id, g.name, a.name),
        "name": a.name,
        "type": "Microsoft.Storage/storageAccounts",
        "kind": "StorageV2",
        "location": a.location,
        "sku": { "name": "Standard_LRS", "tier": "Standard" },
        "tags": {},
        "properties": {
            "primaryEndpoints": { "blob": format!("{}/", a.blob_endpoint.trim_end_matches('/')) },
            "primaryLocation": a.location,
            "statusOfPrimary": "available",
            "provisioningState": "Succeeded",
            "creationTime": "2024-01-01T00:00:00.0000000Z",
            "supportsHttpsTrafficOnly": false,
            "isHnsEnabled": false
        }
    })
}

/// `ListServiceSas` for a container (`signedResource: c`), signed with the account's first key.
fn service_sas(req: &Req, a: &StorageAccount) -> Result<String, ArmError> {
    let body: Value = serde_json::from_slice(&req.body).map_err(|e| invalid_content(&e.to_string()))?;
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let resource = text("canonicalizedResource").unwrap_or_default();
    let container = resource
        .strip_prefix(&format!("/blob/{}/", a.name))
        .filter(|c| !c.is_empty() && !c.contains('/'))
        .ok_or_else(|| invalid_parameter("canonicalizedResource", "/blob/{account}/{container}"))?;
    if text("signedResource").as_deref() != Some("c") {
        return Err(invalid_parameter("signedResource", "c (the emulator signs container SAS only)"));
    }
    let permissions = Permissions::parse(&text("signedPermission").unwrap_or_default())
        .map_err(|e| invalid_parameter("signedPermission", &e.to_string()))?;
    let time = |k: &str| text(k).map(|t| OffsetDateTime::parse(&t, &Rfc3339));
    let expiry = time("signedExpiry")
        .and_then(Result::ok)
        .ok_or_else(|| invalid_parameter("signedExpiry", "an RFC 3339 UTC time"))?;
    let start = time("signedStart").and_then(Result::ok);
    let sas = ServiceSas {
        resource: SignedResource::Container,
        permissions,
        start,
        expiry,
        protocol: text("signedProtocol"),
        identifier: None,
        version: SIGNED_VERSION.to_string(),
    };
    let key = a.keys.first().ok_or_else(|| invalid_parameter("keyToSign", "a key of the account"))?;
    let token = sas
        .sign(&a.name, container, &Secret::new(key.clone()))
        .map_err(|e| ArmError::bad_request("InvalidValuesForRequestParameters", e.to_string()))?;
    Ok(token.expose().to_string())
}

fn invalid_content(detail: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: '{detail}'."),
    )
}

fn invalid_parameter(name: &str, expected: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidValuesForRequestParameters",
        format!("Values for request parameters are invalid: {name}. Expected {expected}."),
    )
}
