//! The rotation driver's mutation tests' shared bench: a vault with one
//! key in a `.env`, on the key service (`mutants_driver*.rs`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use crate::common::*;
use latchkey_core::catalog::{JournalEntry, TargetSpec};
use latchkey_core::rotation::driver::{no_progress, RotationRequest, RotationView};
use latchkey_core::vault::{KeyView, ProviderView};
use latchkey_core::{Secret, Vault};

pub const VAR: &str = "DEMO_API_KEY";

pub struct Bench {
    pub service: Service,
    pub dir: tempfile::TempDir,
    pub vault: Vault,
    pub _provider: ProviderView,
    pub old: KeyView,
    pub old_secret: Secret,
    pub env: PathBuf,
}

pub async fn bench() -> Bench {
    bench_with(key_service(false).await).await
}

/// A vault with the key `web` in a `.env`, on `service`.
pub async fn bench_with(service: Service) -> Bench {
    let OneKey {
        dir,
        vault,
        provider,
        key: old,
        secret: old_secret,
    } = one_key_vault(&service, "web").await;
    let env = dir.path().join(".env");
    std::fs::write(&env, format!("{VAR}={}\n", old_secret.expose_secret())).expect("env");
    Bench {
        service,
        dir,
        vault,
        _provider: provider,
        old,
        old_secret,
        env,
    }
}

impl Bench {
    /// Plans a rotation and runs it once with every answer lost (each call
    /// carried out, its answer replaced by a 500): the run fails after its
    /// create. The rotation's id, and its new key's name on the service.
    pub async fn lose_a_first_run(&self) -> (String, String) {
        let id = self.plan().await;
        self.service
            .chaos(serde_json::json!({ "fail_next": 50, "status": 500, "phase": "after" }))
            .await;
        self.vault
            .run_rotation(&id, &no_progress)
            .await
            .expect_err("every answer lost");
        self.service
            .chaos(serde_json::json!({ "fail_next": 0 }))
            .await;
        let name = format!("web (rotation {})", &id[..8]);
        (id, name)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub async fn plan(&self) -> String {
        self.vault
            .plan_rotation(RotationRequest {
                key_id: self.old.id.clone(),
                targets: vec![dotenv(&self.env)],
            })
            .await
            .expect("planned")
            .id
    }

    /// Plans a rotation into the `.env` and a one-item checklist and runs
    /// it until it waits for the checklist: its id and view.
    pub async fn run_to_checklist(&self) -> (String, RotationView) {
        let id = self
            .vault
            .plan_rotation(RotationRequest {
                key_id: self.old.id.clone(),
                targets: vec![
                    dotenv(&self.env),
                    TargetSpec::Manual {
                        items: vec!["CI secret".into()],
                    },
                ],
            })
            .await
            .expect("planned")
            .id;
        let waiting = self
            .vault
            .run_rotation(&id, &no_progress)
            .await
            .expect("waits for the checklist");
        (id, waiting)
    }

    pub fn journal(&self, id: &str) -> Vec<String> {
        steps(&self.vault.rotation_journal(id).expect("journal"))
    }
}

pub fn dotenv(path: &Path) -> TargetSpec {
    TargetSpec::Dotenv {
        path: path.display().to_string(),
        var: VAR.into(),
        follow_symlink: false,
    }
}

pub fn steps(journal: &[JournalEntry]) -> Vec<String> {
    journal
        .iter()
        .map(|e| format!("{}:{}", e.step, e.phase))
        .collect()
}

pub fn ids(views: &[RotationView]) -> Vec<&str> {
    views.iter().map(|v| v.id.as_str()).collect()
}

/// Uses `key` on the service from inside a running rotation's progress
/// callback (a blocking call: the run waits for it), a second later than
/// anything journaled so far.
pub fn use_key_a_second_later(service: &Service, key: &str) -> u16 {
    tokio::task::block_in_place(|| {
        std::thread::sleep(std::time::Duration::from_millis(1100));
        tokio::runtime::Handle::current().block_on(service.verify_status(key))
    })
}
