//! Benchmark: a rotation against the loopback key service deploying to
//! three targets at once (a `.env` file, a GitHub Actions secret on the
//! fake GitHub API, an AWS Secrets Manager secret on `moto_server` with
//! credential checking on), versus the sum of its irreducible calls
//! measured in the same run: the key service's create, verify the new key,
//! revoke the old, verify the old (raw HTTP); GitHub's GET public key, PUT
//! of the sealed secret, GET of the secret; AWS's GetSecretValue,
//! PutSecretValue, GetSecretValue; one keychain write and read; one fsync'd
//! file replace. The raw calls run one after another; the rotation writes
//! its targets concurrently. Target: ≤ 1.5×. Rounds alternate which side
//! goes first.
//!
//! Where the gap goes is printed under the figure: the rotation's keychain
//! calls by kind and their time (the keychain is wrapped to count them;
//! `get provider` is a connection's token), its journal rows (catalog
//! writes, `synchronous=FULL`), the time between its progress views, and
//! each raw part's time.
//!
//! Needs moto and a Secret Service:
//! `source scripts/lib.sh; moto_ensure;
//! xvfb-run -a scripts/with-keyring.sh cargo bench -p latchkey-core --bench rotation_targets`

use latchkey_testkit::fakes::github as fake_github;
use latchkey_testkit::moto;

mod common;

use common::{median, ms, replace_file, TimedStore};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use latchkey_core::aws::{AwsClient, Credentials, JsonService};
use latchkey_core::catalog::TargetSpec;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::clock::SystemClock;
use latchkey_core::http::HttpPolicy;
use latchkey_core::rotation::driver::{RotationRequest, RotationView};
use latchkey_core::rotation::State;
use latchkey_core::store::{key_account, KeychainStore, SecretStore};
use latchkey_core::vault::{NewKey, NewProvider, NewServiceProvider};
use latchkey_core::{Secret, Vault};
use serde_json::{json, Value};

const ADMIN: &str = "bench-admin";
const REPO: &str = "octo/app";
const WARMUP: usize = 3;

/// What the raw side talks to.
struct Raw<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
    github: &'a str,
    aws: &'a AwsClient,
    admin: &'a Credentials,
    store: &'a TimedStore,
    env: &'a Path,
}

/// The raw parts, each timed (the sum is the figure).
#[derive(Default)]
struct Parts(Vec<(&'static str, Duration)>);

impl Parts {
    fn total(&self) -> Duration {
        self.0.iter().map(|(_, d)| *d).sum()
    }
}

/// Runs `f`, adds its time to `parts` as `name`.
macro_rules! part {
    ($parts:expr, $name:expr, $e:expr) => {{
        let t = Instant::now();
        let out = $e;
        $parts.0.push(($name, t.elapsed()));
        out
    }};
}

async fn aws_secret(raw: &Raw<'_>, action: &str, body: Value) -> Value {
    raw.aws
        .json(raw.admin, JsonService::SecretsManager, action, &body, true)
        .await
        .unwrap_or_else(|e| panic!("{action}: {e}"))
}

async fn raw_parts(raw: &Raw<'_>, old_key: &str, old_id: &str, n: usize) -> Parts {
    let mut p = Parts::default();
    let created: Value = part!(p, "key service create", {
        raw.http
            .post(format!("{}/api/projects/raw/api-keys", raw.base))
            .bearer_auth(ADMIN)
            .header("Idempotency-Key", format!("raw-{n}"))
            .json(&json!({"name": format!("raw {n}")}))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("json")
    });
    let key = created["key"].as_str().expect("key").to_owned();
    let back = part!(p, "keychain write + read", {
        raw.store
            .put("bench:targets-raw", &Secret::new(key.as_str()))
            .expect("keychain write");
        raw.store
            .get("bench:targets-raw")
            .expect("keychain read")
            .expect("held")
    });
    part!(
        p,
        "fsync'd file replace",
        replace_file(
            raw.env,
            format!("API_KEY={}\n", back.expose_secret()).as_bytes(),
        )
    );
    let secrets = format!("{}/repos/{REPO}/actions/secrets", raw.github);
    let public: Value = part!(p, "github GET public key", {
        raw.http
            .get(format!("{secrets}/public-key"))
            .bearer_auth(fake_github::TOKEN)
            .header("Accept", "application/vnd.github+json")
            .send()
            .await
            .expect("public key")
            .json()
            .await
            .expect("json")
    });
    let put = part!(p, "github seal + PUT", {
        let bytes: [u8; 32] = base64::engine::general_purpose::STANDARD
            .decode(public["key"].as_str().expect("key"))
            .expect("base64")
            .try_into()
            .expect("32 bytes");
        let sealed = crypto_box::PublicKey::from(bytes)
            .seal(&mut crypto_box::aead::OsRng, key.as_bytes())
            .expect("seal");
        raw.http
            .put(format!("{secrets}/RAW_API_KEY"))
            .bearer_auth(fake_github::TOKEN)
            .header("Accept", "application/vnd.github+json")
            .json(&json!({
                "encrypted_value": base64::engine::general_purpose::STANDARD.encode(sealed),
                "key_id": public["key_id"],
            }))
            .send()
            .await
            .expect("put")
    });
    assert_eq!(put.status(), 204);
    let meta = part!(p, "github GET secret", {
        raw.http
            .get(format!("{secrets}/RAW_API_KEY"))
            .bearer_auth(fake_github::TOKEN)
            .header("Accept", "application/vnd.github+json")
            .send()
            .await
            .expect("get")
    });
    assert_eq!(meta.status(), 200);
    part!(
        p,
        "aws GetSecretValue (before)",
        aws_secret(raw, "GetSecretValue", json!({"SecretId": "bench/raw"})).await
    );
    part!(
        p,
        "aws PutSecretValue",
        aws_secret(
            raw,
            "PutSecretValue",
            json!({"SecretId": "bench/raw", "SecretString": key}),
        )
        .await
    );
    let held = part!(
        p,
        "aws GetSecretValue (check)",
        aws_secret(raw, "GetSecretValue", json!({"SecretId": "bench/raw"})).await
    );
    assert_eq!(held["SecretString"].as_str(), Some(key.as_str()));
    let ok = part!(p, "key service verify new", {
        raw.http
            .get(format!("{}/v1/verify", raw.base))
            .bearer_auth(&key)
            .send()
            .await
            .expect("verify")
    });
    assert_eq!(ok.status(), 200);
    let gone = part!(p, "key service revoke old", {
        raw.http
            .delete(format!("{}/api/projects/raw/api-keys/{old_id}", raw.base))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("revoke")
    });
    assert_eq!(gone.status(), 204);
    let rejected = part!(p, "key service verify old", {
        raw.http
            .get(format!("{}/v1/verify", raw.base))
            .bearer_auth(old_key)
            .send()
            .await
            .expect("verify old")
    });
    assert_eq!(rejected.status(), 401);
    p
}

/// Makes the raw side's old key, runs the raw parts, then revokes every
/// live raw key so the project stays under the service's limit (only the
/// raw parts are timed).
async fn raw_round(raw: &Raw<'_>, n: usize) -> Parts {
    let old: Value = raw
        .http
        .post(format!("{}/api/projects/raw/api-keys", raw.base))
        .bearer_auth(ADMIN)
        .json(&json!({"name": format!("old {n}")}))
        .send()
        .await
        .expect("old")
        .json()
        .await
        .expect("json");
    let parts = raw_parts(
        raw,
        old["key"].as_str().expect("key"),
        old["id"].as_str().expect("id"),
        n,
    )
    .await;
    let listed: Value = raw
        .http
        .get(format!("{}/api/projects/raw/api-keys", raw.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    for k in listed["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter(|k| k["revoked_at"].is_null())
    {
        let id = k["id"].as_str().expect("id");
        raw.http
            .delete(format!("{}/api/projects/raw/api-keys/{id}", raw.base))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("cleanup");
    }
    parts
}

/// One timed rotation to the three targets; its progress marks and the new
/// key's id.
async fn rotation(
    vault: &Vault,
    key_id: &str,
    targets: Vec<TargetSpec>,
) -> (Duration, Vec<(State, Duration)>, RotationView) {
    let marks = Mutex::new(Vec::new());
    let t = Instant::now();
    let trace = |v: &RotationView| marks.lock().expect("marks").push((v.state, t.elapsed()));
    let plan = vault
        .plan_rotation(RotationRequest {
            key_id: key_id.to_owned(),
            targets,
        })
        .await
        .expect("plan");
    let done = vault.run_rotation(&plan.id, &trace).await.expect("run");
    let elapsed = t.elapsed();
    assert_eq!(done.state, State::Done, "{done:?}");
    (elapsed, marks.into_inner().expect("marks"), done)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds: usize = std::env::var("LK_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    // The key service.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    // Its limits stay out of the way: every round verifies a revoked key
    // twice (failed authentications) and makes a dozen admin calls, faster
    // than the defaults forgive on a quick machine.
    let mut config = latchkey_keyservice::Config::new(ADMIN);
    config.rate_limit = latchkey_keyservice::RateLimit {
        per_second: 10_000.0,
        burst: 10_000.0,
    };
    config.auth_failure_limit = latchkey_keyservice::AuthFailureLimit {
        burst: 10_000.0,
        per_second: 10_000.0,
    };
    let (addr, _service) = latchkey_keyservice::start(listener, config)
        .await
        .expect("key service");
    let base = format!("http://{addr}");
    // GitHub: the vault's secret and the raw side's, both existing.
    let github = fake_github::FakeGithub::start().await;
    github.add_repo(REPO);
    github.seed(REPO, None, "API_KEY", "placeholder");
    github.seed(REPO, None, "RAW_API_KEY", "placeholder");
    // AWS: the vault's secret and the raw side's, both existing.
    let moto = moto::Moto::start(moto::SET_UP_CALLS);
    let admin = moto::set_up(&moto).await;
    let aws = AwsClient::new(Some(&moto.base), "eu-west-1", HttpPolicy::default()).expect("aws");

    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(TimedStore {
        inner: KeychainStore::open_service("latchkey-bench").expect("keychain"),
        calls: Mutex::new(Vec::new()),
    });
    let vault = Vault::open(
        &dir.path().join("data"),
        store.clone(),
        Arc::new(MemoryClipboard::default()),
        Arc::new(SystemClock),
    )
    .expect("vault");
    let provider = vault
        .add_provider(NewProvider {
            name: "Bench".into(),
            base_url: base.clone(),
            admin_token: Secret::new(ADMIN),
            project: "bench".into(),
        })
        .expect("provider");
    vault
        .add_service_provider(NewServiceProvider {
            service: "github".into(),
            name: "gh".into(),
            base_url: Some(github.base.clone()),
            project: None,
            credential: Some(Secret::new(fake_github::TOKEN)),
            region: None,
            user: None,
        })
        .expect("github connection");
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
    let key = vault
        .create_key(NewKey {
            provider_id: provider.id.clone(),
            name: "bench".into(),
            scopes: vec![],
            expires_in_days: None,
            environment: String::new(),
            env_var: "API_KEY".into(),
        })
        .await
        .expect("key");
    let mut key_id = key.id;
    let first = store
        .get(&key_account(&key_id))
        .expect("keychain")
        .expect("secret");
    for (name, value) in [("bench/api-key", first.expose_secret()), ("bench/raw", "x")] {
        aws.json(
            &admin,
            JsonService::SecretsManager,
            "CreateSecret",
            &json!({"Name": name, "SecretString": value}),
            false,
        )
        .await
        .expect("CreateSecret");
    }
    let env = dir.path().join(".env");
    std::fs::write(
        &env,
        format!("# bench\nAPI_KEY={}\nPORT=1\n", first.expose_secret()),
    )
    .expect("env");
    let raw_env = dir.path().join("raw.env");
    std::fs::write(&raw_env, "API_KEY=x\n").expect("raw env");
    let targets = || {
        vec![
            TargetSpec::Dotenv {
                path: env.display().to_string(),
                var: "API_KEY".into(),
                follow_symlink: false,
            },
            TargetSpec::Github {
                provider: "gh".into(),
                repo: REPO.into(),
                secret: "API_KEY".into(),
                environment: None,
            },
            TargetSpec::AwsSecret {
                provider: "team".into(),
                secret_id: "bench/api-key".into(),
            },
        ]
    };
    let http = reqwest::Client::new();
    let raw = Raw {
        http: &http,
        base: &base,
        github: &github.base,
        aws: &aws,
        admin: &admin,
        store: &store,
        env: &raw_env,
    };

    let (mut ours, mut raws) = (Vec::new(), Vec::new());
    let mut raw_parts: BTreeMap<(usize, &'static str), Vec<Duration>> = BTreeMap::new();
    let mut phases: BTreeMap<(usize, String), Vec<Duration>> = BTreeMap::new();
    let mut costs = Vec::new();
    for n in 0..rounds + WARMUP {
        let ours_first = n % 2 == 1;
        let mut round = None;
        if ours_first {
            store.take();
            round = Some((rotation(&vault, &key_id, targets()).await, store.take()));
        }
        let parts = raw_round(&raw, n).await;
        if !ours_first {
            store.take();
            round = Some((rotation(&vault, &key_id, targets()).await, store.take()));
        }
        let ((t, marks, done), keychain) = round.expect("rotated");
        let rows = vault.rotation_journal(&done.id).expect("journal").len();
        key_id = done.new_key_id;
        // Every target holds the new key (not timed).
        let new = store
            .get(&key_account(&key_id))
            .expect("keychain")
            .expect("new key");
        assert_eq!(
            github.plaintext(REPO, None, "API_KEY").as_deref(),
            Some(new.expose_secret())
        );
        if n < WARMUP {
            continue;
        }
        ours.push(t);
        raws.push(parts.total());
        costs.push((keychain, rows));
        for (i, (name, d)) in parts.0.into_iter().enumerate() {
            raw_parts.entry((i, name)).or_default().push(d);
        }
        let mut prev: Option<(State, Duration)> = None;
        for (i, &(state, at)) in marks.iter().enumerate() {
            let (label, since) = match prev {
                None => (format!("plan -> {state:?}"), Duration::ZERO),
                Some((p, since)) => (format!("{p:?} -> {state:?}"), since),
            };
            phases.entry((i, label)).or_default().push(at - since);
            prev = Some((state, at));
        }
    }
    let _ = store.delete("bench:targets-raw");

    let (o, r) = (median(ours), median(raws));
    println!(
        "rotation with .env + GitHub + AWS secret ({rounds} rounds, medians): latchkey {:.1} ms \
         vs raw calls {:.1} ms = {:.2}x (target <= 1.5x)",
        ms(o),
        ms(r),
        o.as_secs_f64() / r.as_secs_f64()
    );
    if let Some((last, rows)) = costs.last() {
        println!(
            "  latchkey: {} keychain calls ({}) taking {:.1} ms (median), {rows} journal rows",
            last.0.len(),
            last.summary(),
            ms(median(costs.iter().map(|(k, _)| k.time()).collect()))
        );
    }
    println!("  latchkey phases (medians):");
    for ((_, label), v) in phases {
        println!("    {label:<24} {:7.2} ms", ms(median(v)));
    }
    println!("  raw parts (medians):");
    for ((_, name), v) in raw_parts {
        println!("    {name:<28} {:7.2} ms", ms(median(v)));
    }
}
