//! Keeps the webview on the app's own origin: a plugin whose
//! `on_navigation` refuses any URL that is not the bundled UI (Tauri's
//! `tauri://localhost` / `http(s)://tauri.localhost`) or, in debug builds,
//! the Vite dev server. Links to services open in the browser from Rust
//! (`open_dashboard`), never inside the window.
//!
//! It must never widen what the window may load: no wildcard hosts, no
//! other schemes.

use tauri::{Runtime, Url};

/// The dev server the debug build loads (`build.devUrl`).
const DEV_ORIGIN: (&str, &str, u16) = ("http", "localhost", 5173);

/// Whether the main webview may go to `url`.
pub fn allowed(url: &Url) -> bool {
    let host = url.host_str().unwrap_or("");
    match url.scheme() {
        "tauri" => host == "localhost",
        "http" | "https" if host == "tauri.localhost" => url.port().is_none(),
        scheme if cfg!(debug_assertions) => {
            (scheme, host, url.port_or_known_default().unwrap_or(0)) == DEV_ORIGIN
        }
        _ => false,
    }
}

/// The plugin: refuses, and so cancels, every other navigation.
pub fn guard<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|_webview, url| allowed(url))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> bool {
        allowed(&Url::parse(s).expect("url"))
    }

    #[test]
    fn only_the_apps_own_origin_is_allowed() {
        assert!(ok("tauri://localhost/"));
        assert!(ok("tauri://localhost/index.html#/keys"));
        assert!(ok("http://tauri.localhost/"));
        assert!(ok("https://tauri.localhost/index.html"));
        for refused in [
            "https://example.com/",
            "http://127.0.0.1:9/",
            "http://localhost:8080/",
            "https://tauri.localhost.evil.example/",
            "http://tauri.localhost:8080/",
            "tauri://evil/",
            "file:///etc/passwd",
            "data:text/html,<p>hi</p>",
            "javascript:alert(1)",
            "about:blank",
        ] {
            assert!(!ok(refused), "{refused} was allowed");
        }
        // The dev server only in debug builds.
        assert_eq!(ok("http://localhost:5173/"), cfg!(debug_assertions));
    }
}
