//! The shared state of a running emulator: the world (behind one lock, never held across an
//! await), where it is saved, the clock, the timings and the HTTP client LRS reads storage with.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::clock::Clock;
use crate::config::Timing;
use crate::state::{State, Store};

#[derive(Debug)]
pub struct App {
    state: Mutex<State>,
    store: Store,
    pub clock: Arc<dyn Clock>,
    pub timing: Timing,
    /// `http://127.0.0.1:PORT`, the prefix of the absolute URLs the emulator hands out.
    pub base_url: String,
    pub page_size: usize,
    pub max_restores_per_subscription: usize,
    /// Where the headers read from each restore's folder are mirrored (sparse files).
    pub mirrors: PathBuf,
    pub http: reqwest::Client,
    /// Serializes ticks: one folder scan at a time.
    pub tick_lock: tokio::sync::Mutex<()>,
    /// ARM requests served (Entra's token endpoints not included), for load measurements.
    pub arm_requests: RequestCounts,
}

/// How many ARM requests were served: reads (GET) and writes (PUT, POST, PATCH, DELETE).
#[derive(Debug, Default)]
pub struct RequestCounts {
    pub reads: std::sync::atomic::AtomicU64,
    pub writes: std::sync::atomic::AtomicU64,
}

pub type Shared = Arc<App>;

impl App {
    pub fn new(state: State, store: Store, clock: Arc<dyn Clock>, timing: Timing, base_url: String) -> App {
        let mirrors = store.dir().join("mirrors");
        App {
            state: Mutex::new(state),
            store,
            clock,
            timing,
            base_url,
            page_size: 100,
            max_restores_per_subscription: 150,
            mirrors,
            http: reqwest::Client::new(),
            tick_lock: tokio::sync::Mutex::new(()),
            arm_requests: RequestCounts::default(),
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Reads the state.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&state)
    }

    /// Changes the state and saves it before anyone else sees it.
    pub fn write<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let result = f(&mut state);
        if let Err(err) = self.store.save(&state) {
            eprintln!("lrs-emulator: {err}");
        }
        result
    }
}
