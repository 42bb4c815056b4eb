//! Two processes, one Demo state file: the desktop app (played here by this
//! test through latchkey-core and latchkey-keyservice, as `src-tauri` does
//! it) and the real `latchkey` binary, on one data directory and keychain.
//! Only one of them serves the Demo service at a time; the other uses it;
//! keys made through either are seen by both; and when the serving process
//! goes away, the next one to start takes over from the state it saved —
//! so a key made through the process that did *not* serve survives.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::clock::SystemClock;
use latchkey_core::paths::DEMO_DATA_FILE;
use latchkey_core::store::KeychainStore;
use latchkey_core::vault::NewKey;
use latchkey_core::{Secret, Vault};
use latchkey_keyservice::{start_demo, DemoService};
use serde_json::Value;

/// The desktop app's side: the vault as `src-tauri`'s `open()` opens it.
fn app_vault(data: &Path) -> Vault {
    // Right after the private keyring session starts, its login collection
    // is now and then still locked for a moment (seen as `KeychainLocked`
    // on the very first call); give it a few seconds.
    let deadline = Instant::now() + Duration::from_secs(10);
    let store = loop {
        match KeychainStore::open() {
            Ok(store) => break Arc::new(store),
            Err(latchkey_core::Error::KeychainLocked) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("real keychain: {e:?}"),
        }
    };
    Vault::open(
        data,
        store,
        Arc::new(MemoryClipboard::default()),
        Arc::new(SystemClock),
    )
    .expect("vault")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

/// The Demo project's keys, as the service at `addr` lists them.
async fn demo_keys(addr: &str, token: &Secret) -> Vec<Value> {
    let body: Value = http()
        .get(format!("http://{addr}/api/projects/demo/api-keys"))
        .bearer_auth(token.expose_secret())
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    body["keys"].as_array().expect("keys").clone()
}

fn names(keys: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = keys
        .iter()
        .map(|k| k["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

async fn verify(addr: &str, key: &Secret) -> u16 {
    http()
        .get(format!("http://{addr}/v1/verify"))
        .bearer_auth(key.expose_secret())
        .send()
        .await
        .expect("verify")
        .status()
        .as_u16()
}

/// A child process that is killed if the test ends early.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn demo_key(vault: &Vault, name: &str) -> NewKey {
    let demo = vault
        .providers()
        .expect("providers")
        .into_iter()
        .find(|p| p.is_demo)
        .expect("the Demo provider is recorded");
    NewKey {
        provider_id: demo.id,
        name: name.into(),
        scopes: vec!["read".into()],
        expires_in_days: None,
        environment: String::new(),
        env_var: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_demo_state_file_is_served_by_one_process_at_a_time() {
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    std::fs::create_dir_all(&cli.data).expect("data dir");
    let state = cli.data.join(DEMO_DATA_FILE);
    let addr_file = cli.data.join(format!("{DEMO_DATA_FILE}.addr"));

    // 1. The app runs first: it serves the Demo, records it, makes a key, quits.
    let app = app_vault(&cli.data);
    let token = app.demo_admin_token().expect("demo token");
    let (first_addr, handle) = match start_demo(state.clone(), token.expose_secret()).await {
        Ok(DemoService::Started { addr, handle }) => (addr, handle),
        other => panic!("nobody served the file yet, so the app serves it: {other:?}"),
    };
    app.ensure_demo_provider(&format!("http://{first_addr}"), &token)
        .expect("demo provider");
    app.create_key(demo_key(&app, "made by the app"))
        .await
        .expect("app key");
    handle.shutdown().await;
    assert!(!addr_file.exists(), "a stopped owner withdraws its address");

    // 2. A long-running CLI command finds the Demo down and serves it itself.
    let stop = cli.cwd.join("stop");
    let mut owner = KillOnDrop(
        cli.command(&[
            "run",
            "--",
            "sh",
            "-c",
            "while [ ! -e stop ]; do sleep 0.05; done",
        ])
        .spawn()
        .expect("spawn latchkey run"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let cli_addr = loop {
        assert!(Instant::now() < deadline, "the CLI never served the Demo");
        assert!(
            owner.0.try_wait().expect("poll").is_none(),
            "the CLI exited"
        );
        if let Ok(text) = std::fs::read_to_string(&addr_file) {
            let addr = text.trim().to_owned();
            if !addr.is_empty() && addr != first_addr.to_string() {
                break addr;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&addr_file)
            .expect("addr file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the address file is private");
    }
    let published = std::fs::read_to_string(&addr_file).expect("addr file");
    assert!(!published.contains(token.expose_secret()), "no token in it");
    assert_eq!(
        names(&demo_keys(&cli_addr, &token).await),
        vec!["made by the app"],
        "the CLI's service loaded the app's saved state"
    );

    // 3. The app starts again while the CLI serves: it joins, it does not
    //    start a second service on the same file.
    let app = app_vault(&cli.data);
    let joined = start_demo(state.clone(), token.expose_secret())
        .await
        .expect("start_demo");
    let joined_addr = match joined {
        DemoService::Joined { addr } => addr.to_string(),
        DemoService::Started { .. } => panic!("a second service was started on the state file"),
    };
    assert_eq!(joined_addr, cli_addr);
    app.ensure_demo_provider(&format!("http://{joined_addr}"), &token)
        .expect("demo provider");
    let created = app
        .create_key_revealable(demo_key(&app, "made by the app while the CLI serves"))
        .await
        .expect("app key through the CLI's service");
    let app_key = created.key;
    let app_secret = app
        .reveal_key(&app_key.id, &created.reveal_grant)
        .expect("secret");

    // Another CLI command uses the same service and sees the app's key.
    cli.create("Demo", "made by a second CLI", "");
    let seen = names(&demo_keys(&cli_addr, &token).await);
    assert_eq!(
        seen,
        vec![
            "made by a second CLI",
            "made by the app",
            "made by the app while the CLI serves"
        ]
    );
    let listed = cli.run(&["list", "--json"]);
    listed.ok();
    let listed = listed.json()["keys"].as_array().expect("keys").clone();
    assert!(
        listed
            .iter()
            .any(|k| k["name"] == "made by the app while the CLI serves"),
        "the CLI lists the key the app made: {listed:#?}"
    );

    // 4. The serving CLI command ends; the next process to start takes over
    //    from the state it saved, with the key made through the app.
    std::fs::write(&stop, "").expect("stop");
    let status = common::process::wait_within(
        &mut owner.0,
        common::process::CHILD_TIMEOUT,
        "the serving CLI",
    );
    assert!(status.success(), "{status:?}");
    let (last_addr, handle) = match start_demo(state.clone(), token.expose_secret()).await {
        Ok(DemoService::Started { addr, handle }) => (addr, handle),
        other => panic!("the owner is gone, so this process takes over: {other:?}"),
    };
    let last_addr = last_addr.to_string();
    assert_ne!(last_addr, cli_addr);
    let keys = demo_keys(&last_addr, &token).await;
    assert_eq!(names(&keys), seen, "nothing was lost or overwritten");
    assert!(keys.iter().all(|k| k["revoked_at"].is_null()));
    assert_eq!(verify(&last_addr, &app_secret).await, 200);
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_starts_in_one_process_share_the_service_too() {
    let root = tempfile::tempdir().expect("tempdir");
    let state = root.path().join(DEMO_DATA_FILE);
    let token = "lkdemo_test-token";
    let first = start_demo(state.clone(), token).await.expect("first");
    let second = start_demo(state.clone(), token).await.expect("second");
    assert!(matches!(first, DemoService::Started { .. }), "{first:?}");
    assert!(matches!(second, DemoService::Joined { .. }), "{second:?}");
    assert_eq!(first.addr(), second.addr());
    assert!(second.into_handle().is_none());
    // A wrong admin token never joins (nor is sent anywhere but loopback):
    // it waits for the owner, then gives up with a typed error.
    let started = Instant::now();
    let refused = start_demo(state.clone(), "another-token").await;
    assert!(
        matches!(refused, Err(latchkey_keyservice::StartError::DemoBusy(_))),
        "{refused:?}"
    );
    assert!(started.elapsed() >= latchkey_keyservice::JOIN_WAIT);
    drop(first);
}

/// The process killed mid-rotation was the one serving the Demo service
/// (the CLI serves it while it runs when nobody else does): its service
/// dies with it, mid-call or between calls. The next `rotate --resume`
/// serves the Demo again from the state file and finishes: 0 keys lost,
/// 0 orphans, the `.env` whole, the project folder as the person left it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_killed_with_the_demo_it_served_resumes_and_loses_nothing() {
    for point in [
        "rotation::create::before",
        "rotation::create::after",
        "rotation::store::before",
        "rotation::deploy::after",
        "rotation::verify::before",
        "rotation::revoke_old::before",
        "rotation::revoke_old::after",
        "rotation::finish::before",
    ] {
        let root = tempfile::tempdir().expect("tempdir");
        let cli = Cli::new(root.path());
        std::fs::create_dir_all(&cli.data).expect("data dir");
        let state = cli.data.join(DEMO_DATA_FILE);
        // The app recorded the Demo once (as on a first start), then quit.
        let token = {
            let app = app_vault(&cli.data);
            let token = app.demo_admin_token().expect("demo token");
            let Ok(DemoService::Started { addr, handle }) =
                start_demo(state.clone(), token.expose_secret()).await
            else {
                panic!("{point}: nobody serves the Demo yet");
            };
            app.ensure_demo_provider(&format!("http://{addr}"), &token)
                .expect("demo provider");
            handle.shutdown().await;
            token
        };
        let old = cli.create("Demo", "backend", "ACME_API_KEY");
        let env_file = cli.cwd.join(".env");
        let text = |key: &str| format!("# demo\nACME_API_KEY={key} # keep\nPORT=8080\n");
        std::fs::write(&env_file, text(&old)).expect("write .env");

        let killed = cli.run_with(
            &["rotate", "backend", "--dotenv", ".env", "--yes"],
            &[("FAILPOINTS", &format!("{point}=return"))],
            None,
        );
        assert_eq!(killed.signal, Some(9), "{point}: not killed: {killed:#?}");
        let resumed = cli.run(&["rotate", "--resume"]);
        assert_eq!(resumed.code, Some(0), "{point}: {resumed:#?}");
        let rotations = cli.run(&["rotations", "--json"]);
        assert_eq!(rotations.json()[0]["state"], "done", "{point}");

        let in_use = cli.run(&["run", "--", "printenv", "ACME_API_KEY"]);
        in_use.ok();
        let in_use = in_use.stdout.trim().to_owned();
        assert!(in_use.starts_with("lk_") && in_use != old, "{point}");
        assert_eq!(
            std::fs::read_to_string(&env_file).expect("read .env"),
            text(&in_use),
            "{point}: torn or unexpected .env"
        );
        let mut left: Vec<String> = std::fs::read_dir(&cli.cwd)
            .expect("project dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, vec![".env"], "{point}: the project folder");

        // Nobody serves the Demo now: this test does, from the saved state.
        let (addr, handle) = match start_demo(state.clone(), token.expose_secret()).await {
            Ok(DemoService::Started { addr, handle }) => (addr.to_string(), handle),
            other => panic!("{point}: the CLI is gone, the test serves: {other:?}"),
        };
        let live: Vec<Value> = demo_keys(&addr, &token)
            .await
            .into_iter()
            .filter(|k| k["revoked_at"].is_null())
            .collect();
        assert_eq!(live.len(), 1, "{point}: live Demo keys: {live:#?}");
        assert_eq!(
            verify(&addr, &Secret::new(in_use.as_str())).await,
            200,
            "{point}"
        );
        assert_eq!(
            verify(&addr, &Secret::new(old.as_str())).await,
            401,
            "{point}"
        );
        handle.shutdown().await;
    }
}
