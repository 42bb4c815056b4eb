//! A team's shared store as a deploy target: a reference-service key
//! rotated into a `.env`, an AWS Secrets Manager secret and an SSM
//! `SecureString` through an `aws` connection on moto (credentials
//! checked), each read back by fingerprint; a rotation that fails at its
//! last target rolls back and leaves every store as it was (an existing
//! secret holds the old key again, a parameter the deploy created is gone);
//! `deploy_key` puts the current key in a new parameter.

mod common;

use std::sync::Arc;

use common::moto::{set_up, Moto, SET_UP_CALLS};
use common::*;
use latchkey_core::aws::{AwsClient, Credentials, JsonService};
use latchkey_core::catalog::TargetSpec;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::http::HttpPolicy;
use latchkey_core::rotation::driver::RotationRequest;
use latchkey_core::rotation::State;
use latchkey_core::vault::NewServiceProvider;
use latchkey_core::{Secret, Vault};
use serde_json::json;

struct Stores {
    client: AwsClient,
    admin: Credentials,
}

impl Stores {
    async fn secret(&self, id: &str) -> Option<String> {
        match self
            .client
            .json(
                &self.admin,
                JsonService::SecretsManager,
                "GetSecretValue",
                &json!({ "SecretId": id }),
                true,
            )
            .await
        {
            Ok(v) => v["SecretString"].as_str().map(str::to_owned),
            Err(e) if e.code().as_str() == "not_found" => None,
            Err(e) => panic!("read {id}: {e}"),
        }
    }

    async fn parameter(&self, name: &str) -> Option<String> {
        match self
            .client
            .json(
                &self.admin,
                JsonService::Ssm,
                "GetParameter",
                &json!({ "Name": name, "WithDecryption": true }),
                true,
            )
            .await
        {
            Ok(v) => v["Parameter"]["Value"].as_str().map(str::to_owned),
            Err(e) if e.code().as_str() == "not_found" => None,
            Err(e) => panic!("read {name}: {e}"),
        }
    }
}

struct World {
    _moto: Moto,
    service: Service,
    _dir: tempfile::TempDir,
    vault: Vault,
    stores: Stores,
    key_id: String,
    old: Secret,
    env_path: std::path::PathBuf,
}

async fn world() -> World {
    let moto = Moto::start(SET_UP_CALLS);
    let admin = set_up(&moto).await;
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tmp");
    let vault = open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    let provider = add_provider(&vault, &service);
    let key = vault
        .create_key(new_key(&provider, "shared key"))
        .await
        .expect("key");
    let old = stored_secret(&key.id);
    vault
        .add_service_provider(NewServiceProvider {
            service: "aws".into(),
            name: "team".into(),
            base_url: Some(moto.base.clone()),
            project: None,
            credential: Some(admin.to_secret()),
            region: Some("eu-west-1".into()),
            user: None,
        })
        .expect("aws connection");
    let client =
        AwsClient::new(Some(&moto.base), "eu-west-1", HttpPolicy::default()).expect("client");
    // The team's secret exists already, holding the old key.
    client
        .json(
            &admin,
            JsonService::SecretsManager,
            "CreateSecret",
            &json!({ "Name": "team/api-key", "SecretString": old.expose_secret() }),
            false,
        )
        .await
        .expect("existing secret");
    let env_path = dir.path().join(".env");
    std::fs::write(&env_path, format!("DEMO_API_KEY={}\n", old.expose_secret())).expect("env");
    World {
        _moto: moto,
        service,
        _dir: dir,
        vault,
        stores: Stores { client, admin },
        key_id: key.id,
        old,
        env_path,
    }
}

fn targets(w: &World) -> Vec<TargetSpec> {
    vec![
        "aws-secret:team:team/api-key".parse().expect("spec"),
        "ssm:team:/team/api-key".parse().expect("spec"),
        TargetSpec::Dotenv {
            path: w.env_path.display().to_string(),
            var: "DEMO_API_KEY".into(),
            follow_symlink: false,
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_puts_the_new_key_in_the_shared_stores() {
    let w = world().await;
    let plan = w
        .vault
        .plan_rotation(RotationRequest {
            key_id: w.key_id.clone(),
            targets: targets(&w),
        })
        .await
        .expect("planned");
    let done = w
        .vault
        .run_rotation(&plan.id, &|_| {})
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done, "{done:?}");
    let new = stored_secret(&done.new_key_id);
    assert_eq!(
        w.stores.secret("team/api-key").await.as_deref(),
        Some(new.expose_secret())
    );
    assert_eq!(
        w.stores.parameter("/team/api-key").await.as_deref(),
        Some(new.expose_secret())
    );
    assert_eq!(w.service.verify_status(new.expose_secret()).await, 200);
    assert_eq!(w.service.verify_status(w.old.expose_secret()).await, 401);
    let described: Vec<String> = done.targets.iter().map(|t| t.spec.describe()).collect();
    assert!(
        described.contains(&"AWS secret team/api-key (via team)".to_owned())
            && described.contains(&"SSM parameter /team/api-key (via team)".to_owned()),
        "{described:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_rotation_leaves_every_store_as_it_was() {
    let w = world().await;
    let plan = w
        .vault
        .plan_rotation(RotationRequest {
            key_id: w.key_id.clone(),
            targets: targets(&w),
        })
        .await
        .expect("planned");
    // The .env changes behind our back: its deploy, the last, is refused.
    let changed = format!("DEMO_API_KEY={}\nEXTRA=1\n", w.old.expose_secret());
    std::fs::write(&w.env_path, &changed).expect("edit");
    let failed = w.vault.run_rotation(&plan.id, &|_| {}).await;
    assert_eq!(
        failed.expect_err("refused").code().as_str(),
        "dotenv_changed_on_disk"
    );
    let rolled = w
        .vault
        .rollback_rotation(&plan.id, &|_| {})
        .await
        .expect("rolled back");
    assert_eq!(rolled.state, State::RolledBack, "{rolled:?}");
    // The existing secret holds the old key again; the parameter the
    // deploy created is gone; the .env is as the person left it.
    assert_eq!(
        w.stores.secret("team/api-key").await.as_deref(),
        Some(w.old.expose_secret())
    );
    assert_eq!(w.stores.parameter("/team/api-key").await, None);
    assert_eq!(std::fs::read_to_string(&w.env_path).expect("env"), changed);
    assert_eq!(w.service.verify_status(w.old.expose_secret()).await, 200);
    // No backup (it held the old key) is left in the data folder.
    assert!(files_containing(w._dir.path(), w.old.expose_secret())
        .iter()
        .all(|f| f.ends_with(".env")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_puts_the_current_key_in_a_new_parameter_and_remembers_it() {
    let w = world().await;
    let done = w
        .vault
        .deploy_key(
            &w.key_id,
            vec!["ssm:team:/svc/worker/api-key".parse().expect("spec")],
        )
        .await
        .expect("deployed");
    assert_eq!(done.len(), 1);
    assert_eq!(
        w.stores.parameter("/svc/worker/api-key").await.as_deref(),
        Some(w.old.expose_secret())
    );
    let details = w.vault.key_details(&w.key_id).expect("details");
    assert_eq!(
        details.targets,
        vec![TargetSpec::Ssm {
            provider: "team".into(),
            name: "/svc/worker/api-key".into()
        }]
    );
    // A connection that is not there, or not AWS: refused before writing.
    for (spec, code) in [
        ("ssm:nobody:/x", "not_found"),
        ("ssm:Test service:/x", "not_found"),
    ] {
        let e = w
            .vault
            .deploy_key(&w.key_id, vec![spec.parse().expect("spec")])
            .await
            .expect_err(spec);
        assert_eq!(e.code().as_str(), code, "{spec}: {e}");
    }
    assert_eq!(w.stores.parameter("/x").await, None);
}
