//! A real key service on a loopback port for each test, and a client for it.
#![allow(dead_code)]

#[allow(unused_imports)]
pub use latchkey_testkit::process;

use std::sync::Arc;

use latchkey_keyservice::{Config, ManualClock, ShutdownHandle};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use time::OffsetDateTime;

pub const ADMIN: &str = "test-admin-token";

pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    handle: Option<ShutdownHandle>,
}

/// A config with a fixed admin token and a manual clock starting now.
pub fn config_with_clock() -> (Config, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let mut config = Config::new(ADMIN);
    config.clock = clock.clone();
    (config, clock)
}

pub async fn start_with(config: Config) -> TestServer {
    let (base, handle) = latchkey_testkit::keyservice::serve(config).await;
    TestServer {
        base,
        client: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client"),
        handle: Some(handle),
    }
}

pub async fn start_default() -> TestServer {
    start_with(Config::new(ADMIN)).await
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn keys_url(&self, project: &str) -> String {
        self.url(&format!("/api/projects/{project}/api-keys"))
    }

    pub async fn create(&self, project: &str, body: Value) -> Response {
        self.client
            .post(self.keys_url(project))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
            .await
            .expect("create request")
    }

    /// Creates a key and returns the key object (with `key`).
    pub async fn create_ok(&self, project: &str, body: Value) -> Value {
        let resp = self.create(project, body).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.expect("key object")
    }

    pub async fn create_named(&self, project: &str, name: &str) -> Value {
        self.create_ok(project, json!({ "name": name })).await
    }

    pub async fn list(&self, project: &str) -> Vec<Value> {
        let resp = self
            .client
            .get(self.keys_url(project))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("list");
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.expect("json");
        body["keys"].as_array().expect("keys array").clone()
    }

    pub async fn get(&self, project: &str, id: &str) -> Response {
        self.client
            .get(format!("{}/{id}", self.keys_url(project)))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("get")
    }

    pub async fn revoke(&self, project: &str, id: &str) -> Response {
        self.client
            .delete(format!("{}/{id}", self.keys_url(project)))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("revoke")
    }

    pub async fn verify(&self, key: &str) -> Response {
        self.client
            .get(self.url("/v1/verify"))
            .bearer_auth(key)
            .send()
            .await
            .expect("verify")
    }

    /// Sends `n` creates to `project` at once; returns their statuses.
    pub async fn parallel_creates(&self, project: &str, n: usize) -> Vec<u16> {
        let calls = (0..n).map(|i| {
            let client = self.client.clone();
            let url = self.keys_url(project);
            tokio::spawn(async move {
                let body = json!({ "name": format!("racer {i}") });
                let resp = client.post(url).bearer_auth(ADMIN).json(&body).send().await;
                resp.expect("send").status().as_u16()
            })
        });
        futures::future::join_all(calls)
            .await
            .into_iter()
            .map(|r| r.expect("task"))
            .collect()
    }

    pub async fn shutdown(mut self) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown().await;
        }
    }
}

/// Asserts `resp` is an error of the contract's shape and returns its code
/// and details.
pub async fn expect_error(resp: Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status, "status for {code}");
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
    );
    let body: Value = resp.json().await.expect("error body is JSON");
    assert_eq!(body["success"], json!(false), "{body}");
    assert_eq!(body["error"]["code"], json!(code), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(body["error"]["details"].is_object(), "{body}");
    body["error"]["details"].clone()
}

pub fn key_of(object: &Value) -> String {
    object["key"]
        .as_str()
        .expect("key in create response")
        .to_owned()
}

pub fn id_of(object: &Value) -> String {
    object["id"].as_str().expect("id").to_owned()
}
