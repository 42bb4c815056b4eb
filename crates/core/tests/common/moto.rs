//! `moto_server` (PyPI `moto[server]`), AWS's APIs emulated on loopback,
//! started per test with credential checking on after `set_up` calls
//! (`INITIAL_NO_AUTH_ACTION_COUNT`), so a deleted or switched-off key
//! really fails. `scripts/test.sh` installs it and names it in
//! `LATCHKEY_MOTO_SERVER`; otherwise `moto_server` on the PATH is used.
#![allow(dead_code)]

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
