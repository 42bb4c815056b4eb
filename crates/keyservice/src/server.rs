//! Starting and stopping the service: [`start`] serves the API on a listener
//! until its [`ShutdownHandle`] is used or dropped, then flushes the state.
//!
//! The accept loop is our own (hyper + axum's router) so that a chaos fault
//! can close a connection without answering, and so shutdown is graceful.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::auth_limit::{AuthFailureLimit, AuthFailures};
use crate::chaos::Chaos;
use crate::clock::{Clock, SystemClock};
use crate::demo::OwnerLock;
use crate::error::ApiError;
use crate::persist;
use crate::state::{RateLimit, State};

/// How a service is set up.
#[derive(Clone)]
pub struct Config {
    /// Bearer token with every management right, in every project.
    pub admin_token: String,
    /// Where state survives restarts; `None` keeps it in memory.
    pub data_file: Option<PathBuf>,
    /// Enables `POST /__chaos` (fault injection, tests only).
    pub chaos: bool,
    /// Allows a listener that is not on a loopback address.
    pub public: bool,
    pub rate_limit: RateLimit,
    /// Failed authentications allowed per client address (see `AuthFailureLimit`).
    pub auth_failure_limit: AuthFailureLimit,
    pub clock: Arc<dyn Clock>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How often usage counters (`last_used_at`, `request_count`) are saved
    /// (and full keys past `replay_key_ttl` dropped).
    pub flush_interval: Duration,
    /// How long a create's full key is held in memory so an idempotent
    /// replay can show it again; at most the 24 h idempotency window (the
    /// default). Later replays answer 409 `IDEMPOTENCY_REPLAY_UNAVAILABLE`.
    pub replay_key_ttl: Duration,
}

impl Config {
    pub fn new(admin_token: impl Into<String>) -> Self {
        Self {
            admin_token: admin_token.into(),
            data_file: None,
            chaos: false,
            public: false,
            rate_limit: RateLimit::default(),
            auth_failure_limit: AuthFailureLimit::default(),
            clock: Arc::new(SystemClock),
            max_body_bytes: 16 * 1024,
            flush_interval: Duration::from_secs(1),
            replay_key_ttl: Duration::from_secs(24 * 60 * 60),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("admin_token", &"[redacted]")
            .field("data_file", &self.data_file)
            .field("chaos", &self.chaos)
            .field("public", &self.public)
            .field("rate_limit", &self.rate_limit)
            .field("auth_failure_limit", &self.auth_failure_limit)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("flush_interval", &self.flush_interval)
            .field("replay_key_ttl", &self.replay_key_ttl)
            .finish_non_exhaustive()
    }
}

/// Why the service did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    #[error("refusing to listen on {0}: not a loopback address (pass --public to allow it)")]
    NotLoopback(SocketAddr),
    #[error("the admin token must not be empty")]
    EmptyAdminToken,
    #[error("cannot use the listener: {0}")]
    Listener(#[from] std::io::Error),
    #[error("{0}")]
    DataFile(String),
    /// Another process serves the Demo state file, but does not answer.
    #[error("{0}")]
    DemoBusy(String),
}

/// Shared by every request of one service.
pub(crate) struct Service {
    state: Mutex<State>,
    pub(crate) clock: Arc<dyn Clock>,
    data_file: Option<PathBuf>,
    write_lock: tokio::sync::Mutex<()>,
    pub(crate) chaos: Option<Chaos>,
    pub(crate) auth_failures: AuthFailures,
    pub(crate) max_body_bytes: usize,
    /// The data file's lock, when this service must be its only writer.
    _owner: Option<OwnerLock>,
}

impl Service {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Makes every change so far durable; a no-op without a data file.
    pub(crate) async fn persist(&self) -> Result<(), ApiError> {
        let Some(path) = self.data_file.clone() else {
            return Ok(());
        };
        let _writer = self.write_lock.lock().await;
        let bytes = {
            let mut state = self.state();
            if !state.dirty {
                // Whoever cleared it wrote our change before releasing the writer lock.
                return Ok(());
            }
            serde_json::to_vec(&state.snapshot())
        };
        let written = match bytes {
            Ok(bytes) => tokio::task::spawn_blocking(move || persist::write_atomic(&path, &bytes))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string())),
            Err(e) => Err(e.to_string()),
        };
        written.map_err(|e| {
            self.state().dirty = true;
            eprintln!("latchkey-keyservice: could not save the data file: {e}");
            ApiError::internal("The service could not save its state; nothing was changed")
        })
    }
}

/// Closes the connection a request came on, without an answer.
#[derive(Clone)]
pub(crate) struct ConnDropper(pub(crate) Arc<Notify>);

/// The address a request's connection comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PeerIp(pub(crate) std::net::IpAddr);

/// Stops a running service. Dropping it stops the service too.
pub struct ShutdownHandle {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl ShutdownHandle {
    /// Stops accepting, lets open requests finish (up to 5 s) and saves the state.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ShutdownHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShutdownHandle").finish_non_exhaustive()
    }
}

/// Serves the key service on `listener` (must be called inside a tokio
/// runtime). Returns the bound address and the handle that stops it.
pub async fn start(
    listener: std::net::TcpListener,
    config: Config,
) -> Result<(SocketAddr, ShutdownHandle), StartError> {
    start_owned(listener, config, None).await
}

/// [`start`], holding `owner` (the data file's lock, see `demo`) until the
/// service is gone: after its last request and its last save.
pub(crate) async fn start_owned(
    listener: std::net::TcpListener,
    config: Config,
    owner: Option<OwnerLock>,
) -> Result<(SocketAddr, ShutdownHandle), StartError> {
    let addr = listener.local_addr()?;
    if !config.public && !addr.ip().is_loopback() {
        return Err(StartError::NotLoopback(addr));
    }
    if config.admin_token.is_empty() {
        return Err(StartError::EmptyAdminToken);
    }
    let mut state = match &config.data_file {
        Some(path) => match persist::load(path).map_err(StartError::DataFile)? {
            Some(snapshot) => State::restore(&config.admin_token, config.rate_limit, snapshot)
                .map_err(StartError::DataFile)?,
            None => State::new(&config.admin_token, config.rate_limit),
        },
        None => State::new(&config.admin_token, config.rate_limit),
    };
    state.set_replay_key_ttl(
        time::Duration::try_from(config.replay_key_ttl).unwrap_or(time::Duration::MAX),
    );
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let service = Arc::new(Service {
        state: Mutex::new(state),
        clock: config.clock.clone(),
        data_file: config.data_file.clone(),
        write_lock: tokio::sync::Mutex::new(()),
        chaos: config.chaos.then(Chaos::default),
        auth_failures: AuthFailures::new(config.auth_failure_limit),
        max_body_bytes: config.max_body_bytes,
        _owner: owner,
    });
    if service.data_file.is_some() {
        // Create the file now, so a bad path fails at start, not at the first create.
        service.state().dirty = true;
        service
            .persist()
            .await
            .map_err(|e| StartError::DataFile(e.message))?;
    }
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(serve(listener, service, stopped, config.flush_interval));
    Ok((
        addr,
        ShutdownHandle {
            stop,
            task: Some(task),
        },
    ))
}

async fn serve(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    mut stopped: watch::Receiver<bool>,
    flush_interval: Duration,
) {
    let router = crate::api::router(service.clone());
    let flusher = tokio::spawn(flush_periodically(
        service.clone(),
        stopped.clone(),
        flush_interval,
    ));
    let (open_tx, mut open_rx) = mpsc::channel::<()>(1);
    loop {
        tokio::select! {
            _ = stop_requested(&mut stopped) => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(_) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, PeerIp(peer.ip()), router.clone(), stopped.clone(), open_tx.clone()));
            }
        }
    }
    drop(listener);
    drop(open_tx);
    let _ = tokio::time::timeout(Duration::from_secs(5), open_rx.recv()).await;
    let _ = flusher.await;
    let _ = service.persist().await;
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: PeerIp,
    router: axum::Router,
    mut stopped: watch::Receiver<bool>,
    _open: mpsc::Sender<()>,
) {
    let dropper = ConnDropper(Arc::new(Notify::new()));
    let per_request = dropper.clone();
    let svc = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(per_request.clone());
        req.extensions_mut().insert(peer);
        router.clone().oneshot(req)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .serve_connection(TokioIo::new(stream), svc);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = dropper.0.notified() => {}
        _ = stop_requested(&mut stopped) => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(5), conn).await;
        }
    }
}

async fn flush_periodically(
    service: Arc<Service>,
    mut stopped: watch::Receiver<bool>,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop_requested(&mut stopped) => return,
            _ = tick.tick() => {
                let dirty = {
                    let mut state = service.state();
                    state.forget_replay_keys(service.clock.now());
                    state.dirty
                };
                if dirty {
                    let _ = service.persist().await;
                }
            }
        }
    }
}

/// Resolves once a stop was asked for (or the handle is gone).
async fn stop_requested(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|&stop| stop).await.map(|_| ());
}
