// The app's commands, declared once. `build.rs` turns this list into the
// app manifest (the only commands the capability file can allow), `main.rs`
// into the IPC handler; a test in `main.rs` fails when the capability file,
// `commands.rs` or the UI's API wrapper (`ui/src/lib/api.ts`) disagree.
// A new command: its function in `commands.rs`, one line here, its
// `allow-…` line in `capabilities/main.json`, its call in `api.ts`.

/// Hands the list to `$then!` as identifiers.
macro_rules! with_commands {
    ($then:ident) => {
        $then! {
            startup_status,
            first_screen,
            list_keys,
            list_local_keys,
            list_providers,
            add_provider,
            test_provider,
            set_provider_credential,
            remove_provider,
            create_key,
            reveal_key,
            copy_key,
            revoke_key,
            add_existing_key,
            audit_log,
            verify_audit_log,
            activity,
            key_details,
            scan_folder,
            pick_path,
            list_services,
            add_service_provider,
            open_service_page,
            recognise_key,
            export_activity,
            plan_rotation,
            run_rotation,
            rollback_rotation,
            rotation_strategies,
            keys_in_the_way,
            delete_key_in_the_way,
            parse_target,
            revoke_anyway,
            reactivate_rotation,
            confirm_rotation_item,
            copy_rotation_key,
            list_rotations,
            add_to_gitignore,
            add_manual_provider,
            provide_new_key,
            confirm_done_by_hand,
            open_dashboard,
            get_settings,
            update_settings,
        }
    };
}
