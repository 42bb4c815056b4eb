//! The service catalogue: what Latchkey knows about each service, one TOML
//! file per service under `crates/core/services/`, compiled in. Each entry
//! says which credential manages keys there, which env vars hold its keys,
//! what its keys look like (regexes with example forms), where its key page
//! is, how to ask it cheaply whether a key works (`verify`), its limits and
//! how rotation works there. Paste recognition (`recognise`), `check`'s
//! list of variables and the "Add service" list all read it.
//!
//! A new service is one file here and one line in `SOURCES`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

pub mod verify;

pub use verify::{VerifyCall, VerifyOutcome, VerifyRequest};

/// Every catalogue file, by id (the file's name).
const SOURCES: &[(&str, &str)] = &[
    ("anthropic", include_str!("../../services/anthropic.toml")),
    ("aws", include_str!("../../services/aws.toml")),
    ("cloudflare", include_str!("../../services/cloudflare.toml")),
    ("dakora", include_str!("../../services/dakora.toml")),
    ("gemini", include_str!("../../services/gemini.toml")),
    ("github", include_str!("../../services/github.toml")),
    ("gitlab", include_str!("../../services/gitlab.toml")),
    (
        "huggingface",
        include_str!("../../services/huggingface.toml"),
    ),
    ("keyservice", include_str!("../../services/keyservice.toml")),
    ("mailgun", include_str!("../../services/mailgun.toml")),
    ("netlify", include_str!("../../services/netlify.toml")),
    ("oaktis", include_str!("../../services/oaktis.toml")),
    (
        "open-animate",
        include_str!("../../services/open-animate.toml"),
    ),
    ("openai", include_str!("../../services/openai.toml")),
    ("openrouter", include_str!("../../services/openrouter.toml")),
    ("ppt-video", include_str!("../../services/ppt-video.toml")),
    ("resend", include_str!("../../services/resend.toml")),
    ("sendgrid", include_str!("../../services/sendgrid.toml")),
    ("stripe", include_str!("../../services/stripe.toml")),
    ("supabase", include_str!("../../services/supabase.toml")),
    ("twilio", include_str!("../../services/twilio.toml")),
    ("vercel", include_str!("../../services/vercel.toml")),
];

/// How Latchkey reaches a service's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(export, rename = "ConnectorKind")]
pub enum Connector {
    /// Keys are made and revoked through the service's API.
    Api,
    /// Dashboard only: the person makes and revokes keys; Latchkey checks.
    Manual,
}

/// One key format: a regex and the example forms it must match.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(export, rename = "KeyFormat")]
pub struct Format {
    pub regex: String,
    pub examples: Vec<String>,
}

/// A catalogue entry.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(export, rename = "CatalogueService")]
pub struct Service {
    pub id: String,
    pub name: String,
    pub connector: Connector,
    /// Variables that hold this service's keys, the usual one first.
    pub env_vars: Vec<String>,
    /// Variables that go with a key (a base URL), not keys themselves.
    #[serde(default)]
    pub other_env_vars: Vec<String>,
    /// One line: which credential Latchkey needs to manage keys there.
    pub credential: String,
    /// Where the person makes keys ("" when not published).
    pub dashboard: String,
    /// A page that opens the create form prefilled, where there is one.
    #[serde(default)]
    pub create_url: Option<String>,
    pub docs: String,
    pub limits: String,
    pub rotation: String,
    /// The service can switch a key off and on again.
    pub deactivate: bool,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub formats: Vec<Format>,
    #[serde(default)]
    pub verify: Option<VerifyRequest>,
}

/// A service (and the env var its keys usually go in) proposed for a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct Recognised {
    pub service_id: String,
    pub service_name: String,
    pub env_var: String,
}

struct Loaded {
    services: Vec<Service>,
    /// Per service, its compiled formats.
    regexes: Vec<Vec<Regex>>,
}

static CATALOGUE: LazyLock<Loaded> = LazyLock::new(|| {
    let mut services = Vec::new();
    let mut regexes = Vec::new();
    for (id, text) in SOURCES {
        // A broken entry is a build-time mistake the catalogue tests catch;
        // at run time it is left out rather than taking the app down.
        let Ok(service) = toml::from_str::<Service>(text) else {
            continue;
        };
        if service.id != *id {
            continue;
        }
        let compiled: Vec<Regex> = service
            .formats
            .iter()
            .filter_map(|f| Regex::new(&f.regex).ok())
            .collect();
        if compiled.len() != service.formats.len() {
            continue;
        }
        services.push(service);
        regexes.push(compiled);
    }
    Loaded { services, regexes }
});

/// Every service, in the order of `SOURCES` (by id).
pub fn catalogue() -> &'static [Service] {
    &CATALOGUE.services
}

/// How many catalogue files there are (a test checks each one loaded).
pub fn sources() -> usize {
    SOURCES.len()
}

/// One entry by id.
pub fn by_id(id: &str) -> Option<&'static Service> {
    catalogue().iter().find(|s| s.id == id)
}

/// The services whose key format `key` has, most specific first (the
/// longest literal prefix of the matching regex wins, so `sk-ant-…` is
/// Anthropic before anything that merely starts with `sk-`). Empty for a
/// key of no known format ("unknown service").
pub fn recognise(key: &str) -> Vec<Recognised> {
    let key = key.trim();
    let loaded = &*CATALOGUE;
    let mut found: Vec<(usize, &Service)> = Vec::new();
    for (service, regexes) in loaded.services.iter().zip(&loaded.regexes) {
        for (format, regex) in service.formats.iter().zip(regexes) {
            if regex.is_match(key) {
                found.push((literal_prefix(&format.regex), service));
                break;
            }
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found
        .into_iter()
        .map(|(_, s)| Recognised {
            service_id: s.id.clone(),
            service_name: s.name.clone(),
            env_var: s.env_vars.first().cloned().unwrap_or_default(),
        })
        .collect()
}

/// How many literal characters a regex starts with (after `^`).
fn literal_prefix(regex: &str) -> usize {
    regex
        .trim_start_matches('^')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .count()
}

/// Every catalogue env var that holds a key, with its service's id.
pub fn known_env_vars() -> BTreeMap<&'static str, &'static str> {
    let mut vars = BTreeMap::new();
    for s in catalogue() {
        for v in &s.env_vars {
            vars.entry(v.as_str()).or_insert(s.id.as_str());
        }
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_format_comes_first() {
        assert_eq!(literal_prefix("^sk-ant-api03-[A-Z]"), 13);
        assert_eq!(literal_prefix("^(sk|rk)_x"), 0);
        let anthropic = format!("sk-ant-api03-{}AA", "g".repeat(93));
        let got = recognise(&anthropic);
        assert_eq!(got[0].service_id, "anthropic", "{got:?}");
        assert_eq!(got[0].env_var, "ANTHROPIC_API_KEY");
        assert!(recognise("not a key at all").is_empty());
    }
}
