//! AWS IAM for the end-to-end tests: `moto_server` with credential checks
//! on (the core kit's `Moto`), the IAM user `app` as moto lists it, and an
//! AWS connection plus a key on it made by the `latchkey` CLI in the app's
//! data dir before the app starts (the pair goes in on stdin).
//!
//! Included by a test beside `mod webdriver;` with
//! `#[path = "webdriver/aws.rs"] mod aws;`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use latchkey_core::aws::{AwsClient, Credentials};
use latchkey_core::http::HttpPolicy;
use latchkey_core::Secret;

use crate::webdriver::{cli_binary, wait_within};
use latchkey_testkit::moto;

/// The emulator, its admin pair (allowed everything) and a client for it.
pub struct Iam {
    moto: moto::Moto,
    admin: Credentials,
    client: AwsClient,
}

impl Iam {
    /// A fresh emulator with the admin user and the user `app`.
    pub async fn start() -> Self {
        let moto = moto::Moto::start(moto::SET_UP_CALLS);
        let admin = moto::set_up(&moto).await;
        let client =
            AwsClient::new(Some(&moto.base), "us-east-1", HttpPolicy::default()).expect("client");
        Self {
            moto,
            admin,
            client,
        }
    }

    pub fn base(&self) -> &str {
        &self.moto.base
    }

    /// The user `app`'s access keys as IAM lists them: (id, status).
    pub async fn keys(&self) -> Vec<(String, String)> {
        let answer = self
            .client
            .iam(&self.admin, "ListAccessKeys", &[("UserName", "app")], true)
            .await
            .expect("ListAccessKeys");
        let mut keys: Vec<(String, String)> = answer
            .at(&["ListAccessKeysResult", "AccessKeyMetadata"])
            .map(|list| {
                list.all("member")
                    .map(|m| {
                        (
                            m.text_at(&["AccessKeyId"]).unwrap_or_default().to_owned(),
                            m.text_at(&["Status"]).unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        keys.sort();
        keys
    }

    /// When IAM says the key was last used (moto notes every signed call).
    pub async fn last_used(&self, id: &str) -> Option<String> {
        let answer = self
            .client
            .iam(
                &self.admin,
                "GetAccessKeyLastUsed",
                &[("AccessKeyId", id)],
                true,
            )
            .await
            .expect("GetAccessKeyLastUsed");
        answer
            .text_at(&[
                "GetAccessKeyLastUsedResult",
                "AccessKeyLastUsed",
                "LastUsedDate",
            ])
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
    }

    /// A signed call (STS GetCallerIdentity) with the pair `ID:SECRET`, as
    /// a program using the key would make; whether it was accepted.
    pub async fn call_with(&self, pair: &str) -> bool {
        let credentials = Credentials::parse(&Secret::new(pair)).expect("a pair");
        self.client
            .caller_identity(&credentials)
            .await
            .expect("STS answered")
            .is_some()
    }

    /// Adds the AWS connection `provider` (user `app`) with the admin pair
    /// on stdin, then creates the key `name` on it; returns its pair
    /// `ID:SECRET`. Both through the CLI, in the app's data dir.
    pub fn add_key(&self, data: &Path, provider: &str, name: &str, env_var: &str) -> String {
        let admin = self.admin.to_secret();
        let added = cli(
            data,
            &[
                "providers",
                "add",
                "--service",
                "aws",
                "--name",
                provider,
                "--base-url",
                self.base(),
                "--user",
                "app",
            ],
            Some(admin.expose_secret()),
            &[],
        );
        assert!(
            added.status.success(),
            "providers add: {}",
            String::from_utf8_lossy(&added.stderr)
        );
        let created = cli(
            data,
            &[
                "create",
                "--provider",
                provider,
                "--name",
                name,
                "--env-var",
                env_var,
            ],
            None,
            &[],
        );
        assert!(
            created.status.success(),
            "create: {}",
            String::from_utf8_lossy(&created.stderr)
        );
        let stdout = String::from_utf8_lossy(&created.stdout);
        let get = |var: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{var}=")))
                .unwrap_or_else(|| panic!("create printed no {var}"))
                .to_owned()
        };
        format!(
            "{}:{}",
            get("AWS_ACCESS_KEY_ID"),
            get("AWS_SECRET_ACCESS_KEY")
        )
    }
}

/// The access key id of a pair `ID:SECRET`.
pub fn id_of(pair: &str) -> &str {
    pair.split(':').next().expect("a pair")
}

/// `latchkey ARGS` in the data dir `data`, with `stdin` and extra env vars,
/// bounded. Its output is short (well under a pipe's buffer), so it is read
/// once it exited.
pub fn cli(data: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(cli_binary());
    command
        .args(args)
        .env("LATCHKEY_DATA_DIR", data)
        .env_remove("FAILPOINTS")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let what = format!("latchkey {}", args.join(" "));
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(pipe);
    let status = wait_within(&mut child, Duration::from_secs(120), &what);
    let read = |pipe: Option<&mut dyn Read>| {
        let mut bytes = Vec::new();
        if let Some(pipe) = pipe {
            pipe.read_to_end(&mut bytes).expect("read output");
        }
        bytes
    };
    Output {
        status,
        stdout: read(child.stdout.as_mut().map(|p| p as &mut dyn Read)),
        stderr: read(child.stderr.as_mut().map(|p| p as &mut dyn Read)),
    }
}
