//! The baseline for the launch/memory benchmark: a bare Tauri window built
//! with the same crate, profile and config, showing a static page, with no
//! vault, no keychain and no Demo provider.
#![forbid(unsafe_code)]

fn main() {
    let mut context = tauri::generate_context!();
    for window in &mut context.config_mut().app.windows {
        window.url = tauri::WebviewUrl::App("bare.html".into());
    }
    if let Err(e) = tauri::Builder::default().run(context) {
        eprintln!("bare window failed: {e}");
        std::process::exit(1);
    }
}
