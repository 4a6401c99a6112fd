//! [`LoopbackServer`]: a TCP server on a free loopback port, on a runtime of its own so that the
//! test that starts it may be async or not, serving each connection with a handler; it stops when
//! dropped. The discard sink and the fault proxy are its two handlers.

use std::future::Future;

use tokio::net::{TcpListener, TcpStream};

#[derive(Debug)]
pub(crate) struct LoopbackServer {
    port: u16,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        // Not a blocking shutdown: the owner may be dropped inside an async test.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl LoopbackServer {
    /// Listens on `127.0.0.1:0` and runs `serve` for each connection, on `worker_threads` threads.
    pub(crate) fn start<F, Fut>(worker_threads: usize, serve: F) -> std::io::Result<LoopbackServer>
    where
        F: Fn(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(worker_threads).enable_all().build()?;
        // Bound without `block_on`, so that a server can be started from inside an async test.
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        std_listener.set_nonblocking(true)?;
        let listener = {
            let _inside = runtime.enter();
            TcpListener::from_std(std_listener)?
        };
        let port = listener.local_addr()?.port();
        runtime.spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(serve(conn));
            }
        });
        Ok(LoopbackServer { port, runtime: Some(runtime) })
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT/devstoreaccount1/<container>`.
    pub(crate) fn container_url(&self, container: &str) -> String {
        format!("http://127.0.0.1:{}/{}/{container}", self.port, crate::AZURITE_ACCOUNT)
    }
}
