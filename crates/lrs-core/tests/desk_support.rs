//! Support for `desk_upload.rs`: the rehearsal world (Azurite, the LRS emulator, the container)
//! on a runtime of its own, with a [`FaultProxy`] in front of Azurite that logs every request and
//! can hold one Put Block (a network that hangs on one block); an app as the desktop app builds
//! one (its own runtime, a [`Session`] and a [`MigrationDesk`] over a data folder), walked through
//! the wizard's steps; backups tens of MiB long whose pages are not zeros; and what the container
//! holds, read straight from Azurite.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use lrs_core::backup::writer::SyntheticBackup;
use lrs_core::secrets::{Keychain, Secret};
use lrs_core::session::{
    MigrationDesk, MigrationMode, MigrationView, PastedSecret, Session, StartChoice, StorageRequest, TargetRequest,
};
use lrs_core::storage::defaults::MIB;
use lrs_core::storage::sas::AccountSas;
use lrs_core::storage::upload::blob_name;
use lrs_rehearsal::{AzuriteError, Rehearsal, RehearsalError, AZURITE_ACCOUNT, AZURITE_KEY, CONTAINER};
use lrs_testkit::{FaultProxy, Op, Scheduled};
use md5::{Digest, Md5};
use tokio::runtime::Runtime;

/// The engine's block size (the desk uses the default).
pub const BLOCK: u64 = 8 * MIB;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// Azurite, the emulator and the container, and a proxy in front of Azurite.
#[derive(Debug)]
pub struct World {
    runtime: Runtime,
    rehearsal: Option<Rehearsal>,
    pub proxy: FaultProxy,
    keychain_service: String,
    /// The world's data (Azurite's blobs, the emulator's state).
    _dir: tempfile::TempDir,
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(rehearsal) = self.rehearsal.take() {
            self.runtime.block_on(rehearsal.shutdown());
        }
        let keychain = Keychain::with_service(&self.keychain_service);
        let _ = keychain.delete("probe/x");
        let _ = keychain.delete(&format!("storage/{AZURITE_ACCOUNT}/key"));
    }
}

impl World {
    /// The world, with `faults` scheduled on the proxy; `None` (the test skips) without Azurite
    /// or a usable keychain, unless CI or `LRS_REQUIRE_KEYCHAIN=1` says they must be there.
    pub fn start(test: &str, faults: Vec<Scheduled>) -> Option<World> {
        let keychain_service = format!("lrs-desk-upload-test-{test}-{}", std::process::id());
        if let Err(e) = Keychain::with_service(&keychain_service).set("probe/x", &Secret::new("x")) {
            let required = std::env::var("LRS_REQUIRE_KEYCHAIN").is_ok_and(|v| v == "1");
            assert!(!required, "keychain required but unusable: {e}");
            eprintln!("SKIPPED: no usable keychain ({e})");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let runtime = runtime();
        let rehearsal = match runtime.block_on(Rehearsal::start(&dir.path().join("world"))) {
            Ok(r) => r,
            Err(RehearsalError::Azurite(e @ AzuriteError::NotInstalled { .. })) => {
                assert!(std::env::var_os("CI").is_none(), "{e}");
                eprintln!("SKIPPED: {e}");
                return None;
            }
            Err(e) => panic!("the rehearsal world did not start: {e}"),
        };
        let proxy = FaultProxy::start(rehearsal.azurite().port(), faults).unwrap();
        Some(World { runtime, rehearsal: Some(rehearsal), proxy, keychain_service, _dir: dir })
    }

    fn rehearsal(&self) -> &Rehearsal {
        self.rehearsal.as_ref().unwrap()
    }

    /// The container through the proxy.
    pub fn proxied_container(&self) -> String {
        self.proxy.container_url(CONTAINER)
    }

    /// The container on Azurite itself.
    pub fn direct_container(&self) -> String {
        self.rehearsal().container_url().to_string()
    }

    /// A new app process over `data` (its config beside it), in rehearsal mode and signed in.
    pub fn app(&self, data: &Path) -> App {
        let runtime = runtime();
        let keychain = Keychain::with_service(&self.keychain_service);
        let session = Session::new(&data.join("config"), keychain).unwrap();
        let world = self.rehearsal().world().unwrap();
        runtime.block_on(session.begin_rehearsal(world)).unwrap();
        let desk = MigrationDesk::new(data);
        App { runtime: Some(runtime), killed: false, session, desk }
    }

    /// The Put Blocks the proxy saw from entry `from` of its log on: (blob, block ID in base64).
    pub fn put_blocks_since(&self, from: usize) -> Vec<(String, String)> {
        let prefix = format!("/{AZURITE_ACCOUNT}/{CONTAINER}/");
        let log = self.proxy.log();
        log.iter()
            .skip(from)
            .filter(|l| l.op == Op::PutBlock)
            .filter_map(|l| {
                let (path, query) = l.target.split_once('?')?;
                let blob = decode(path.strip_prefix(&prefix)?);
                let id = query.split('&').find_map(|kv| kv.strip_prefix("blockid="))?;
                Some((blob, decode(id)))
            })
            .collect()
    }

    /// How many requests the proxy has seen.
    pub fn requests_seen(&self) -> usize {
        self.proxy.log().len()
    }

    /// Waits until the proxy has seen `n` Put Blocks.
    pub fn wait_for_put_blocks(&self, n: usize, timeout: Duration) {
        let end = Instant::now() + timeout;
        while self.proxy.count(Op::PutBlock) < n {
            assert!(Instant::now() < end, "only {} Put Blocks arrived, not {n}", self.proxy.count(Op::PutBlock));
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn get(&self, query: &str) -> reqwest::Response {
        let url = format!("{}{query}&{}", self.direct_container(), admin_sas().expose());
        self.runtime.block_on(async { reqwest::Client::new().get(url).send().await.unwrap() })
    }

    /// The committed blobs of the container (names).
    pub fn committed_blobs(&self) -> HashSet<String> {
        let response = self.get("?restype=container&comp=list");
        let text = self.runtime.block_on(response.text()).unwrap();
        tags(&text, "Name").into_iter().collect()
    }

    /// The uncommitted block IDs Azurite holds for `blob` (base64).
    pub fn staged_blocks(&self, blob: &str) -> HashSet<String> {
        let response = self.get(&format!("/{blob}?comp=blocklist&blocklisttype=uncommitted"));
        let text = self.runtime.block_on(response.text()).unwrap();
        tags(&text, "Name").into_iter().collect()
    }

    /// The size and MD5 of `blob` as Azurite serves it.
    pub fn blob_md5(&self, blob: &str) -> (u64, [u8; 16]) {
        let mut response = self.get(&format!("/{blob}?"));
        assert_eq!(response.status().as_u16(), 200, "read back {blob}");
        self.runtime.block_on(async {
            let mut hash = Md5::new();
            let mut size = 0u64;
            while let Some(chunk) = response.chunk().await.unwrap() {
                size += chunk.len() as u64;
                hash.update(&chunk);
            }
            (size, hash.finalize().into())
        })
    }

    /// Every file of `files` is in `folder` with its size and MD5.
    pub fn assert_identical(&self, folder: &str, files: &[PathBuf]) {
        for file in files {
            let blob = blob_name(folder, file, false);
            let (size, md5) = self.blob_md5(&blob);
            assert_eq!(size, std::fs::metadata(file).unwrap().len(), "{blob}: size");
            assert_eq!(md5, md5_file(file), "{blob}: content");
        }
    }
}

/// One run of the app: its runtime, session and desk.
#[derive(Debug)]
pub struct App {
    runtime: Option<Runtime>,
    /// Ended by [`App::kill`]: nothing is shut down gracefully.
    killed: bool,
    pub session: Session,
    pub desk: MigrationDesk,
}

impl App {
    /// Runs `f` as a command of the app does (on its runtime).
    pub fn on<T>(&self, f: impl FnOnce(&Session, &MigrationDesk) -> T) -> T {
        let _inside = self.runtime.as_ref().unwrap().enter();
        f(&self.session, &self.desk)
    }

    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.as_ref().unwrap().block_on(future)
    }

    /// The wizard up to Storage: the target, the backups in `backups`, `container` and its key;
    /// with `access`, also the SAS and its checks (the Start step needs them).
    pub fn walk_wizard(&self, world: &World, backups: &Path, container: &str, access: bool) {
        let rehearsal = world.rehearsal().world().unwrap();
        let target = TargetRequest {
            subscription_id: rehearsal.subscription_id.clone(),
            resource_group: rehearsal.resource_group.clone(),
            instance: rehearsal.instance.clone(),
        };
        let s = &self.session;
        self.block_on(s.select_target(target)).unwrap();
        self.block_on(s.inspect_backups(vec![backups.to_path_buf()])).unwrap();
        let request = StorageRequest { container_url: Some(container.to_string()), account: None, container: None };
        s.select_storage(request).unwrap();
        let view = s.save_account_key(PastedSecret(Secret::new(AZURITE_KEY))).unwrap();
        assert!(view.done.backups && view.done.storage, "{view:?}");
        if access {
            let now = time::OffsetDateTime::now_utc();
            s.generate_sas(32, now).unwrap();
            let view = self.block_on(s.check_access(now)).unwrap();
            assert!(view.done.access, "{:?}", view.access);
        }
    }

    /// Settles the upload at one block in flight, so that a held block holds the whole upload.
    pub fn one_block_at_a_time(&self) {
        let mut settings = self.session.settings();
        settings.upload_concurrency = 1;
        self.session.save_settings(settings).unwrap();
    }

    pub fn view(&self) -> Option<MigrationView> {
        self.on(|_, desk| desk.view()).unwrap()
    }

    /// Polls the view until `done` accepts it.
    pub fn wait_view(&self, what: &str, timeout: Duration, done: impl Fn(&MigrationView) -> bool) -> MigrationView {
        let end = Instant::now() + timeout;
        loop {
            let view = self.view();
            if let Some(view) = view.filter(|v| done(v)) {
                return view;
            }
            assert!(Instant::now() < end, "timed out waiting for {what}: {:#?}", self.view());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn start_continuous(&self) -> MigrationView {
        let choice = StartChoice { mode: MigrationMode::Continuous, collation: None };
        self.on(|session, desk| desk.start(session, choice)).unwrap()
    }

    /// The app's process ends without warning: its runtime and every task on it are gone.
    pub fn kill(mut self) {
        self.killed = true;
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if !self.killed {
            self.desk.shutdown();
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

/// Records every view the desk pushes to the page.
#[derive(Clone, Debug, Default)]
pub struct PushedViews(std::sync::Arc<std::sync::Mutex<Vec<MigrationView>>>);

impl PushedViews {
    pub fn watch(&self, app: &App) {
        let views = self.0.clone();
        app.on(|_, desk| desk.watch(move |view| views.lock().unwrap().push(view))).unwrap();
    }

    pub fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    pub fn since(&self, from: usize) -> Vec<MigrationView> {
        self.0.lock().unwrap()[from..].to_vec()
    }

    pub fn last(&self) -> Option<MigrationView> {
        self.0.lock().unwrap().last().cloned()
    }
}

/// A restorable chain of `database` in `dir`: a full of `full_mib` MiB of pages, a differential of
/// `diff_mib` MiB, and two log backups. The pages carry a pattern that differs in every block (a
/// misplaced block changes the MD5); the files' times are an hour old, so they count as written.
pub fn write_chain(dir: &Path, database: &str, full_mib: u64, diff_mib: u64) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let mut full = SyntheticBackup::full(database);
    full.data_len = full_mib * MIB;
    let mut diff = SyntheticBackup::diff_of(&full);
    diff.data_len = diff_mib * MIB;
    let log1 = SyntheticBackup::log_after(&diff);
    let log2 = SyntheticBackup::log_after(&log1);
    let named = [("FULL.bak", &full), ("DIFF.bak", &diff), ("LOG_1.trn", &log1), ("LOG_2.trn", &log2)];
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let mut paths = Vec::new();
    for (seed, (suffix, set)) in named.into_iter().enumerate() {
        let path = dir.join(format!("{database}_{suffix}"));
        set.write_to(&path).unwrap();
        fill_pages(&path, set.data_len, seed as u64);
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(an_hour_ago).unwrap();
        paths.push(path);
    }
    paths
}

/// Writes a counter pattern over the pages from 1 MiB to `data_len` (the headers the inspection
/// reads lie before the pages and after them).
fn fill_pages(path: &Path, data_len: u64, seed: u64) {
    use std::io::{Seek, SeekFrom};
    if data_len <= 2 * MIB {
        return;
    }
    let mut file = std::fs::File::options().write(true).open(path).unwrap();
    file.seek(SeekFrom::Start(MIB)).unwrap();
    let mut out = std::io::BufWriter::with_capacity(MIB as usize, file);
    for word in (MIB / 8)..(data_len / 8) {
        out.write_all(&(word.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed).to_le_bytes()).unwrap();
    }
    out.flush().unwrap();
}

/// The number of engine blocks of `path`.
pub fn blocks_of(path: &Path) -> usize {
    usize::try_from(std::fs::metadata(path).unwrap().len().div_ceil(BLOCK)).unwrap()
}

pub fn md5_file(path: &Path) -> [u8; 16] {
    Md5::digest(std::fs::read(path).unwrap()).into()
}

/// Put Blocks grouped by blob.
pub fn by_blob(puts: &[(String, String)]) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (blob, id) in puts {
        map.entry(blob.clone()).or_default().push(id.clone());
    }
    map
}

fn admin_sas() -> Secret {
    let now = time::OffsetDateTime::now_utc();
    AccountSas::full_blob_access(now, time::Duration::hours(2))
        .sign(AZURITE_ACCOUNT, &Secret::new(AZURITE_KEY))
        .unwrap()
}

fn decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The text of every `<tag>…</tag>` in `xml`.
fn tags(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open).skip(1).filter_map(|part| part.split_once(&close).map(|(v, _)| v.to_string())).collect()
}
