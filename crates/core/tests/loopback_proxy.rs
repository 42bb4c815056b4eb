//! Calls to a service on this computer never go through a proxy: with
//! HTTP_PROXY, HTTPS_PROXY and ALL_PROXY (both cases) pointing at a dead
//! port, a real key service on loopback is still reached. Its own test
//! binary, since it sets the process's environment.

use latchkey_core::http::HttpPolicy;
use latchkey_core::providers::keyservice::KeyserviceProvider;
use latchkey_core::providers::Provider;
use latchkey_core::Secret;
use latchkey_keyservice::{start, Config};

#[tokio::test]
async fn loopback_calls_ignore_the_proxy_environment() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let proxy = format!("http://{}", dead.local_addr().expect("addr"));
    drop(dead);
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        std::env::set_var(var, &proxy);
    }
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let (addr, _handle) = start(listener, Config::new("proxy-test-admin"))
        .await
        .expect("key service");
    let policy = HttpPolicy {
        max_attempts: 1,
        ..HttpPolicy::default()
    };
    for base in [
        format!("http://{addr}"),
        format!("http://localhost:{}", addr.port()),
    ] {
        let provider = KeyserviceProvider::new(
            &base,
            "demo",
            Secret::new("proxy-test-admin"),
            policy.clone(),
        )
        .expect("provider");
        let listed = provider.list().await;
        assert!(listed.is_ok(), "{base}: {:?}", listed.map(|_| ()));
    }
}
