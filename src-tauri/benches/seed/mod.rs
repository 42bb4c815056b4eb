//! Seeds a catalog with many keys for the UI benchmarks: one provider that
//! cannot be reached (so listing uses the catalog) and `n` keys with varied
//! names, environments and env vars. Returns the keys, so a benchmark can
//! work out what the app should show.

use latchkey_core::catalog::{Catalog, KeyRecord, ProviderKind, ProviderRecord};

/// The seeded provider's name, as the keys list shows it.
pub const PROVIDER_NAME: &str = "Bench";

pub fn seed(dir: &std::path::Path, n: usize) -> Vec<KeyRecord> {
    let mut catalog = Catalog::open(&dir.join("catalog.db")).expect("catalog");
    catalog
        .insert_provider(&ProviderRecord {
            id: "bench-provider".into(),
            kind: ProviderKind::Keyservice,
            name: PROVIDER_NAME.into(),
            base_url: "http://127.0.0.1:9".into(),
            project: "bench".into(),
            is_demo: false,
            created_at: "2026-01-01T00:00:00Z".into(),
            dashboard_url: String::new(),
        })
        .expect("provider");
    let envs = ["production", "staging", "dev", "ci"];
    let words = [
        "deploy", "billing", "search", "mailer", "metrics", "backup", "webhook", "import",
    ];
    let keys: Vec<KeyRecord> = (0..n)
        .map(|i| KeyRecord {
            id: format!("bench-{i:05}"),
            provider_id: "bench-provider".into(),
            remote_id: None,
            name: format!("{} key {i}", words[i % words.len()]),
            preview: format!("lk_{i:08}_••••••••••••••••abcd"),
            fingerprint: None,
            secret_len: None,
            scopes: vec!["read".into()],
            environment: envs[i % envs.len()].into(),
            env_var: format!("{}_API_KEY", words[i % words.len()].to_uppercase()),
            created_at: Some("2026-01-01T00:00:00Z".into()),
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
            has_secret: true,
            pending_rotation: None,
        })
        .collect();
    catalog.insert_keys(&keys).expect("keys");
    keys
}

/// The keys in the order the keys list shows them: the catalog's, newest
/// first, then by name (bytewise, as SQLite compares).
pub fn listed(mut keys: Vec<KeyRecord>) -> Vec<KeyRecord> {
    keys.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.name.cmp(&b.name))
    });
    keys
}

/// The keys a plain filter finds for `query`, in the list's order: the query,
/// trimmed and lowercased, within any of the fields the UI searches (name,
/// provider, environment, env var, preview). (Not every bench filters.)
#[allow(dead_code)]
pub fn matching<'a>(listed: &'a [KeyRecord], query: &str) -> Vec<&'a KeyRecord> {
    let q = query.trim().to_lowercase();
    listed
        .iter()
        .filter(|k| {
            [
                k.name.as_str(),
                PROVIDER_NAME,
                &k.environment,
                &k.env_var,
                &k.preview,
            ]
            .iter()
            .any(|field| field.to_lowercase().contains(&q))
        })
        .collect()
}
