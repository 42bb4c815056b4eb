//! `moto_server` (PyPI `moto[server]`), AWS's APIs emulated on loopback,
//! started per test with credential checking on after `set_up` calls
//! (`INITIAL_NO_AUTH_ACTION_COUNT`), so a deleted or switched-off key
//! really fails. `scripts/test.sh` installs it and names it in
//! `LATCHKEY_MOTO_SERVER`; otherwise `moto_server` on the PATH is used.
#![allow(dead_code)]

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use latchkey_core::aws::{AwsClient, Credentials};
use latchkey_core::http::HttpPolicy;
use latchkey_core::Secret;

pub struct Moto {
    pub base: String,
    child: Child,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// A fresh emulator whose first `set_up` calls need no credentials.
    pub fn start(set_up: u32) -> Moto {
        let program =
            std::env::var("LATCHKEY_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("INITIAL_NO_AUTH_ACTION_COUNT", set_up.to_string())
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {program} ({e}): run scripts/test.sh, or pip install 'moto[server]'")
            });
        let mut moto = Moto {
            base: format!("http://127.0.0.1:{port}"),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = moto.child.try_wait().expect("try_wait") {
                panic!("{program} exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "{program} did not listen within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }
}

/// The calls made before moto starts checking credentials.
pub const SET_UP_CALLS: u32 = 4;

/// An admin user allowed everything, its key pair, and the user `app`
/// whose keys the tests manage: moto's first four calls, unauthenticated.
pub async fn set_up(moto: &Moto) -> Credentials {
    let client =
        AwsClient::new(Some(&moto.base), "us-east-1", HttpPolicy::default()).expect("client");
    let nobody = Credentials::parse(&Secret::new("AKIAIOSFODNN7EXAMPLE:set-up")).expect("creds");
    let policy =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    for (action, params) in [
        ("CreateUser", vec![("UserName", "admin")]),
        (
            "PutUserPolicy",
            vec![
                ("UserName", "admin"),
                ("PolicyName", "all"),
                ("PolicyDocument", policy),
            ],
        ),
        ("CreateUser", vec![("UserName", "app")]),
    ] {
        client
            .iam(&nobody, action, &params, false)
            .await
            .unwrap_or_else(|e| panic!("{action}: {e}"));
    }
    let created = client
        .iam(&nobody, "CreateAccessKey", &[("UserName", "admin")], false)
        .await
        .expect("admin key");
    let key = |field: &str| {
        created
            .text_at(&["CreateAccessKeyResult", "AccessKey", field])
            .expect(field)
            .to_owned()
    };
    Credentials::parse(&Secret::new(format!(
        "{}:{}",
        key("AccessKeyId"),
        key("SecretAccessKey")
    )))
    .expect("admin pair")
}
