//! The "Sign in and target" step: clouds (built in, and those of the settings), the sign-in
//! (browser, device code, service principal from the keychain, Azure CLI), and the pickers of
//! subscription, resource group and managed instance.

use std::sync::Arc;

use super::views::*;
use super::{Session, SessionError, State};
use crate::arm::interactive::InteractiveSignIn;
use crate::arm::pickers::ManagedInstance;
use crate::arm::{credential, ArmClient, ArmCredential, AzureCloud, ServicePrincipal};

impl Session {
    /// The clouds to choose from: the three built in, then the settings' own.
    pub fn clouds(&self) -> Vec<CloudItem> {
        let builtin = [AzureCloud::public(), AzureCloud::us_government(), AzureCloud::china()]
            .into_iter()
            .map(|c| CloudItem { name: c.name, arm_endpoint: c.arm_endpoint.to_string(), built_in: true });
        let custom = self.settings().clouds.into_iter().map(|c| CloudItem {
            name: c.name,
            arm_endpoint: c.arm_endpoint,
            built_in: false,
        });
        builtin.chain(custom).collect()
    }

    fn cloud_named(&self, name: &str) -> Result<AzureCloud, SessionError> {
        if let Ok(cloud) = AzureCloud::by_name(name) {
            return Ok(cloud);
        }
        let settings = self.settings();
        let custom = settings.clouds.iter().find(|c| c.name.eq_ignore_ascii_case(name));
        match custom {
            Some(c) => Ok(c.cloud()?),
            None => Err(SessionError::Invalid(format!("unknown cloud '{name}': add it in Settings"))),
        }
    }

    /// Signs in. `notify` gets what the user must do for an interactive sign-in (device code, the
    /// browser's URL); `open` opens the system browser on a URL.
    pub async fn sign_in(
        &self,
        request: SignInRequest,
        notify: impl Fn(SignInPrompt) + Send + Sync,
        open: impl FnOnce(&str) -> Result<(), String> + Send,
    ) -> Result<SessionView, SessionError> {
        let cloud = self.cloud_named(&request.cloud)?;
        let (tenant, client) = (request.tenant_id.trim().to_string(), request.client_id.trim().to_string());
        if tenant.is_empty() || (client.is_empty() && request.method != SignInMethod::AzureCli) {
            return Err(SessionError::Invalid("give the tenant and the client id".into()));
        }
        let credential: ArmCredential = match request.method {
            SignInMethod::ServicePrincipal => {
                if let Some(secret) = request.client_secret.clone().filter(|s| !s.0.is_empty()) {
                    let sp = ServicePrincipal {
                        tenant_id: tenant.clone(),
                        client_id: client.clone(),
                        secret: secret.0,
                        authority_host: None,
                    };
                    sp.save_to_keychain(&self.keychain)?;
                }
                ServicePrincipal::from_keychain(&self.keychain, &tenant, &client)?.credential(&cloud)?
            }
            SignInMethod::AzureCli => credential::azure_cli(Some(&tenant))?,
            SignInMethod::DeviceCode => {
                let sign_in = InteractiveSignIn::new(cloud.clone(), &tenant, &client);
                let credential = sign_in
                    .device_code(|p| {
                        notify(SignInPrompt::DeviceCode {
                            verification_uri: p.verification_uri.clone(),
                            user_code: p.user_code.clone(),
                            expires_in_seconds: p.expires_in.as_secs(),
                        })
                    })
                    .await?
                    .with_keychain(self.keychain.clone());
                credential.save().await?;
                Arc::new(credential)
            }
            SignInMethod::Browser => {
                let sign_in = InteractiveSignIn::new(cloud.clone(), &tenant, &client);
                let credential = sign_in
                    .browser(|url| {
                        let opened = open(url).is_ok();
                        notify(SignInPrompt::Browser { url: url.to_string(), opened });
                        Ok(())
                    })
                    .await?
                    .with_keychain(self.keychain.clone());
                credential.save().await?;
                Arc::new(credential)
            }
        };
        let arm = ArmClient::new(cloud.clone(), credential, Default::default())?;
        arm.subscriptions().await?;
        let view = SignInView {
            cloud: cloud.name.clone(),
            arm_endpoint: cloud.arm_endpoint.to_string(),
            method: request.method,
            tenant_id: tenant,
            client_id: client,
        };
        let mut state = self.state();
        let mode = state.mode;
        let rehearsal = state.rehearsal.take();
        *state = State { mode, rehearsal, ..State::default() };
        state.cloud = Some(cloud);
        state.arm = Some(arm);
        state.sign_in = Some(view);
        drop(state);
        Ok(self.view())
    }

    pub async fn subscriptions(&self) -> Result<Vec<SubscriptionItem>, SessionError> {
        let list = self.arm()?.subscriptions().await?;
        Ok(list
            .into_iter()
            .map(|s| SubscriptionItem { id: s.subscription_id, name: s.display_name, state: s.state })
            .collect())
    }

    pub async fn resource_groups(&self, subscription_id: &str) -> Result<Vec<GroupItem>, SessionError> {
        let list = self.arm()?.resource_groups(subscription_id).await?;
        Ok(list.into_iter().map(|g| GroupItem { name: g.name, location: g.location }).collect())
    }

    /// The managed instances of a resource group.
    pub async fn instances(&self, subscription_id: &str, group: &str) -> Result<Vec<InstanceItem>, SessionError> {
        let list = self.arm()?.managed_instances(subscription_id, Some(group)).await?;
        Ok(list.into_iter().map(instance_item).collect())
    }

    /// Chooses the target managed instance (read again from ARM, so the view is current).
    pub async fn select_target(&self, request: TargetRequest) -> Result<SessionView, SessionError> {
        let arm = self.arm()?;
        let mi = arm.managed_instance(&request.subscription_id, &request.resource_group, &request.instance).await?;
        let target = TargetView { subscription_id: request.subscription_id, instance: instance_item(mi) };
        self.state().target = Some(target);
        Ok(self.view())
    }
}

fn instance_item(mi: ManagedInstance) -> InstanceItem {
    InstanceItem {
        name: mi.name,
        resource_group: mi.resource_group,
        location: mi.location,
        tier: mi.tier,
        sku: mi.sku,
        vcores: mi.vcores,
        collation: mi.collation,
        state: mi.state,
    }
}
