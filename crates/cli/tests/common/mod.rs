//! The real `latchkey` binary against a real key service on loopback, the
//! real keychain (scripts/with-keyring.sh) and a temporary data directory.
#![allow(dead_code)]

// Not every test binary that includes this kit uses each of these.
#[allow(unused_imports)]
pub use latchkey_testkit::files::files_containing;
#[allow(unused_imports)]
pub use latchkey_testkit::{moto, process};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_latchkey");
pub const ADMIN: &str = "cli-test-admin";

/// The reference key service, its admin client from the test kit.
pub use latchkey_testkit::keyservice::Service;

pub async fn key_service(chaos: bool) -> Service {
    Service::start(ADMIN, chaos, None).await
}

/// A key service keeping its state in `data` (it survives a restart).
pub async fn key_service_with_data(chaos: bool, data: &Path) -> Service {
    Service::start(ADMIN, chaos, Some(data)).await
}

/// The CLI tests name the project of each call.
#[allow(async_fn_in_trait)]
pub trait InProject {
    async fn remote_keys(&self, project: &str) -> Vec<Value>;
    async fn live(&self, project: &str) -> Vec<Value>;
    async fn revoke_directly(&self, project: &str, remote_id: &str);
}

impl InProject for Service {
    async fn remote_keys(&self, project: &str) -> Vec<Value> {
        self.keys_in(project).await
    }

    async fn live(&self, project: &str) -> Vec<Value> {
        self.live_in(project).await
    }

    async fn revoke_directly(&self, project: &str, remote_id: &str) {
        self.revoke_in(project, remote_id).await
    }
}

/// One CLI invocation's result.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, Some(0), "failed: {self:#?}");
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self:#?}"))
    }
}

fn finish(out: Output) -> Run {
    #[cfg(unix)]
    let signal = {
        use std::os::unix::process::ExitStatusExt;
        out.status.signal()
    };
    #[cfg(not(unix))]
    let signal = None;
    Run {
        code: out.status.code(),
        signal,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// What one run printed, kept for the canary scan.
struct Printed {
    command: String,
    stdout: String,
    stderr: String,
}

/// A data directory and the commands that run against it; every run's
/// output is kept for [`Cli::assert_no_canary`].
pub struct Cli {
    pub data: PathBuf,
    pub cwd: PathBuf,
    printed: std::sync::Mutex<Vec<Printed>>,
}

impl Cli {
    pub fn new(root: &Path) -> Self {
        let data = root.join("data");
        let cwd = root.join("project");
        std::fs::create_dir_all(&cwd).expect("project dir");
        Self {
            data,
            cwd,
            printed: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(&self.cwd)
            .env("LATCHKEY_DATA_DIR", &self.data)
            .env("LATCHKEY_CLIPBOARD_CLEAR_SECS", "1")
            .env_remove("LATCHKEY_ADMIN_TOKEN")
            .env_remove("FAILPOINTS");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[], None)
    }

    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn latchkey");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write stdin");
        }
        let command = format!("latchkey {}", args.join(" "));
        let run = finish(process::output_of(child, process::CHILD_TIMEOUT, &command));
        self.printed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Printed {
                command,
                stdout: run.stdout.clone(),
                stderr: run.stderr.clone(),
            });
        run
    }

    /// The canary scan: no file under the data or project folder, and no
    /// run's stdout or stderr, holds any of `canaries`, except the one key
    /// `create` prints alone on its stdout (its show-once). Names where
    /// each was found.
    pub fn assert_no_canary(&self, canaries: &[&str]) {
        self.assert_no_canary_but(canaries, &[]);
    }

    /// As [`Cli::assert_no_canary`], but the project files `targets` (the
    /// places a rotation deployed the new key to) are not scanned.
    pub fn assert_no_canary_but(&self, canaries: &[&str], targets: &[&str]) {
        let targets: Vec<String> = targets
            .iter()
            .map(|t| self.cwd.join(t).display().to_string())
            .collect();
        let printed = self.printed.lock().unwrap_or_else(|p| p.into_inner());
        assert!(!printed.is_empty(), "no run was recorded");
        let mut found = Vec::new();
        for canary in canaries {
            assert!(canary.len() >= 8, "a canary too short to mean anything");
            for dir in [&self.data, &self.cwd] {
                for file in files_containing(dir, canary) {
                    if !targets.contains(&file) {
                        found.push(format!("{file} holds a canary"));
                    }
                }
            }
            for p in printed.iter() {
                let show_once =
                    p.command.starts_with("latchkey create ") && p.stdout.trim() == *canary;
                if p.stdout.contains(canary) && !show_once {
                    found.push(format!("`{}` printed a canary on stdout", p.command));
                }
                if p.stderr.contains(canary) {
                    found.push(format!("`{}` printed a canary on stderr", p.command));
                }
            }
        }
        assert!(found.is_empty(), "canary scan: {found:#?}");
    }

    /// Adds the service as provider `name` (project `project`).
    pub fn add_provider(&self, service: &Service, name: &str, project: &str) {
        self.add_keyservice(&service.base, name, project, ADMIN)
            .ok();
    }

    /// `providers add --kind keyservice` for any base URL, the token on stdin.
    pub fn add_keyservice(&self, base: &str, name: &str, project: &str, token: &str) -> Run {
        self.run_with(
            &[
                "providers",
                "add",
                "--kind",
                "keyservice",
                "--name",
                name,
                "--base-url",
                base,
                "--project",
                project,
            ],
            &[],
            Some(token),
        )
    }

    /// Creates a key with scope `read`; returns its secret (printed once
    /// on stdout).
    pub fn create(&self, provider: &str, name: &str, env_var: &str) -> String {
        self.create_with(provider, name, env_var, &["--scope", "read"])
    }

    /// Creates a key with `extra` arguments (none: no scopes); returns its
    /// secret.
    pub fn create_with(&self, provider: &str, name: &str, env_var: &str, extra: &[&str]) -> String {
        let mut args = vec![
            "create",
            "--provider",
            provider,
            "--name",
            name,
            "--env-var",
            env_var,
        ];
        args.extend_from_slice(extra);
        let run = self.run(&args);
        run.ok();
        run.stdout.trim().to_owned()
    }
}

/// What most flows start from: a key service (project `web`), a CLI on a
/// fresh data directory under `root` with the service as provider `acme`,
/// and the key `backend` (`ACME_API_KEY`) made there; `key` is its secret.
pub struct Backend {
    pub service: Service,
    pub root: tempfile::TempDir,
    pub cli: Cli,
    pub key: String,
}

pub async fn backend() -> Backend {
    let service = key_service(false).await;
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    cli.add_provider(&service, "acme", "web");
    let key = cli.create("acme", "backend", "ACME_API_KEY");
    Backend {
        service,
        root,
        cli,
        key,
    }
}
