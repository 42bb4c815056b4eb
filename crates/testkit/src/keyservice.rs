//! The reference key service (`latchkey-keyservice`) on a loopback port,
//! started in the test's own runtime.

use std::time::Duration;

use latchkey_keyservice::{start, Config, ShutdownHandle};

/// Starts the key service with `config` on `addr` (`127.0.0.1:0` for a
/// free port); returns its base URL (`http://127.0.0.1:PORT`) and the
/// handle that stops it. A port that a service just stopped may take a
/// moment to be free: binding is tried for up to 5 s.
pub async fn serve_on(addr: &str, config: Config) -> (String, ShutdownHandle) {
    let mut tries = 0;
    let listener = loop {
        match std::net::TcpListener::bind(addr) {
            Ok(listener) => break listener,
            Err(_) if tries < 50 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("bind {addr}: {e}"),
        }
    };
    let (bound, handle) = start(listener, config).await.expect("key service starts");
    (format!("http://{bound}"), handle)
}

/// [`serve_on`] a free loopback port.
pub async fn serve(config: Config) -> (String, ShutdownHandle) {
    serve_on("127.0.0.1:0", config).await
}
