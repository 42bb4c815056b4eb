//! Gates the app's own commands through the app manifest; the capability
//! file allows exactly these, and nothing else.

const COMMANDS: &[&str] = &[
    "startup_status",
    "first_screen",
    "list_keys",
    "list_local_keys",
    "list_providers",
    "add_provider",
    "test_provider",
    "create_key",
    "reveal_key",
    "copy_key",
    "revoke_key",
    "add_existing_key",
    "audit_log",
    "verify_audit_log",
    "plan_rotation",
    "run_rotation",
    "rollback_rotation",
    "confirm_rotation_item",
    "copy_rotation_key",
    "list_rotations",
    "add_to_gitignore",
    "add_manual_provider",
    "provide_new_key",
    "confirm_done_by_hand",
    "open_dashboard",
    "get_settings",
    "update_settings",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script");
}
