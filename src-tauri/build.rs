//! Gates the app's own commands through the app manifest (the list is in
//! `src/command_list.rs`); the capability file allows exactly these.

include!("src/command_list.rs");

macro_rules! names {
    ($($command:ident,)*) => {
        &[$(stringify!($command)),*]
    };
}

const COMMANDS: &[&str] = with_commands!(names);

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script");
}
