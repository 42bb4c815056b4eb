//! The baseline for the launch/memory benchmark: a bare Tauri window built
//! with the same crate, profile and config, showing a static page, with no
//! vault, no keychain and no Demo provider.
//!
//! Its page (`examples/bare.html`) is served by this example alone, over its
//! own `bare://` scheme, so it is never among the app's shipped assets.
#![forbid(unsafe_code)]

const PAGE: &[u8] = include_bytes!("bare.html");

fn main() {
    let mut context = tauri::generate_context!();
    let url = tauri::Url::parse("bare://localhost/").expect("static URL");
    for window in &mut context.config_mut().app.windows {
        window.url = tauri::WebviewUrl::CustomProtocol(url.clone());
    }
    let app = tauri::Builder::default().register_uri_scheme_protocol("bare", |_ctx, _request| {
        tauri::http::Response::builder()
            .header("Content-Type", "text/html; charset=utf-8")
            .body(PAGE.to_vec())
            .unwrap_or_default()
    });
    if let Err(e) = app.run(context) {
        eprintln!("bare window failed: {e}");
        std::process::exit(1);
    }
}
