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
    let app = tauri::Builder::default()
        .setup(|_app| {
            // BARE_NO_COMPOSITING=1: no accelerated compositing, turned off
            // the way Latchkey ships it (src/main.rs, lighter_rendering),
            // so the like-for-like pair differs in nothing else.
            #[cfg(target_os = "linux")]
            if std::env::var_os("BARE_NO_COMPOSITING").is_some_and(|v| v == "1") {
                use tauri::Manager;
                if let Some(window) = _app.get_webview_window("main") {
                    let _ = window.with_webview(|webview| {
                        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
                        if let Some(settings) = webview.inner().settings() {
                            settings.set_hardware_acceleration_policy(
                                HardwareAccelerationPolicy::Never,
                            );
                        }
                    });
                }
            }
            Ok(())
        })
        .register_uri_scheme_protocol("bare", |_ctx, _request| {
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
