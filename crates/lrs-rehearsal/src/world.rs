//! The rehearsal world: Azurite on loopback with its data in the app's folder, the LRS emulator
//! in-process on the system clock with short timings, the container, and sample backups. The ports
//! are remembered (`ports.json`) so that the emulator's saved state, which names Azurite's
//! endpoint, stays valid across runs; when a port is taken, new ones are chosen and the emulator
//! starts from a fresh state.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lrs_core::arm::{AzureCloud, ServicePrincipal};
use lrs_core::secrets::Secret;
use lrs_core::session::{RehearsalWorld, Session, SessionError, SessionView};
use lrs_core::storage::endpoint::ContainerUrl;
use lrs_core::storage::sas::AccountSas;
use lrs_emulator::seed::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_INSTANCE, DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION,
    DEFAULT_TENANT,
};
use lrs_emulator::{Emulator, EmulatorConfig, RunningEmulator, SystemClock, Timing};
use serde::{Deserialize, Serialize};

use crate::azurite::{free_port, port_is_free, Azurite, AzuriteError, AzuriteOptions, AZURITE_ACCOUNT, AZURITE_KEY};

/// The container the rehearsal's backups go to (no `backup` in it: LRS reserves the word).
pub const CONTAINER: &str = "lrs-rehearsal";

/// The sample databases and how many log backups each gets after its full and differential.
pub const SAMPLE_DATABASES: [(&str, usize); 3] = [("Sales", 4), ("Inventory", 3), ("HR", 2)];

#[derive(Debug, thiserror::Error)]
pub enum RehearsalError {
    #[error("{0}")]
    Azurite(#[from] AzuriteError),
    #[error("the LRS emulator could not start: {0}")]
    Emulator(#[from] lrs_emulator::StartError),
    #[error("cannot prepare the rehearsal folder {}: {source}", path.display())]
    Folder { path: PathBuf, source: std::io::Error },
    #[error("cannot create the rehearsal container in Azurite: {0}")]
    Container(String),
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// The ports of the last run.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Ports {
    azurite: u16,
    emulator: u16,
}

/// A running rehearsal world; dropping it stops Azurite and the emulator.
#[derive(Debug)]
pub struct Rehearsal {
    emulator: RunningEmulator,
    azurite: Azurite,
    container: ContainerUrl,
    samples: Vec<PathBuf>,
}

impl Rehearsal {
    /// The emulator's timings: a restore visibly moves within tens of seconds.
    pub fn timing() -> Timing {
        Timing {
            initializing_seconds: 5,
            seconds_per_backup_set: 4,
            megabytes_per_second: 200.0,
            cutover_seconds: 5,
            drop_seconds: 3,
            retry_after_seconds: 2,
            tick_millis: 500,
            ..Timing::default()
        }
    }

    /// Starts the world with its data under `dir` (Azurite's blobs, the emulator's state, the
    /// samples). Call it on a Tokio runtime: the emulator runs on it.
    pub async fn start(dir: &Path) -> Result<Rehearsal, RehearsalError> {
        let folder = |path: PathBuf| {
            std::fs::create_dir_all(&path).map_err(|source| RehearsalError::Folder { path: path.clone(), source })?;
            Ok::<PathBuf, RehearsalError>(path)
        };
        let state_dir = folder(dir.join("emulator"))?;
        let ports = choose_ports(dir, &state_dir)?;
        let mut options = AzuriteOptions::new(folder(dir.join("azurite"))?);
        options.port = Some(ports.azurite);
        let azurite = tokio::task::spawn_blocking(move || Azurite::launch(&options))
            .await
            .map_err(|e| RehearsalError::Container(e.to_string()))??;
        let mut config = EmulatorConfig::rehearsal().with_blob_endpoint(&azurite.blob_endpoint());
        config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], ports.emulator));
        config.state_dir = Some(state_dir);
        config.timing = Rehearsal::timing();
        config.clock = Arc::new(SystemClock);
        let emulator = Emulator::start(config).await?;
        let container = ContainerUrl::parse(&azurite.container_url(CONTAINER))
            .map_err(|e| RehearsalError::Container(e.to_string()))?;
        create_container(&container).await?;
        let samples = write_samples(&folder(dir.join("samples"))?)?;
        Ok(Rehearsal { emulator, azurite, container, samples })
    }

    /// The emulator's address: the ARM endpoint and the sign-in authority.
    pub fn base_url(&self) -> &str {
        self.emulator.base_url()
    }

    pub fn cloud(&self) -> Result<AzureCloud, lrs_core::arm::CloudError> {
        AzureCloud::emulator(self.base_url())
    }

    /// The emulator's seeded service principal (its secret is public: it opens only the emulator).
    pub fn service_principal(&self) -> ServicePrincipal {
        ServicePrincipal {
            tenant_id: DEFAULT_TENANT.into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            secret: Secret::new(DEFAULT_CLIENT_SECRET),
            authority_host: None,
        }
    }

    pub fn container_url(&self) -> &ContainerUrl {
        &self.container
    }

    /// Azurite's well-known key (public; it opens only the local emulator).
    pub fn account_key(&self) -> Secret {
        Secret::new(AZURITE_KEY)
    }

    pub fn azurite(&self) -> &Azurite {
        &self.azurite
    }

    /// One folder of sample backups per database.
    pub fn samples(&self) -> &[PathBuf] {
        &self.samples
    }

    /// What the wizard's session needs to point at this world.
    pub fn world(&self) -> Result<RehearsalWorld, RehearsalError> {
        let cloud = self.cloud().map_err(|e| RehearsalError::Session(SessionError::from(e)))?;
        Ok(RehearsalWorld {
            cloud,
            principal: self.service_principal(),
            subscription_id: DEFAULT_SUBSCRIPTION.into(),
            resource_group: DEFAULT_RESOURCE_GROUP.into(),
            instance: DEFAULT_INSTANCE.into(),
            storage_account: AZURITE_ACCOUNT.into(),
            container: self.container.clone(),
            samples: self.samples.clone(),
        })
    }

    /// Stops the emulator (waiting for it) and Azurite.
    pub async fn shutdown(self) {
        let Rehearsal { emulator, azurite, .. } = self;
        emulator.shutdown().await;
        drop(azurite);
    }
}

/// The ports of the last run when both are free; otherwise new ones, and a fresh emulator state.
fn choose_ports(dir: &Path, state_dir: &Path) -> Result<Ports, RehearsalError> {
    let file = dir.join("ports.json");
    let last: Option<Ports> = std::fs::read(&file).ok().and_then(|b| serde_json::from_slice(&b).ok());
    if let Some(ports) = last.filter(|p| port_is_free(p.azurite) && port_is_free(p.emulator)) {
        return Ok(ports);
    }
    let io = |source| RehearsalError::Folder { path: dir.to_path_buf(), source };
    let ports = Ports { azurite: free_port().map_err(io)?, emulator: free_port().map_err(io)? };
    let stale = state_dir.join("state.json");
    if stale.exists() {
        std::fs::remove_file(&stale).map_err(io)?;
    }
    std::fs::write(&file, serde_json::to_vec(&ports).unwrap_or_default()).map_err(io)?;
    Ok(ports)
}

/// Creates the container (201), or finds it there from an earlier run (409).
async fn create_container(container: &ContainerUrl) -> Result<(), RehearsalError> {
    let now = time::OffsetDateTime::now_utc();
    let sas = AccountSas::full_blob_access(now, time::Duration::minutes(10))
        .sign(container.account(), &Secret::new(AZURITE_KEY))
        .map_err(|e| RehearsalError::Container(e.to_string()))?;
    let url = format!("{}?restype=container&{}", container.url(), sas.expose());
    let response = reqwest::Client::new()
        .put(url)
        .header("x-ms-version", lrs_core::storage::sas::SIGNED_VERSION)
        .header("content-length", "0")
        .send()
        .await
        .map_err(|e| RehearsalError::Container(lrs_core::secrets::redact(&e.to_string())))?;
    match response.status().as_u16() {
        201 | 409 => Ok(()),
        status => Err(RehearsalError::Container(format!("Azurite answered {status}"))),
    }
}

/// Writes each sample database's chain into its own folder, unless an earlier run did.
fn write_samples(dir: &Path) -> Result<Vec<PathBuf>, RehearsalError> {
    let mut folders = Vec::new();
    for (name, logs) in SAMPLE_DATABASES {
        let folder = dir.join(name);
        let io = |source| RehearsalError::Folder { path: folder.clone(), source };
        let filled = std::fs::read_dir(&folder).map(|mut d| d.next().is_some()).unwrap_or(false);
        if !filled {
            std::fs::create_dir_all(&folder).map_err(io)?;
            lrs_core::backup::writer::write_sample_chain(&folder, name, logs).map_err(io)?;
        }
        folders.push(folder);
    }
    Ok(folders)
}

/// The app's one rehearsal: started on first use, kept until the app stops.
#[derive(Debug, Default)]
pub struct RehearsalSlot(tokio::sync::Mutex<Option<Rehearsal>>);

impl RehearsalSlot {
    /// Starts the rehearsal under `dir` (once) and points `session` at it.
    pub async fn begin(&self, session: &Session, dir: &Path) -> Result<SessionView, RehearsalError> {
        let mut slot = self.0.lock().await;
        let rehearsal = match slot.take() {
            Some(running) => running,
            None => Rehearsal::start(dir).await?,
        };
        let world = rehearsal.world();
        *slot = Some(rehearsal);
        Ok(session.begin_rehearsal(world?).await?)
    }

    /// Stops the rehearsal, if one runs (when the app exits).
    pub async fn stop(&self) {
        if let Some(rehearsal) = self.0.lock().await.take() {
            rehearsal.shutdown().await;
        }
    }
}
