//! The catalog's schema, one migration per version. A catalog whose
//! version is past the last one here is from a newer Latchkey and is
//! refused, not rewritten.

// Each schema change adds, before it lands, the fixture the code before it
// writes (`tests/upgrade.rs`, `make_fixture`): every later schema must open
// every fixture with every row and a verifying audit chain.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: providers, keys, audit log.
    r#"
    CREATE TABLE providers (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL UNIQUE,
        base_url TEXT NOT NULL,
        project TEXT NOT NULL,
        is_demo INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE keys (
        id TEXT PRIMARY KEY,
        provider_id TEXT NOT NULL REFERENCES providers(id),
        remote_id TEXT,
        name TEXT NOT NULL,
        preview TEXT NOT NULL,
        fingerprint TEXT,
        scopes TEXT NOT NULL DEFAULT '[]',
        environment TEXT NOT NULL DEFAULT '',
        env_var TEXT NOT NULL DEFAULT '',
        created_at TEXT,
        expires_at TEXT,
        last_used_at TEXT,
        revoked_at TEXT,
        has_secret INTEGER NOT NULL DEFAULT 0,
        UNIQUE (provider_id, remote_id)
    );
    CREATE UNIQUE INDEX keys_fingerprint ON keys(fingerprint) WHERE fingerprint IS NOT NULL;
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        key_id TEXT,
        provider_id TEXT,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    "#,
    // 2: the rotation journal. One unfinished rotation per key (the lock);
    // a rotation's new key is `pending_rotation` until the rotation is done.
    r#"
    ALTER TABLE keys ADD COLUMN pending_rotation TEXT;
    CREATE TABLE rotations (
        id TEXT PRIMARY KEY,
        old_key_id TEXT NOT NULL REFERENCES keys(id),
        provider_id TEXT NOT NULL REFERENCES providers(id),
        new_key_id TEXT NOT NULL,
        new_name TEXT NOT NULL,
        new_remote_id TEXT,
        state TEXT NOT NULL,
        targets TEXT NOT NULL,
        orphans_revoked INTEGER NOT NULL DEFAULT 0,
        error_code TEXT,
        error_message TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX rotations_one_open_per_key ON rotations(old_key_id)
        WHERE state NOT IN ('done', 'rolled_back');
    CREATE TABLE rotation_journal (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        rotation_id TEXT NOT NULL REFERENCES rotations(id),
        at TEXT NOT NULL,
        step TEXT NOT NULL,
        phase TEXT NOT NULL CHECK (phase IN ('intent', 'ok', 'failed')),
        detail TEXT NOT NULL
    );
    CREATE INDEX rotation_journal_by_rotation ON rotation_journal(rotation_id, seq);
    "#,
    // 3: manual (dashboard-only) providers; a person's "I did it by hand".
    r#"
    ALTER TABLE providers ADD COLUMN dashboard_url TEXT NOT NULL DEFAULT '';
    ALTER TABLE rotations ADD COLUMN confirmed_by_hand INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    "#,
    // 4: creates journaled before they reach the service; keys missing from
    // a listing (not yet confirmed gone), revocations only inferred, and
    // pasted keys the service could not be asked about.
    r#"
    CREATE TABLE key_creates (
        id TEXT PRIMARY KEY,
        provider_id TEXT NOT NULL,
        spec TEXT NOT NULL,
        started_at TEXT NOT NULL
    );
    ALTER TABLE keys ADD COLUMN missing_since TEXT;
    ALTER TABLE keys ADD COLUMN revoked_inferred INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE keys ADD COLUMN unverified INTEGER NOT NULL DEFAULT 0;
    "#,
    // 5: the keyed audit chain: who wrote each row, and the vault's identity
    // (it names the audit key's keychain account) and where keying began.
    r#"
    ALTER TABLE audit ADD COLUMN actor TEXT NOT NULL DEFAULT '';
    CREATE TABLE vault_meta (
        one INTEGER PRIMARY KEY CHECK (one = 1),
        id TEXT NOT NULL,
        audit_keyed_from INTEGER,
        audit_rekeyed_at INTEGER
    );
    INSERT INTO vault_meta (one, id) VALUES (1, lower(hex(randomblob(16))));
    "#,
    // 6: places a key was deployed to outside a rotation (`latchkey
    // deploy`), offered again at its next rotation. No secret: a target's
    // spec names a file and a variable, a repository and a secret name.
    r#"
    CREATE TABLE key_targets (
        key_id TEXT NOT NULL,
        spec TEXT NOT NULL,
        added_at TEXT NOT NULL,
        PRIMARY KEY (key_id, spec)
    );
    -- A listing looks each remote key up by provider and id: without this
    -- every lookup scanned the table (1,000 keys, 1,000 scans).
    CREATE INDEX keys_by_remote ON keys(provider_id, remote_id);
    "#,
    // 7: how each rotation swaps the keys (overlap, deactivate first, roll
    // in place); every rotation before it was an overlap.
    r#"
    ALTER TABLE rotations ADD COLUMN strategy TEXT NOT NULL DEFAULT 'overlap';
    "#,
    // 8: each key's request count as its service reported it, a row each
    // time a sync finds it changed (the key details' sparkline).
    r#"
    CREATE TABLE key_usage (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key_id TEXT NOT NULL,
        at TEXT NOT NULL,
        request_count INTEGER NOT NULL
    );
    CREATE INDEX key_usage_by_key ON key_usage(key_id, seq);
    "#,
    // 9: a revoke the service has taken off its records but may still
    // honour for a while (a cache, Dakora: up to 5 minutes): shown as
    // waiting until a later listing finds the key rejected.
    r#"
    ALTER TABLE keys ADD COLUMN revoke_waiting_since TEXT;
    "#,
    // 10: the length of each key's secret (never the secret): a folder
    // scan fingerprints only the words as long as some vault key. Filled
    // in from the keychain once for the keys from before it.
    r#"
    ALTER TABLE keys ADD COLUMN secret_len INTEGER;
    "#,
    // 11: where folder scans found each key (path and line, never the
    // value): the key's details list them and its next rotation offers
    // them as targets. A scan replaces what an earlier one found under
    // its folder.
    r#"
    CREATE TABLE scan_hits (
        key_id TEXT NOT NULL,
        path TEXT NOT NULL,
        line INTEGER NOT NULL,
        tracked INTEGER NOT NULL,
        found_at TEXT NOT NULL,
        PRIMARY KEY (key_id, path, line)
    );
    "#,
];
