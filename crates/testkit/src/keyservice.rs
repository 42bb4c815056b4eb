//! The reference key service (`latchkey-keyservice`) on a loopback port,
//! started in the test's own runtime, and an admin client for it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use latchkey_keyservice::{start, AuthFailureLimit, Config, ShutdownHandle};
use serde_json::{json, Value};

/// Starts the key service with `config` on `addr` (`127.0.0.1:0` for a
/// free port); returns its base URL (`http://127.0.0.1:PORT`) and the
/// handle that stops it. A port that a service just stopped may take a
/// moment to be free: binding is tried for up to 5 s.
pub async fn serve_on(addr: &str, config: Config) -> (String, ShutdownHandle) {
    let mut tries = 0;
    let listener = loop {
        match std::net::TcpListener::bind(addr) {
            Ok(listener) => break listener,
            Err(_) if tries < 50 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("bind {addr}: {e}"),
        }
    };
    let (bound, handle) = start(listener, config).await.expect("key service starts");
    (format!("http://{bound}"), handle)
}

/// [`serve_on`] a free loopback port.
pub async fn serve(config: Config) -> (String, ShutdownHandle) {
    serve_on("127.0.0.1:0", config).await
}

/// A running key service and an admin client for it: what a test sees on
/// the service itself, not through Latchkey.
pub struct Service {
    pub base: String,
    pub http: reqwest::Client,
    admin: String,
    handle: ShutdownHandle,
    data: Option<PathBuf>,
    chaos: bool,
}

impl Service {
    /// Starts a key service whose admin token is `admin`, with the chaos
    /// endpoint when `chaos`, keeping its state in `data` when given (it
    /// survives a [`Service::restart`]).
    pub async fn start(admin: &str, chaos: bool, data: Option<&Path>) -> Service {
        Self::start_on("127.0.0.1:0", admin, chaos, data).await
    }

    async fn start_on(addr: &str, admin: &str, chaos: bool, data: Option<&Path>) -> Service {
        let mut config = Config::new(admin);
        config.chaos = chaos;
        // The service locks an address out after 20 failed sign-ins in a
        // row, forgiving 5 a second (its own suite tests that). Latchkey's
        // suites fail sign-ins on purpose, fast: every confirmed revoke and
        // every "the old key is rejected" check is one. On loopback every
        // client shares one address, so a suite that only got quicker (the
        // race test's 200 rounds) would be locked out, its admin calls too.
        config.auth_failure_limit = AuthFailureLimit {
            burst: 10_000.0,
            per_second: 1_000.0,
        };
        config.data_file = data.map(Path::to_path_buf);
        let (base, handle) = serve_on(addr, config).await;
        Service {
            base,
            http: reqwest::Client::new(),
            admin: admin.to_owned(),
            handle,
            data: data.map(Path::to_path_buf),
            chaos,
        }
    }

    /// Stops the service and starts it again on the same address from its
    /// data file, as a restart of the server would.
    pub async fn restart(self) -> Service {
        let addr = self.base.trim_start_matches("http://").to_owned();
        let (admin, data, chaos) = (self.admin.clone(), self.data.clone(), self.chaos);
        self.handle.shutdown().await;
        Self::start_on(&addr, &admin, chaos, data.as_deref()).await
    }

    fn keys_url(&self, project: &str) -> String {
        format!("{}/api/projects/{project}/api-keys", self.base)
    }

    /// The status `GET /v1/verify` answers for `key`.
    pub async fn verify_status(&self, key: &str) -> u16 {
        self.http
            .get(format!("{}/v1/verify", self.base))
            .bearer_auth(key)
            .send()
            .await
            .expect("verify")
            .status()
            .as_u16()
    }

    /// Every key of `project`, revoked ones included.
    pub async fn keys_in(&self, project: &str) -> Vec<Value> {
        let body: Value = self
            .http
            .get(self.keys_url(project))
            .bearer_auth(&self.admin)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        body["keys"].as_array().expect("keys").clone()
    }

    /// The unrevoked keys of `project`.
    pub async fn live_in(&self, project: &str) -> Vec<Value> {
        self.keys_in(project)
            .await
            .into_iter()
            .filter(|k| k["revoked_at"].is_null())
            .collect()
    }

    /// Makes a key in `project` behind Latchkey's back; the service's
    /// answer (with the key itself).
    pub async fn create_in(&self, project: &str, name: &str) -> Value {
        self.http
            .post(self.keys_url(project))
            .bearer_auth(&self.admin)
            .json(&json!({ "name": name }))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("json")
    }

    /// Revokes a key of `project` behind Latchkey's back.
    pub async fn revoke_in(&self, project: &str, remote_id: &str) {
        let resp = self
            .http
            .delete(format!("{}/{remote_id}", self.keys_url(project)))
            .bearer_auth(&self.admin)
            .send()
            .await
            .expect("revoke");
        assert_eq!(resp.status(), 204);
    }

    /// Arms the chaos endpoint (`../shared/keyservice-api.md`).
    pub async fn chaos(&self, body: Value) {
        let resp = self
            .http
            .post(format!("{}/__chaos", self.base))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .expect("arm");
        assert_eq!(resp.status(), 200);
    }
}
