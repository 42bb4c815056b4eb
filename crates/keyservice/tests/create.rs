//! POST /api/projects/{project}/api-keys: the key object, the key format,
//! show-once.

mod common;

use common::*;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn time_of(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(v.as_str().expect("time string"), &Rfc3339).expect("RFC 3339")
}

#[tokio::test]
async fn create_returns_the_full_key_object_once() {
    let s = start_default().await;
    let obj = s
        .create_ok(
            "demo",
            json!({ "name": "ci deploy", "permissions": ["read", "write"], "expires_in_days": 30 }),
        )
        .await;
    let key = key_of(&obj);
    let parts: Vec<&str> = key.split('_').collect();
    assert_eq!(parts.len(), 3, "{key}");
    assert_eq!(parts[0], "lk");
    assert!(parts[1].len() == 8 && is_base62(parts[1]), "{key}");
    assert!(parts[2].len() == 24 && is_base62(parts[2]), "{key}");
    let id = id_of(&obj);
    assert!(
        id.starts_with("key_") && id.len() == 20 && id[4..].bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    assert_eq!(obj["name"], "ci deploy");
    assert_eq!(obj["key_prefix"], json!(&key[..11]));
    assert_eq!(
        obj["key_preview"],
        json!(format!("{}_{}{}", &key[..11], "•".repeat(16), &key[32..]))
    );
    assert_eq!(obj["permissions"], json!(["read", "write"]));
    assert_eq!(obj["last_used_at"], Value::Null);
    assert_eq!(obj["revoked_at"], Value::Null);
    assert_eq!(obj["request_count"], 0);
    let created = time_of(&obj["created_at"]);
    assert!(obj["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(
        time_of(&obj["expires_at"]) - created,
        time::Duration::days(30)
    );

    // Afterwards only the prefix and preview are ever shown.
    let listed = s.list("demo").await;
    let fetched: Value = s.get("demo", &id).await.json().await.expect("json");
    for shown in [Value::Array(listed), fetched] {
        let text = shown.to_string();
        assert!(!text.contains(&key), "full key shown again: {text}");
        assert!(!text.contains("\"key\""), "key field shown again: {text}");
    }
    assert_eq!(s.verify(&key).await.status(), 200);
}

#[tokio::test]
async fn permissions_default_to_read_and_expiry_to_never() {
    let s = start_default().await;
    let obj = s.create_named("demo", "defaults").await;
    assert_eq!(obj["permissions"], json!(["read"]));
    assert_eq!(obj["expires_at"], Value::Null);
}

#[tokio::test]
async fn every_key_has_its_own_prefix() {
    let s = start_default().await;
    let mut prefixes = std::collections::HashSet::new();
    for i in 0..60 {
        let obj = s
            .create_named(&format!("p{}", i / 10), &format!("k{i}"))
            .await;
        assert!(prefixes.insert(obj["key_prefix"].as_str().expect("prefix").to_owned()));
    }
}

#[tokio::test]
async fn names_of_64_characters_and_unicode_are_accepted() {
    let s = start_default().await;
    let name: String = "ü".repeat(64);
    let obj = s.create_ok("demo", json!({ "name": name })).await;
    assert_eq!(obj["name"], json!(name));
    let obj = s
        .create_ok(
            "demo",
            json!({ "name": "a", "permissions": null, "expires_in_days": null }),
        )
        .await;
    assert_eq!(obj["permissions"], json!(["read"]));
}
