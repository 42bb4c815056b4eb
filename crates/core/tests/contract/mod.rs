//! The contract's fixtures: for every connector kind, the connection a
//! person would record, on a service started for it (the reference key
//! service, a fake from the test kit, or moto for AWS), and that service's
//! side: what the test sees on the service itself, never through the
//! connector under test. `fixture` has a `match` on kinds, so a new kind
//! does not compile until it has a fixture. Secrets stay in `Secret`s
//! and the fakes' own state; nothing here prints one.

mod aws;
mod fakes;
mod reference;

use async_trait::async_trait;
use latchkey_core::catalog::{ProviderKind, ProviderRecord};
use latchkey_core::Secret;

/// A key no one made, for a service whose keys have no shape to copy.
const MADE_UP: &str = "lk_00000000_not-a-key-at-all-0000000000";

/// The service side of a run.
#[async_trait]
pub trait Side: Send + Sync {
    /// Keys on the service that are live (not revoked or switched off),
    /// the connection's own credential left out.
    async fn live(&self) -> usize;

    /// Whether the service accepts `secret` as a key now.
    async fn accepts(&self, secret: &Secret) -> bool;

    /// Scopes a key may be made with there (in the service's own names).
    fn scopes(&self) -> Vec<String> {
        vec![]
    }

    /// A key no one made, in the service's own shape (so the connector
    /// has to ask the service rather than refuse it by its look).
    fn made_up(&self) -> Secret {
        Secret::new(MADE_UP)
    }

    /// A key made on the service by hand (as a person would in its
    /// dashboard), for a connector that cannot create: its remote id and
    /// secret.
    async fn make_by_hand(&self, _name: &str) -> (String, Secret) {
        unreachable!("this connector creates")
    }
}

/// One key as a fake holds it: its secret, and whether it works now.
pub struct Held {
    secret: String,
    live: bool,
}

impl Held {
    pub fn new(secret: impl Into<String>, live: bool) -> Self {
        Self {
            secret: secret.into(),
            live,
        }
    }
}

type Keys = Box<dyn Fn() -> Vec<Held> + Send + Sync>;

/// The side of a fake whose keys the test can read straight from its
/// state: live keys are counted and a secret is accepted when the fake
/// holds it live, exactly as the fake's own authentication decides.
pub struct Ledger {
    credential: String,
    keys: Keys,
    scopes: Vec<String>,
    made_up: Option<String>,
    by_hand: Option<(String, String)>,
}

impl Ledger {
    /// `keys` reads the fake's keys; `credential` (the connection's own)
    /// is left out of the live count.
    pub fn new(credential: &str, keys: impl Fn() -> Vec<Held> + Send + Sync + 'static) -> Self {
        Self {
            credential: credential.to_owned(),
            keys: Box::new(keys),
            scopes: vec![],
            made_up: None,
            by_hand: None,
        }
    }

    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    pub fn made_up(mut self, key: &str) -> Self {
        self.made_up = Some(key.to_owned());
        self
    }

    /// The key a person made in the dashboard (the fake already holds it).
    pub fn by_hand(mut self, remote_id: &str, secret: &str) -> Self {
        self.by_hand = Some((remote_id.to_owned(), secret.to_owned()));
        self
    }
}

#[async_trait]
impl Side for Ledger {
    async fn live(&self) -> usize {
        (self.keys)()
            .iter()
            .filter(|k| k.live && k.secret != self.credential)
            .count()
    }

    async fn accepts(&self, secret: &Secret) -> bool {
        (self.keys)()
            .iter()
            .any(|k| k.live && k.secret == secret.expose_secret())
    }

    fn scopes(&self) -> Vec<String> {
        self.scopes.clone()
    }

    fn made_up(&self) -> Secret {
        Secret::new(self.made_up.as_deref().unwrap_or(MADE_UP))
    }

    async fn make_by_hand(&self, _name: &str) -> (String, Secret) {
        let (id, secret) = self.by_hand.as_ref().expect("this connector creates");
        (id.clone(), Secret::new(secret.as_str()))
    }
}

/// What a fixture starts: where the connection points, its credential,
/// and the service's side.
pub struct Started {
    pub base_url: String,
    pub project: String,
    pub dashboard_url: String,
    pub credential: Secret,
    pub side: Box<dyn Side>,
}

impl Started {
    pub fn new(base_url: &str, credential: &str, side: impl Side + 'static) -> Self {
        Self {
            base_url: base_url.to_owned(),
            project: String::new(),
            dashboard_url: String::new(),
            credential: Secret::new(credential),
            side: Box::new(side),
        }
    }

    pub fn project(mut self, project: &str) -> Self {
        self.project = project.to_owned();
        self
    }
}

/// The connection a person would record for `kind`, on a service started
/// for it, its credential and the service's side. Every kind has an arm:
/// a new one does not compile without one.
pub async fn fixture(kind: ProviderKind) -> (ProviderRecord, Secret, Box<dyn Side>) {
    let started = match kind {
        ProviderKind::Keyservice => reference::keyservice().await,
        ProviderKind::Manual => reference::manual().await,
        ProviderKind::Aws => aws::aws().await,
        ProviderKind::Github => fakes::github().await,
        ProviderKind::Netlify => fakes::netlify().await,
        ProviderKind::Gitlab => fakes::gitlab().await,
        ProviderKind::Vercel => fakes::vercel().await,
        ProviderKind::Cloudflare => fakes::cloudflare().await,
        ProviderKind::Dakora => fakes::dakora().await,
        ProviderKind::OpenAnimate => fakes::open_animate().await,
        ProviderKind::OpenRouter => fakes::openrouter().await,
        ProviderKind::OpenAi => fakes::openai().await,
        ProviderKind::Sendgrid => fakes::sendgrid().await,
        ProviderKind::Twilio => fakes::twilio().await,
    };
    let record = ProviderRecord {
        id: format!("contract-{}", kind.as_str()),
        kind,
        name: format!("contract {}", kind.as_str()),
        base_url: started.base_url,
        project: started.project,
        is_demo: false,
        created_at: "2026-01-01T00:00:00Z".into(),
        dashboard_url: started.dashboard_url,
    };
    (record, started.credential, started.side)
}
