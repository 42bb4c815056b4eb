//! Benchmark: `GET /v1/verify` throughput and p99 latency with concurrent
//! keep-alive connections, against the key service and, in the same run,
//! against a bare axum handler returning a body of the same size.
//!
//! `cargo bench -p latchkey-keyservice --bench verify`
//! Knobs: LK_BENCH_SECS (per round, default 4), LK_BENCH_CONNS (default 32),
//! LK_BENCH_ROUNDS (default 3). Target: service ≥ 0.7× the bare throughput.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;
use latchkey_keyservice::{start, Config, RateLimit};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Round {
    requests: u64,
    seconds: f64,
    p50_us: u32,
    p99_us: u32,
}

impl Round {
    fn throughput(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// One connection's loop: GET /v1/verify until `until`, timing each answer.
async fn hammer(addr: SocketAddr, token: String, warm_until: Instant, until: Instant) -> Vec<u32> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let mut latencies = Vec::with_capacity(100_000);
    loop {
        let started = Instant::now();
        if started >= until {
            return latencies;
        }
        let request = Request::get("/v1/verify")
            .header("host", "127.0.0.1")
            .header("authorization", format!("Bearer {token}"))
            .body(Empty::<Bytes>::new())
            .expect("request");
        let response = sender.send_request(request).await.expect("send");
        assert!(
            response.status().is_success(),
            "status {}",
            response.status()
        );
        let _body = response.into_body().collect().await.expect("body");
        if started >= warm_until {
            latencies.push(started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        }
    }
}

async fn measure(addr: SocketAddr, token: &str, conns: u64, secs: u64) -> Round {
    let warm_until = Instant::now() + Duration::from_millis(500);
    let until = warm_until + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..conns)
        .map(|_| tokio::spawn(hammer(addr, token.to_owned(), warm_until, until)))
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("load task"));
    }
    all.sort_unstable();
    let pick = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Round {
        requests: all.len() as u64,
        seconds: secs as f64,
        p50_us: pick(0.50),
        p99_us: pick(0.99),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let secs = env_or("LK_BENCH_SECS", 4);
    let conns = env_or("LK_BENCH_CONNS", 32);
    let rounds = env_or("LK_BENCH_ROUNDS", 3);
    // Servers and load generator each get their own runtime, as separate processes would.
    let servers = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("server runtime");
    let load = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("load runtime");

    let (service_addr, key, body_len, _handle) = servers.block_on(async {
        let mut config = Config::new("bench-admin");
        config.rate_limit = RateLimit {
            per_second: 1e12,
            burst: 1e12,
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let (addr, handle) = start(listener, config).await.expect("start service");
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        let created: serde_json::Value = client
            .post(format!("http://{addr}/api/projects/bench/api-keys"))
            .bearer_auth("bench-admin")
            .json(&serde_json::json!({ "name": "bench" }))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("json");
        let key = created["key"].as_str().expect("key").to_owned();
        let body = client
            .get(format!("http://{addr}/v1/verify"))
            .bearer_auth(&key)
            .send()
            .await
            .expect("verify");
        let len = body.bytes().await.expect("body").len();
        (addr, key, len, handle)
    });

    let bare_addr = servers.block_on(async {
        let body: &'static str =
            Box::leak(format!("{{\"pad\":\"{}\"}}", "x".repeat(body_len - 10)).into_boxed_str());
        assert_eq!(body.len(), body_len);
        let app = axum::Router::new().route(
            "/v1/verify",
            axum::routing::get(
                move || async move { ([("content-type", "application/json")], body) },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        addr
    });

    println!(
        "verify benchmark: {conns} connections, {secs} s x {rounds} rounds, body {body_len} bytes"
    );
    let (mut bare_tp, mut svc_tp, mut bare_p99, mut svc_p99) = (vec![], vec![], vec![], vec![]);
    for round in 1..=rounds {
        let bare = load.block_on(measure(bare_addr, "unused", conns, secs));
        let svc = load.block_on(measure(service_addr, &key, conns, secs));
        println!(
            "round {round}: bare {:>9.0} req/s p50 {:>5} us p99 {:>5} us | key service {:>9.0} req/s p50 {:>5} us p99 {:>5} us",
            bare.throughput(),
            bare.p50_us,
            bare.p99_us,
            svc.throughput(),
            svc.p50_us,
            svc.p99_us
        );
        bare_tp.push(bare.throughput());
        svc_tp.push(svc.throughput());
        bare_p99.push(f64::from(bare.p99_us));
        svc_p99.push(f64::from(svc.p99_us));
    }
    let (bt, st) = (median(bare_tp), median(svc_tp));
    let (bp, sp) = (median(bare_p99), median(svc_p99));
    println!("median bare axum:    {bt:.0} req/s, p99 {bp:.0} us");
    println!("median key service:  {st:.0} req/s, p99 {sp:.0} us");
    println!(
        "throughput ratio (key service / bare): {:.2}x (target >= 0.70x)",
        st / bt
    );
    println!("p99 latency ratio (key service / bare): {:.2}x", sp / bp);
}
