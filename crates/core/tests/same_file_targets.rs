//! Several targets in one file in one rotation (issue 14): two variables of
//! one `.env`, written one after the other, each over what the write before
//! it left; both hold the new key after the rotation, and a rollback after
//! a later target failed undoes them newest first, leaving the file byte for
//! byte as before. Against the real key service, keychain, files and SQLite.

mod common;

use std::path::Path;

use common::*;
use latchkey_core::catalog::{TargetSpec, TargetStatus};
use latchkey_core::rotation::driver::{no_progress, RotationRequest};
use latchkey_core::rotation::State;
use latchkey_core::vault::{KeyView, ProviderView};
use latchkey_core::Vault;

struct Setup {
    _service: Service,
    dir: tempfile::TempDir,
    vault: Vault,
    _provider: ProviderView,
    old: KeyView,
    env_path: std::path::PathBuf,
    env_before: String,
}

async fn setup() -> Setup {
    let service = key_service(false).await;
    let OneKey {
        dir,
        vault,
        provider,
        key: old,
        secret: old_secret,
    } = one_key_vault(&service, "web backend").await;
    let env_path = dir.path().join(".env");
    // The second variable is not set yet: its rollback takes it out again.
    let env_before = format!(
        "# app\r\nDEMO_API_KEY='{}' # rotated\r\nexport DEBUG=1\r\nOTHER=\"x y\"",
        old_secret.expose_secret()
    );
    std::fs::write(&env_path, &env_before).expect("write .env");
    Setup {
        _service: service,
        dir,
        vault,
        _provider: provider,
        old,
        env_path,
        env_before,
    }
}

fn dotenv(path: &Path, var: &str) -> TargetSpec {
    TargetSpec::Dotenv {
        path: path.display().to_string(),
        var: var.into(),
        follow_symlink: false,
    }
}

fn env_value(path: &Path, var: &str) -> Option<String> {
    dotenvy::from_path_iter(path)
        .expect("parse")
        .map(|item| item.expect("item"))
        .find(|(k, _)| k == var)
        .map(|(_, v)| v)
}

#[tokio::test]
async fn two_variables_of_one_env_file_both_get_the_new_key() {
    let s = setup().await;
    let plan = s
        .vault
        .plan_rotation(RotationRequest {
            key_id: s.old.id.clone(),
            targets: vec![
                dotenv(&s.env_path, "DEMO_API_KEY"),
                dotenv(&s.env_path, "WORKER_API_KEY"),
            ],
        })
        .await
        .expect("planned");
    let done = s
        .vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    let new = stored_secret(&done.new_key_id);
    for var in ["DEMO_API_KEY", "WORKER_API_KEY"] {
        assert_eq!(
            env_value(&s.env_path, var).as_deref(),
            Some(new.expose_secret()),
            "{var}"
        );
    }
    let text = std::fs::read_to_string(&s.env_path).expect("read");
    assert!(text.starts_with("# app\r\nDEMO_API_KEY='"), "{text}");
    assert!(text.contains("' # rotated\r\nexport DEBUG=1\r\nOTHER=\"x y\""));
}

#[tokio::test]
async fn a_later_target_failing_rolls_both_variables_back_byte_for_byte() {
    let s = setup().await;
    let json = s.dir.path().join("settings.json");
    std::fs::write(&json, "{\"api\": {\"key\": \"old\"}}\n").expect("json");
    let plan = s
        .vault
        .plan_rotation(RotationRequest {
            key_id: s.old.id.clone(),
            targets: vec![
                dotenv(&s.env_path, "DEMO_API_KEY"),
                TargetSpec::Json {
                    path: json.display().to_string(),
                    key: "api.key".into(),
                    follow_symlink: false,
                },
                dotenv(&s.env_path, "WORKER_API_KEY"),
            ],
        })
        .await
        .expect("planned");
    // The JSON file changes after the plan: its write is refused.
    std::fs::write(&json, "{\"api\": {\"key\": \"theirs\"}}\n").expect("edit");
    let err = s
        .vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect_err("the JSON target fails");
    assert_eq!(err.code(), "dotenv_changed_on_disk");
    let view = s.vault.rotation(&plan.id).expect("view");
    for i in [0, 2] {
        assert_eq!(
            view.targets[i].status,
            TargetStatus::Deployed,
            "both variables of the .env were written: {:?}",
            view.targets[i].message
        );
    }
    let view = s
        .vault
        .rollback_rotation(&plan.id, &no_progress)
        .await
        .expect("rolled back");
    assert_eq!(view.state, State::RolledBack);
    assert_eq!(view.targets[0].status, TargetStatus::RolledBack);
    assert_eq!(view.targets[2].status, TargetStatus::RolledBack);
    assert_eq!(
        std::fs::read_to_string(&s.env_path).expect("read"),
        s.env_before,
        "the .env is byte for byte as before"
    );
    assert_eq!(
        std::fs::read_to_string(&json).expect("read"),
        "{\"api\": {\"key\": \"theirs\"}}\n"
    );
}
