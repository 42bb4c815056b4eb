//! Benchmark: an AWS IAM access key rotation through the vault against
//! `moto_server` (started here on loopback with credential checking on, as
//! the AWS tests do), versus the sum of its irreducible calls measured in
//! the same run, made raw with `AwsClient`: CreateAccessKey, STS
//! GetCallerIdentity with the new key, UpdateAccessKey Inactive and
//! DeleteAccessKey on the old key, GetCallerIdentity with the old key; plus
//! one keychain write and read and one fsync'd file replace. Target: ≤ 1.5×.
//!
//! AWS rotations default to deactivate first: the first run stops once the
//! old key is switched off, a second run deletes it. Both runs are timed.
//! A second figure times an overlap rotation (no deactivate) against the
//! raw sum without its UpdateAccessKey call. moto accepts a new key at
//! once, so `verify_new` must answer on its first try: a verify phase of a
//! second or more (its first pause) fails the run. Rounds rotate which of
//! the three goes first; each leaves exactly one key on its IAM user.
//!
//! Where the gap goes is printed under the figures: the rotation's
//! keychain calls by kind and their time (the keychain is wrapped to count
//! them), its journal rows (catalog writes, `synchronous=FULL`), the time
//! between its progress views, and each raw part's time.
//!
//! Needs moto and a Secret Service:
//! `source scripts/lib.sh; moto_ensure;
//! xvfb-run -a scripts/with-keyring.sh cargo bench -p latchkey-core --bench aws_rotation`

use latchkey_testkit::moto;

mod common;

use common::{median, ms, replace_file, Keychain, TimedStore};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use latchkey_core::aws::{AwsClient, Credentials};
use latchkey_core::catalog::TargetSpec;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::clock::SystemClock;
use latchkey_core::http::HttpPolicy;
use latchkey_core::rotation::driver::{RotationRequest, RotationView};
use latchkey_core::rotation::{State, Strategy};
use latchkey_core::store::{key_account, KeychainStore, SecretStore};
use latchkey_core::vault::{NewKey, NewServiceProvider};
use latchkey_core::{Secret, Vault};

/// The IAM user whose key the vault rotates; the raw calls rotate another
/// user's, so each stays within AWS's two keys per user.
const USER: &str = "app";
const RAW_USER: &str = "raw";
const WARMUP: usize = 2;

/// CreateAccessKey for `user`: its pair.
async fn create_access_key(client: &AwsClient, admin: &Credentials, user: &str) -> Credentials {
    let created = client
        .iam(admin, "CreateAccessKey", &[("UserName", user)], false)
        .await
        .expect("CreateAccessKey");
    let field = |name: &str| {
        created
            .text_at(&["CreateAccessKeyResult", "AccessKey", name])
            .expect(name)
            .to_owned()
    };
    Credentials::parse(&Secret::new(format!(
        "{}:{}",
        field("AccessKeyId"),
        field("SecretAccessKey")
    )))
    .expect("pair")
}

/// How many keys `user` has.
async fn key_count(client: &AwsClient, admin: &Credentials, user: &str) -> usize {
    client
        .iam(admin, "ListAccessKeys", &[("UserName", user)], true)
        .await
        .expect("ListAccessKeys")
        .at(&["ListAccessKeysResult", "AccessKeyMetadata"])
        .expect("metadata")
        .all("member")
        .count()
}

/// The raw parts, each timed (their sum is the figure).
#[derive(Default)]
struct Parts(Vec<(&'static str, Duration)>);

impl Parts {
    fn total(&self) -> Duration {
        self.0.iter().map(|(_, d)| *d).sum()
    }

    /// The UpdateAccessKey call (an overlap rotation does without).
    fn deactivate(&self) -> Duration {
        self.0
            .iter()
            .filter(|(name, _)| *name == DEACTIVATE)
            .map(|(_, d)| *d)
            .sum()
    }
}

const DEACTIVATE: &str = "UpdateAccessKey Inactive";

/// Runs `$e`, adds its time to `$parts` as `$name`.
macro_rules! part {
    ($parts:expr, $name:expr, $e:expr) => {{
        let t = Instant::now();
        let out = $e;
        $parts.0.push(($name, t.elapsed()));
        out
    }};
}

/// The irreducible parts of a deactivate-first rotation of `old`, in the
/// vault's order; returns the new pair (the next round's old one).
async fn raw_rotation(
    client: &AwsClient,
    admin: &Credentials,
    store: &TimedStore,
    env: &Path,
    old: &Credentials,
) -> (Credentials, Parts) {
    let mut p = Parts::default();
    let new = part!(
        p,
        "CreateAccessKey",
        create_access_key(client, admin, RAW_USER).await
    );
    let back = part!(p, "keychain write + read", {
        store
            .put("bench:aws-raw", &new.to_secret())
            .expect("keychain write");
        store
            .get("bench:aws-raw")
            .expect("keychain read")
            .expect("held")
    });
    part!(
        p,
        "fsync'd file replace",
        replace_file(
            env,
            format!("AWS_KEY_PAIR={}\n", back.expose_secret()).as_bytes(),
        )
    );
    let accepted = part!(
        p,
        "GetCallerIdentity new",
        client.caller_identity(&new).await
    );
    assert!(
        accepted.expect("GetCallerIdentity new").is_some(),
        "moto accepts a new key at once"
    );
    let old_id = old.access_key_id.as_str();
    part!(
        p,
        DEACTIVATE,
        client
            .iam(
                admin,
                "UpdateAccessKey",
                &[
                    ("AccessKeyId", old_id),
                    ("Status", "Inactive"),
                    ("UserName", RAW_USER),
                ],
                true,
            )
            .await
            .expect("UpdateAccessKey")
    );
    part!(
        p,
        "DeleteAccessKey",
        client
            .iam(
                admin,
                "DeleteAccessKey",
                &[("AccessKeyId", old_id), ("UserName", RAW_USER)],
                true,
            )
            .await
            .expect("DeleteAccessKey")
    );
    let rejected = part!(
        p,
        "GetCallerIdentity old",
        client.caller_identity(old).await
    );
    assert!(
        rejected.expect("GetCallerIdentity old").is_none(),
        "a deleted key is rejected"
    );
    (new, p)
}

/// Each progress view's state and when it came (since the rotation began).
type Marks = Mutex<Vec<(State, Duration)>>;

/// One timed rotation of `key_id` (both runs for deactivate first), its
/// marks, and how it ended.
async fn vault_rotation(
    vault: &Vault,
    key_id: &str,
    env: &Path,
    strategy: Option<Strategy>,
) -> (Duration, Vec<(State, Duration)>, RotationView) {
    let marks: Marks = Mutex::new(Vec::new());
    let t = Instant::now();
    let trace = |v: &RotationView| marks.lock().expect("marks").push((v.state, t.elapsed()));
    let plan = vault
        .plan_rotation_with(
            RotationRequest {
                key_id: key_id.to_owned(),
                targets: vec![TargetSpec::Dotenv {
                    path: env.display().to_string(),
                    var: "AWS_KEY_PAIR".into(),
                    follow_symlink: false,
                }],
            },
            strategy,
        )
        .await
        .expect("plan");
    let first = vault.run_rotation(&plan.id, &trace).await.expect("run");
    let done = if plan.strategy == Strategy::DeactivateFirst {
        assert_eq!(first.state, State::OldDeactivated, "{first:?}");
        vault
            .run_rotation(&plan.id, &trace)
            .await
            .expect("delete the old key")
    } else {
        first
    };
    let elapsed = t.elapsed();
    assert_eq!(done.state, State::Done, "{done:?}");
    let marks = marks.into_inner().expect("marks");
    (elapsed, marks, done)
}

/// The time between consecutive progress views, keyed by position and
/// states (the first segment is the plan, up to the first view).
fn phases(marks: &[(State, Duration)], into: &mut BTreeMap<(usize, String), Vec<Duration>>) {
    let mut prev: Option<(State, Duration)> = None;
    for (i, &(state, at)) in marks.iter().enumerate() {
        let (label, since) = match prev {
            None => (format!("plan -> {state:?}"), Duration::ZERO),
            Some((p, since)) => (format!("{p:?} -> {state:?}"), since),
        };
        into.entry((i, label)).or_default().push(at - since);
        prev = Some((state, at));
    }
}

/// The verify phase (Deployed → Verified): under a second, so `verify_new`
/// answered on its first try (its first pause is one second).
fn verify_phase(marks: &[(State, Duration)]) -> Duration {
    let at = |s: State| {
        marks
            .iter()
            .find(|(state, _)| *state == s)
            .map(|(_, at)| *at)
            .unwrap_or_else(|| panic!("no {s:?} in {marks:?}"))
    };
    let verify = at(State::Verified) - at(State::Deployed);
    assert!(
        verify < Duration::from_secs(1),
        "verify took {verify:?}: verify_new waited for propagation"
    );
    verify
}

/// The keychain calls, their time and the journal rows of one kind of
/// rotation (the last round's calls, the median time).
fn print_costs(name: &str, costs: Vec<(Keychain, usize)>) {
    let Some((last, rows)) = costs.last() else {
        return;
    };
    println!(
        "  {name}: {} keychain calls ({}) taking {:.1} ms (median), {rows} journal rows",
        last.0.len(),
        last.summary(),
        ms(median(costs.iter().map(|(k, _)| k.time()).collect()))
    );
}

fn print_phases(name: &str, phases: BTreeMap<(usize, String), Vec<Duration>>) {
    println!("  {name} (medians):");
    for ((_, label), v) in phases {
        println!("    {label:<34} {:7.2} ms", ms(median(v)));
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds: usize = std::env::var("LK_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let moto = moto::Moto::start(moto::SET_UP_CALLS);
    let admin = moto::set_up(&moto).await;
    let client =
        AwsClient::new(Some(&moto.base), "us-east-1", HttpPolicy::default()).expect("client");
    client
        .iam(&admin, "CreateUser", &[("UserName", RAW_USER)], false)
        .await
        .expect("raw user");
    let mut raw_old = create_access_key(&client, &admin, RAW_USER).await;

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
        .add_service_provider(NewServiceProvider {
            service: "aws".into(),
            name: "bench aws".into(),
            base_url: Some(moto.base.clone()),
            project: None,
            credential: Some(admin.to_secret()),
            region: None,
            user: Some(USER.into()),
        })
        .expect("aws connection");
    let key = vault
        .create_key(NewKey {
            provider_id: provider.id.clone(),
            name: "bench".into(),
            scopes: vec![],
            expires_in_days: None,
            environment: String::new(),
            env_var: "AWS_KEY_PAIR".into(),
        })
        .await
        .expect("key");
    let mut key_id = key.id;
    let env = dir.path().join(".env");
    let first = store
        .get(&key_account(&key_id))
        .expect("keychain")
        .expect("secret");
    std::fs::write(
        &env,
        format!(
            "# bench\nAWS_KEY_PAIR={}\nREGION=us-east-1\n",
            first.expose_secret()
        ),
    )
    .expect("env");
    let raw_env = dir.path().join("raw.env");
    std::fs::write(&raw_env, "AWS_KEY_PAIR=x\n").expect("raw env");

    let (mut raw, mut raw_overlap, mut deact, mut overlap) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut deact_phases, mut overlap_phases) = (BTreeMap::new(), BTreeMap::new());
    let mut raw_parts: BTreeMap<(usize, String), Vec<Duration>> = BTreeMap::new();
    let (mut deact_costs, mut overlap_costs) = (Vec::new(), Vec::new());
    let mut slowest_verify = Duration::ZERO;
    for n in 0..rounds + WARMUP {
        // Which goes first turns each round.
        for side in (0..3).map(|k| (k + n) % 3) {
            match side {
                0 => {
                    let (new, p) = raw_rotation(&client, &admin, &store, &raw_env, &raw_old).await;
                    raw_old = new;
                    if n >= WARMUP {
                        raw.push(p.total());
                        raw_overlap.push(p.total() - p.deactivate());
                        for (i, (name, d)) in p.0.into_iter().enumerate() {
                            raw_parts.entry((i, name.to_owned())).or_default().push(d);
                        }
                    }
                }
                _ => {
                    let strategy = (side == 2).then_some(Strategy::Overlap);
                    store.take();
                    let (t, marks, done) = vault_rotation(&vault, &key_id, &env, strategy).await;
                    let keychain = store.take();
                    let rows = vault.rotation_journal(&done.id).expect("journal").len();
                    key_id = done.new_key_id;
                    slowest_verify = slowest_verify.max(verify_phase(&marks));
                    if n >= WARMUP {
                        let costs = if side == 1 {
                            &mut deact_costs
                        } else {
                            &mut overlap_costs
                        };
                        costs.push((keychain, rows));
                        if side == 1 {
                            deact.push(t);
                            phases(&marks, &mut deact_phases);
                        } else {
                            overlap.push(t);
                            phases(&marks, &mut overlap_phases);
                        }
                    }
                }
            }
        }
        // Each round leaves one key per user (not timed).
        assert_eq!(key_count(&client, &admin, USER).await, 1);
        assert_eq!(key_count(&client, &admin, RAW_USER).await, 1);
    }
    let _ = store.delete("bench:aws-raw");

    let (d, r) = (median(deact), median(raw));
    let (o, ro) = (median(overlap), median(raw_overlap));
    println!(
        "aws rotation (deactivate first, both runs; 1 .env target; moto; {rounds} rounds, medians): \
         latchkey {:.1} ms vs raw calls {:.1} ms = {:.2}x (target <= 1.5x)",
        ms(d),
        ms(r),
        d.as_secs_f64() / r.as_secs_f64()
    );
    println!(
        "aws rotation (overlap): latchkey {:.1} ms vs raw calls without UpdateAccessKey {:.1} ms \
         = {:.2}x (target <= 1.5x)",
        ms(o),
        ms(ro),
        o.as_secs_f64() / ro.as_secs_f64()
    );
    println!(
        "  no propagation wait: slowest verify phase {:.1} ms (a wait is >= 1000 ms)",
        ms(slowest_verify)
    );
    for (name, costs) in [
        ("deactivate first", deact_costs),
        ("overlap", overlap_costs),
    ] {
        print_costs(name, costs);
    }
    print_phases("deactivate first phases", deact_phases);
    print_phases("overlap phases", overlap_phases);
    print_phases("raw parts", raw_parts);
}
