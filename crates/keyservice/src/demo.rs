//! The Demo provider's service, shared safely between processes: the
//! desktop app and the CLI may each start it on the same state file, and
//! exactly one of them serves that file at a time.
//!
//! The serving process holds an exclusive lock on `<state file>.lock` (a
//! file that is never renamed, unlike the state file, which is replaced on
//! every write) for as long as its service lives, and publishes its address
//! in `<state file>.addr` (0600, replaced atomically). A process that finds
//! the lock taken reads that address, checks that a service answers there
//! with the same admin token, and uses it instead of starting its own. When
//! the owner goes away the OS releases its lock, and the next process to
//! start takes over, loading the state the owner saved.
//!
//! It must never let two services write one state file, never send the
//! admin token anywhere but a loopback address, and never put the token in
//! either file.

use std::fs::{File, OpenOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::http::{header, StatusCode};
use hyper_util::rt::TokioIo;

use crate::persist;
use crate::server::{start_owned, Config, ShutdownHandle, StartError};

/// How long a process waits for the owner of a locked state file to answer
/// before giving up.
pub const JOIN_WAIT: Duration = Duration::from_secs(5);

/// How long the Demo holds a created key for an idempotent replay.
pub const DEMO_REPLAY_KEY_TTL: Duration = Duration::from_secs(10);

/// What [`start_demo`] did.
#[derive(Debug)]
#[must_use = "dropping a Started handle stops the service"]
pub enum DemoService {
    /// This process serves the state file (and holds its lock) until the
    /// handle is shut down or dropped.
    Started {
        addr: SocketAddr,
        handle: ShutdownHandle,
    },
    /// Another process serves the state file; use its service at `addr`.
    Joined { addr: SocketAddr },
}

impl DemoService {
    /// Where the Demo service answers, whoever serves it.
    pub fn addr(&self) -> SocketAddr {
        match self {
            Self::Started { addr, .. } | Self::Joined { addr } => *addr,
        }
    }

    /// The handle that stops the service, when this process serves it.
    pub fn into_handle(self) -> Option<ShutdownHandle> {
        match self {
            Self::Started { handle, .. } => Some(handle),
            Self::Joined { .. } => None,
        }
    }
}

/// The lock on a state file, held by the service serving it; dropping it
/// withdraws the published address, then releases the lock.
pub(crate) struct OwnerLock {
    file: File,
    addr_path: PathBuf,
}

impl Drop for OwnerLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.addr_path);
        let _ = self.file.unlock();
    }
}

fn sibling(data_file: &Path, suffix: &str) -> PathBuf {
    let mut name = data_file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn open_lock_file(path: &Path) -> Result<File, StartError> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|e| StartError::DataFile(format!("cannot open {}: {e}", path.display())))
}

/// The address the owner published, if it is a whole loopback address.
fn published_addr(path: &Path) -> Option<SocketAddr> {
    let text = std::fs::read_to_string(path).ok()?;
    let addr: SocketAddr = text.trim().parse().ok()?;
    addr.ip().is_loopback().then_some(addr)
}

/// Whether a key service answers at `addr` and accepts `admin_token`.
async fn answers(addr: SocketAddr, admin_token: &str) -> bool {
    let check = async {
        let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .ok()?;
        let conn = tokio::spawn(conn);
        let request = hyper::Request::get("/api/projects/demo/api-keys")
            .header(header::HOST, addr.to_string())
            .header(header::AUTHORIZATION, format!("Bearer {admin_token}"))
            .body(http_body_util::Empty::<hyper::body::Bytes>::new())
            .ok()?;
        let status = sender.send_request(request).await.ok()?.status();
        conn.abort();
        Some(status == StatusCode::OK)
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), check).await,
        Ok(Some(true))
    )
}

/// Starts the Demo provider: the key service on an ephemeral loopback port
/// with its state in `data_file`, as the desktop app and the CLI run it —
/// unless another process already serves that file, in which case its
/// service is used (see the module documentation). Waits up to
/// [`JOIN_WAIT`] for a busy owner to answer.
pub async fn start_demo(data_file: PathBuf, admin_token: &str) -> Result<DemoService, StartError> {
    if admin_token.is_empty() {
        return Err(StartError::EmptyAdminToken);
    }
    let lock_path = sibling(&data_file, ".lock");
    let addr_path = sibling(&data_file, ".addr");
    let deadline = Instant::now() + JOIN_WAIT;
    loop {
        let file = open_lock_file(&lock_path)?;
        match file.try_lock() {
            Ok(()) => {
                let lock = OwnerLock {
                    file,
                    addr_path: addr_path.clone(),
                };
                return serve_locked(data_file, admin_token, lock, &addr_path).await;
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                if let Some(addr) = published_addr(&addr_path) {
                    if answers(addr, admin_token).await {
                        return Ok(DemoService::Joined { addr });
                    }
                }
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(StartError::DataFile(format!(
                    "cannot lock {}: {e}",
                    lock_path.display()
                )))
            }
        }
        if Instant::now() >= deadline {
            return Err(StartError::DemoBusy(format!(
                "another process holds {} but its Demo service does not answer",
                lock_path.display()
            )));
        }
        // The owner is starting (or stopping): look again shortly.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn serve_locked(
    data_file: PathBuf,
    admin_token: &str,
    lock: OwnerLock,
    addr_path: &Path,
) -> Result<DemoService, StartError> {
    let mut config = Config::new(admin_token);
    config.data_file = Some(data_file);
    // The Demo runs inside the app (or the CLI) that is its client: a lost
    // answer is retried within seconds, and a held key would sit in that
    // client's memory. A later replay gets IDEMPOTENCY_REPLAY_UNAVAILABLE,
    // which the client's create journal handles (revoke by name and time).
    config.replay_key_ttl = DEMO_REPLAY_KEY_TTL;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let (addr, handle) = start_owned(listener, config, Some(lock)).await?;
    persist::write_atomic(addr_path, format!("{addr}\n").as_bytes()).map_err(|e| {
        StartError::DataFile(format!(
            "cannot publish the Demo service's address in {}: {e}",
            addr_path.display()
        ))
    })?;
    Ok(DemoService::Started { addr, handle })
}
