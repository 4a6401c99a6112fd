//! Starting and stopping an emulator: bind the listener, load or seed the state, serve the token
//! endpoints and ARM (plain HTTP, or HTTPS with [`crate::tls`]), and tick the restores in the
//! background until shut down.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::{App, Shared};
use crate::auth::oauth;
use crate::clock::Clock;
use crate::config::EmulatorConfig;
use crate::state::{State, Store, StoreError};
use crate::tls::{TlsError, TlsListener};

/// Why an emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    State(#[from] StoreError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot create a temporary state folder: {0}")]
    TempDir(#[source] std::io::Error),
}

/// The emulator's entry point.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Starts an emulator on the current Tokio runtime.
    pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, StartError> {
        let (dir, temp) = match &config.state_dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let temp = tempfile::tempdir().map_err(StartError::TempDir)?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let acceptor = config.tls.as_ref().map(crate::tls::acceptor).transpose()?;
        let store = Store::open(&dir)?;
        let state = match store.load()? {
            Some(state) => state,
            None => State::new(config.seed.clone()),
        };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Listen { addr: config.listen, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Listen { addr: config.listen, source })?;
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{addr}");
        let mut app = App::new(state, store, config.clock.clone(), config.timing.clone(), base_url.clone());
        app.page_size = config.page_size;
        app.max_restores_per_subscription = config.max_restores_per_subscription;
        let app: Shared = Arc::new(app);
        app.write(|_| ());
        let (stop, stopped) = oneshot::channel::<()>();
        let router = router(app.clone());
        let stopped = async move {
            let _ = stopped.await;
        };
        let server = match acceptor {
            None => tokio::spawn(async move {
                let _ = axum::serve(listener, router).with_graceful_shutdown(stopped).await;
            }),
            Some(acceptor) => tokio::spawn(async move {
                let listener = TlsListener::new(listener, acceptor);
                let _ = axum::serve(listener, router).with_graceful_shutdown(stopped).await;
            }),
        };
        let ticker = tokio::spawn(tick_forever(app.clone()));
        Ok(RunningEmulator { base_url, app, stop: Some(stop), server: Some(server), ticker, _temp: temp })
    }
}

fn router(app: Shared) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(oauth::token))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(oauth::device_code))
        .route("/{tenant}/oauth2/v2.0/authorize", get(oauth::authorize))
        .route("/devicelogin", get(oauth::device_login).post(oauth::device_login_form))
        .fallback(crate::arm::dispatch)
        .layer(axum::middleware::from_fn(crate::http::request_ids))
        .layer(axum::middleware::from_fn_with_state(app.clone(), count_arm_requests))
        .with_state(app)
}

/// Counts ARM requests by kind (sign-in requests, under `/{tenant}/oauth2/`, are not ARM's).
async fn count_arm_requests(
    axum::extract::State(app): axum::extract::State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use std::sync::atomic::Ordering;
    let path = request.uri().path();
    if !path.contains("/oauth2/") && path != "/devicelogin" {
        let counter = if request.method() == axum::http::Method::GET {
            &app.arm_requests.reads
        } else {
            &app.arm_requests.writes
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
    next.run(request).await
}

async fn tick_forever(app: Shared) {
    let period = std::time::Duration::from_millis(app.timing.tick_millis.max(10));
    loop {
        tokio::time::sleep(period).await;
        crate::lrs::tick::tick(&app).await;
    }
}

/// A running emulator; dropping it stops it (call [`RunningEmulator::shutdown`] to wait for it).
#[derive(Debug)]
pub struct RunningEmulator {
    base_url: String,
    app: Shared,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    ticker: JoinHandle<()>,
    _temp: Option<tempfile::TempDir>,
}

impl RunningEmulator {
    /// `http://127.0.0.1:PORT` (`https://` with TLS): the ARM endpoint and the authority host.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The clock the emulator reads (a [`crate::ManualClock`] in tests moves it).
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.app.clock.clone()
    }

    /// ARM requests served so far: (reads, writes).
    pub fn arm_requests(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering;
        (self.app.arm_requests.reads.load(Ordering::Relaxed), self.app.arm_requests.writes.load(Ordering::Relaxed))
    }

    /// A copy of the whole state: what the emulator was asked to do (tests count the starts).
    pub fn state(&self) -> crate::state::State {
        self.app.read(crate::state::State::clone)
    }

    /// Runs one tick now (list folders that are due, move restores on).
    pub async fn tick(&self) {
        crate::lrs::tick::tick(&self.app).await;
    }

    /// Stops serving and waits until the server has stopped. The state is already saved.
    pub async fn shutdown(mut self) {
        self.ticker.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.ticker.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
