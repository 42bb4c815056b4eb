//! Opening the vault as the app and the CLI do: the data directory, the
//! real keychain and clipboard, the clipboard timeout from the environment,
//! who acts, and the Demo provider served in-process from its state file
//! (or joined, when another Latchkey process already serves it).

use std::sync::Arc;

use latchkey_keyservice::ShutdownHandle;

use crate::catalog::Actor;
use crate::clipboard::{clear_after_from_env, SystemClipboard};
use crate::clock::SystemClock;
use crate::error::{Error, Result};
use crate::paths::{self, DEMO_DATA_FILE};
use crate::store::KeychainStore;
use crate::vault::Vault;

/// When this process serves the Demo provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Demo {
    /// The desktop app: always, recording it on first start (or join the
    /// process that already serves its state file).
    Serve,
    /// The CLI: only when the app recorded it and the recorded address does
    /// not answer; a failure to serve it is not an error for other commands.
    WhenDown,
}

/// An open vault, and the Demo service while this process serves it.
pub struct Session {
    pub vault: Arc<Vault>,
    demo: Option<ShutdownHandle>,
}

impl Session {
    /// The vault and, when this process serves the Demo, its handle: the
    /// caller keeps the handle for as long as it serves (dropping it stops
    /// the service).
    pub fn into_parts(self) -> (Arc<Vault>, Option<ShutdownHandle>) {
        (self.vault, self.demo)
    }
}

/// The one way the app and the CLI open the vault.
pub async fn open(actor: Actor, demo: Demo) -> Result<Session> {
    let dir = paths::data_dir();
    let store = Arc::new(KeychainStore::open()?);
    let clipboard = Arc::new(SystemClipboard::new()?);
    let mut vault = Vault::open(&dir, store, clipboard, Arc::new(SystemClock))?;
    vault.set_actor(actor);
    if let Some(after) = clear_after_from_env() {
        vault.set_clear_after(after);
    }
    let serve = match demo {
        Demo::Serve => true,
        Demo::WhenDown => match vault.providers()?.into_iter().find(|p| p.is_demo) {
            Some(p) => vault.test_provider(&p.id).await.is_err(),
            None => false,
        },
    };
    let mut handle = None;
    if serve {
        let token = vault.demo_admin_token()?;
        let started =
            latchkey_keyservice::start_demo(dir.join(DEMO_DATA_FILE), token.expose_secret()).await;
        match started {
            Ok(service) => {
                vault.ensure_demo_provider(&format!("http://{}", service.addr()), &token)?;
                handle = service.into_handle();
            }
            Err(e) if demo == Demo::Serve => {
                return Err(Error::Network(format!(
                    "cannot start the Demo provider: {e}"
                )))
            }
            Err(_) => {}
        }
    }
    Ok(Session {
        vault: Arc::new(vault),
        demo: handle,
    })
}
