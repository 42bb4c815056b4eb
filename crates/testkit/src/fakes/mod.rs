//! Fake services on loopback, each written from the service's documented
//! shapes (`shared/services/`), quirks included; one module a service,
//! named as the connector is.
pub mod cloudflare;
pub mod dakora;
pub mod github;
pub mod gitlab;
pub mod netlify;
pub mod open_animate;
pub mod openai;
pub mod openrouter;
pub mod sendgrid;
pub mod twilio;
pub mod vercel;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use rand::Rng;
use tokio::net::TcpListener;

/// A listener on a free loopback port, and the base URL it answers on
/// (for a fake that must know its own address before it is built).
pub async fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    (listener, base)
}

/// Serves `app` on `listener` for as long as the test's runtime runs.
pub fn serve(listener: TcpListener, app: Router) {
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
}

/// Serves `app` on a free loopback port; its base URL.
pub async fn serve_app(app: Router) -> String {
    let (listener, base) = listen().await;
    serve(listener, app);
    base
}

/// A canned answer a fake serves before any real handling: status, extra
/// headers, body.
pub type Canned = (u16, Vec<(&'static str, String)>, String);

/// A canned answer from a fake's `fail_next` arguments.
pub fn canned(status: u16, headers: &[(&'static str, &str)], body: &str) -> Canned {
    (
        status,
        headers.iter().map(|(n, v)| (*n, (*v).to_owned())).collect(),
        body.to_owned(),
    )
}

/// The first of `failures`, taken, as a response.
pub fn take_canned(failures: &mut Vec<Canned>) -> Option<Response> {
    if failures.is_empty() {
        return None;
    }
    let (status, extra, body) = failures.remove(0);
    let mut response = (StatusCode::from_u16(status).expect("status"), body).into_response();
    for (name, value) in extra {
        response
            .headers_mut()
            .insert(name, value.parse().expect("header"));
    }
    Some(response)
}

/// Now, in whole seconds, as RFC 3339.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("ns")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("fmt")
}

/// `len` random lowercase hex digits.
pub fn hex(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| b"0123456789abcdef"[rng.gen_range(0..16)] as char)
        .collect()
}
