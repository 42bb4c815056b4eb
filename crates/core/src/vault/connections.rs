//! Connections to services: adding, opening (cached) and testing them; the Demo provider.

use super::*;
use crate::catalog::ProviderRemoval;

/// Why a connection cannot go yet: a create is journaled on it.
fn creating_on(name: &str) -> String {
    format!("A key is being created on \"{name}\"; try again once that is settled")
}

/// A remote deploy target's connection, by name: `github:gh:…` writes
/// through the GitHub connection named `gh` with its keychain token.
impl crate::deploy::Connections for Vault {
    fn remote(&self, kind: &str, provider: &str) -> Result<crate::deploy::Remote> {
        let record = self
            .catalog()
            .providers()?
            .into_iter()
            .find(|p| p.name == provider && p.kind.as_str() == kind)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "The {kind} connection \"{}\"",
                    crate::untrusted::clean(provider, 64, &[])
                ))
            })?;
        let token = self.provider_credential(&record)?;
        Ok(crate::deploy::Remote {
            base_url: record.base_url,
            token,
            policy: self.http.clone(),
            project: record.project,
        })
    }
}

/// Connections, shared by every part.
impl Vault {
    pub(crate) fn provider_record(&self, id: &str) -> Result<ProviderRecord> {
        self.catalog()
            .provider(id)?
            .ok_or_else(|| Error::NotFound("That provider".into()))
    }

    /// A connection to a provider. Connections are kept for the vault's
    /// life (a keychain read costs milliseconds), keyed by provider id and
    /// URL; a changed token or URL makes a new one.
    pub(crate) fn connect(&self, record: &ProviderRecord) -> Result<Arc<dyn Connector>> {
        let cache_key = format!("{}|{}|{}", record.id, record.base_url, record.project);
        if let Some(c) = self.connections().get(&cache_key) {
            return Ok(c.clone());
        }
        let token = if crate::providers::registry::needs_token(record.kind) {
            self.provider_credential(record)?
        } else {
            Secret::new("")
        };
        let connection = crate::providers::registry::open(record, token, self.http.clone())?;
        self.connections().insert(cache_key, connection.clone());
        Ok(connection)
    }

    pub(super) fn connections(&self) -> MutexGuard<'_, HashMap<String, Arc<dyn Connector>>> {
        self.connections.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets cached connections (a provider's token changed).
    pub(crate) fn forget_connections(&self) {
        self.connections().clear();
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// A connection's credential, or an error that says it is the
    /// connection's (not a key's) and how to put it back.
    fn provider_credential(&self, record: &ProviderRecord) -> Result<Secret> {
        self.provider_token(&record.id).map_err(|e| match e {
            Error::SecretMissing => Error::ProviderCredentialMissing,
            e => e,
        })
    }

    /// A connection's token: from memory after the first keychain read.
    pub(crate) fn provider_token(&self, provider_id: &str) -> Result<Secret> {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = tokens.get(provider_id) {
            return Ok(t.clone());
        }
        let token = self
            .store
            .get(&provider_account(provider_id))?
            .ok_or(Error::SecretMissing)?;
        tokens.insert(provider_id.to_owned(), token.clone());
        Ok(token)
    }
}

impl ConnectionOps<'_> {
    /// Adds a reference key service connection; the token goes to the keychain.
    pub fn add_provider(&self, new: NewProvider) -> Result<ProviderView> {
        let name = check_name("name", &new.name)?;
        check_base_url(&new.base_url)?;
        check_project(new.project.trim())?;
        if new.admin_token.expose_secret().trim().is_empty() {
            return Err(Error::invalid(
                "admin_token",
                "Enter the service's admin token",
            ));
        }
        let record = ProviderRecord {
            id: uuid::Uuid::new_v4().to_string(),
            kind: ProviderKind::Keyservice,
            name,
            base_url: new.base_url.trim().trim_end_matches('/').to_owned(),
            project: new.project.trim().to_owned(),
            is_demo: false,
            created_at: self.now(),
            dashboard_url: String::new(),
        };
        self.store
            .put(&provider_account(&record.id), &new.admin_token.trimmed())?;
        if let Err(e) = self.catalog().insert_provider(&record) {
            let _ = self.store.delete(&provider_account(&record.id));
            return Err(e);
        }
        self.audit(
            "provider_add",
            None,
            Some(&record.id),
            &format!("added provider \"{}\"", record.name),
        )?;
        Ok(provider_view(&record))
    }

    /// Adds a dashboard-only service: Latchkey keeps and deploys its keys and
    /// checks them against `verify_url`; creating and revoking are by hand.
    pub fn add_manual_provider(&self, new: NewManualProvider) -> Result<ProviderView> {
        let name = check_name("name", &new.name)?;
        let verify_url = check_base_url(new.verify_url.trim())
            .map_err(|_| Error::invalid("verify_url", "Enter the https URL that checks a key"))?;
        let dashboard_url = check_base_url(new.dashboard_url.trim()).map_err(|_| {
            Error::invalid(
                "dashboard_url",
                "Enter the https URL of the service's dashboard",
            )
        })?;
        let record = ProviderRecord {
            id: uuid::Uuid::new_v4().to_string(),
            kind: ProviderKind::Manual,
            name,
            base_url: verify_url.to_string(),
            project: String::new(),
            is_demo: false,
            created_at: self.now(),
            dashboard_url: dashboard_url.to_string(),
        };
        self.catalog().insert_provider(&record)?;
        self.audit(
            "provider_add",
            None,
            Some(&record.id),
            &format!("added manual provider \"{}\"", record.name),
        )?;
        Ok(provider_view(&record))
    }

    /// A connection to a service with its own connector (Dakora, Open
    /// Animate): the management credential goes to the keychain.
    fn add_api_service_provider(
        &self,
        new: NewServiceProvider,
        service_id: &str,
        service_name: &str,
    ) -> Result<ProviderView> {
        use crate::providers::{dakora, open_animate};
        let name = check_name("name", &new.name)?;
        let (kind, default_url, project) = if service_id == "dakora" {
            let project = new.project.as_deref().unwrap_or("").trim();
            if project.is_empty() {
                return Err(Error::invalid(
                    "project",
                    "Dakora needs --project: the UUID of the project whose keys Latchkey manages",
                ));
            }
            (
                ProviderKind::Dakora,
                dakora::DEFAULT_BASE_URL,
                dakora::check_project(project)?,
            )
        } else if let Some((kind, default_url, project)) =
            crate::providers::registry::api_service(service_id, new.project.as_deref())?
        {
            (kind, default_url, project)
        } else {
            (
                ProviderKind::OpenAnimate,
                open_animate::DEFAULT_BASE_URL,
                String::new(),
            )
        };
        let base_url = new
            .base_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .unwrap_or(default_url);
        check_base_url(base_url)?;
        let credential = match &new.credential {
            Some(c) if !c.expose_secret().trim().is_empty() => {
                c.trimmed()
            }
            _ => {
                return Err(Error::invalid(
                    "admin_token",
                    format!("{service_name} needs its management credential (from stdin or LATCHKEY_ADMIN_TOKEN)"),
                ))
            }
        };
        let record = ProviderRecord {
            id: uuid::Uuid::new_v4().to_string(),
            kind,
            name,
            base_url: base_url.trim_end_matches('/').to_owned(),
            project,
            is_demo: false,
            created_at: self.now(),
            dashboard_url: String::new(),
        };
        self.store.put(&provider_account(&record.id), &credential)?;
        if let Err(e) = self.catalog().insert_provider(&record) {
            let _ = self.store.delete(&provider_account(&record.id));
            return Err(e);
        }
        self.audit(
            "provider_add",
            None,
            Some(&record.id),
            &format!("added {service_name} connection \"{}\"", record.name),
        )?;
        Ok(provider_view(&record))
    }

    /// Adds an AWS connection: an access key pair (checked by signing a
    /// call with it), a region and optionally another IAM user.
    fn add_aws(&self, new: NewServiceProvider) -> Result<ProviderView> {
        use crate::providers::aws::{AwsConnector, AwsSettings};
        let name = check_name("name", &new.name)?;
        let credential = new.credential.ok_or_else(|| {
            Error::invalid(
                "admin_token",
                "An AWS connection needs an access key pair: ACCESS_KEY_ID:SECRET_ACCESS_KEY",
            )
        })?;
        let credential = credential.trimmed();
        let base_url = match new.base_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => check_base_url(url)?.to_string(),
            _ => String::new(),
        };
        let settings = AwsSettings {
            region: new
                .region
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| AwsSettings::DEFAULT_REGION.into()),
            user: new
                .user
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty()),
        };
        if let Some(user) = &settings.user {
            AwsSettings::check_user(user)?;
        }
        let project = settings.to_project();
        // Refuses a malformed pair, region or user before anything is kept.
        AwsConnector::new(&base_url, &project, &credential, self.http.clone())?;
        let record = ProviderRecord {
            id: uuid::Uuid::new_v4().to_string(),
            kind: ProviderKind::Aws,
            name,
            base_url,
            project,
            is_demo: false,
            created_at: self.now(),
            dashboard_url: "https://console.aws.amazon.com/iam/home#/security_credentials".into(),
        };
        self.store.put(&provider_account(&record.id), &credential)?;
        if let Err(e) = self.catalog().insert_provider(&record) {
            let _ = self.store.delete(&provider_account(&record.id));
            return Err(e);
        }
        self.audit(
            "provider_add",
            None,
            Some(&record.id),
            &format!(
                "added AWS connection \"{}\" ({})",
                record.name, record.project
            ),
        )?;
        Ok(provider_view(&record))
    }

    /// Adds a connection to a catalogue service. The reference key service
    /// is an API connection (base URL, project and admin token needed);
    /// Dakora and Open Animate are API connections; Cloudflare, OpenRouter,
    /// OpenAI, SendGrid and Twilio are when given their management
    /// credential; every other service, or one of those five given no
    /// credential, is a manual one:
    /// keys are made and revoked in its dashboard and checked the
    /// catalogue's way, at its own address or `base_url` (self-hosted, an
    /// emulator). A service that publishes no check needs `base_url`: the
    /// URL that answers 2xx for a working key.
    pub fn add_service_provider(&self, new: NewServiceProvider) -> Result<ProviderView> {
        let service = crate::services::by_id(new.service.trim()).ok_or_else(|| {
            Error::invalid(
                "service",
                format!(
                    "\"{}\" is not a service Latchkey knows; `latchkey services` lists them",
                    crate::untrusted::clean(&new.service, 64, &[])
                ),
            )
        })?;
        if service.id == "keyservice" {
            let (Some(base_url), Some(admin_token)) = (new.base_url, new.credential) else {
                return Err(Error::invalid(
                    "base_url",
                    "The Latchkey key service needs --base-url, --project and its admin token",
                ));
            };
            return self.add_provider(NewProvider {
                name: new.name,
                base_url,
                admin_token,
                project: new.project.unwrap_or_default(),
            });
        }
        if service.id == "aws" {
            return self.add_aws(new);
        }
        if let Some(kind) = ci_kind(&service.id) {
            return self.add_ci_provider(new, kind);
        }
        // A service with its own connector given no credential stays a
        // manual connection (dashboard + checks), as before the connector.
        let has_credential = new
            .credential
            .as_ref()
            .is_some_and(|c| !c.expose_secret().trim().is_empty());
        if service.id == "dakora"
            || service.id == "open-animate"
            || (crate::providers::registry::is_api_service(&service.id) && has_credential)
        {
            return self.add_api_service_provider(new, &service.id, &service.name);
        }
        let name = check_name("name", &new.name)?;
        let address = match (&new.base_url, &service.verify) {
            (Some(url), _) => check_base_url(url.trim())?,
            (None, Some(check)) => {
                let url = url::Url::parse(&check.url)
                    .map_err(|_| Error::invalid("base_url", "The catalogue's check URL is not usable"))?;
                check_base_url(&url.origin().ascii_serialization())?
            }
            (None, None) => {
                return Err(Error::invalid(
                    "base_url",
                    format!(
                        "{} publishes no way to check a key: give the URL that answers 2xx for a working key with --base-url",
                        service.name
                    ),
                ))
            }
        };
        let dashboard = service
            .create_url
            .clone()
            .filter(|u| !u.is_empty())
            .or_else(|| Some(service.dashboard.clone()).filter(|u| !u.is_empty()))
            .or_else(|| Some(service.docs.clone()).filter(|u| !u.is_empty()))
            .unwrap_or_else(|| address.to_string());
        let record = ProviderRecord {
            id: uuid::Uuid::new_v4().to_string(),
            kind: ProviderKind::Manual,
            name,
            base_url: address.to_string(),
            // A manual connection's project names its catalogue service.
            project: service.id.clone(),
            is_demo: false,
            created_at: self.now(),
            dashboard_url: dashboard,
        };
        self.catalog().insert_provider(&record)?;
        self.audit(
            "provider_add",
            None,
            Some(&record.id),
            &format!("added {} connection \"{}\"", service.name, record.name),
        )?;
        Ok(provider_view(&record))
    }

    /// A connection whose token writes CI secrets or variables: GitHub
    /// (Actions secrets), GitLab and Vercel (also their tokens), Netlify.
    /// Its API address is the service's own unless `base_url` (GitHub
    /// Enterprise's `https://HOST/api/v3`, a self-managed GitLab); the
    /// token is kept in the keychain.
    fn add_ci_provider(&self, new: NewServiceProvider, kind: ProviderKind) -> Result<ProviderView> {
        let name = check_name("name", &new.name)?;
        let (service_name, default_url, dashboard) = match kind {
            ProviderKind::Github => (
                "GitHub",
                crate::providers::github::DEFAULT_BASE_URL,
                "https://github.com/settings/personal-access-tokens",
            ),
            ProviderKind::Gitlab => (
                "GitLab",
                crate::providers::gitlab::DEFAULT_BASE_URL,
                "https://gitlab.com/-/user_settings/personal_access_tokens",
            ),
            ProviderKind::Vercel => (
                "Vercel",
                crate::providers::vercel::DEFAULT_BASE_URL,
                "https://vercel.com/account/settings/tokens",
            ),
            _ => (
                "Netlify",
                crate::providers::netlify::DEFAULT_BASE_URL,
                "https://app.netlify.com/user/applications#personal-access-tokens",
            ),
        };
        let base_url = new
            .base_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .unwrap_or(default_url);
        check_base_url(base_url)?;
        let token = new
            .credential
            .filter(|t| !t.expose_secret().trim().is_empty())
            .ok_or_else(|| {
                Error::invalid("admin_token", format!("Enter the {service_name} token"))
            })?;
        let base_url = base_url.trim_end_matches('/');
        // A GitLab connection given a project manages that project's
        // access tokens (the project kept in `project`, its settings page
        // as the dashboard); the others keep their kind there.
        let gitlab_project = match kind {
            ProviderKind::Gitlab => {
                crate::providers::gitlab::check_project(new.project.as_deref().unwrap_or(""))?
            }
            _ => None,
        };
        let (project, dashboard) = match gitlab_project {
            Some(p) if p.contains('/') => {
                let dashboard = format!("{base_url}/{p}/-/settings/access_tokens");
                (p, dashboard)
            }
            Some(p) => {
                let dashboard = format!("{base_url}/projects/{p}");
                (p, dashboard)
            }
            None => (kind.as_str().to_owned(), dashboard.to_owned()),
        };
        let record = ProviderRecord {
            id: uuid::Uuid::new_v4().to_string(),
            kind,
            name,
            base_url: base_url.to_owned(),
            project,
            is_demo: false,
            created_at: self.now(),
            dashboard_url: dashboard,
        };
        self.store
            .put(&provider_account(&record.id), &token.trimmed())?;
        if let Err(e) = self.catalog().insert_provider(&record) {
            let _ = self.store.delete(&provider_account(&record.id));
            return Err(e);
        }
        self.audit(
            "provider_add",
            None,
            Some(&record.id),
            &format!("added {service_name} connection \"{}\"", record.name),
        )?;
        Ok(provider_view(&record))
    }

    /// Registers (or re-points) the built-in Demo provider at `base_url`.
    pub fn ensure_demo_provider(
        &self,
        base_url: &str,
        admin_token: &Secret,
    ) -> Result<ProviderView> {
        let existing = self.catalog().demo_provider()?;
        let record = match existing {
            Some(record) => {
                self.catalog().update_provider_url(&record.id, base_url)?;
                ProviderRecord {
                    base_url: base_url.to_owned(),
                    ..record
                }
            }
            None => {
                let record = ProviderRecord {
                    id: uuid::Uuid::new_v4().to_string(),
                    kind: ProviderKind::Keyservice,
                    name: DEMO_NAME.into(),
                    base_url: base_url.to_owned(),
                    project: DEMO_PROJECT.into(),
                    is_demo: true,
                    created_at: self.now(),
                    dashboard_url: String::new(),
                };
                self.catalog().insert_provider(&record)?;
                record
            }
        };
        self.store.put(&provider_account(&record.id), admin_token)?;
        self.forget_connections();
        Ok(provider_view(&record))
    }

    /// The Demo provider's admin token: this data folder's own, made on
    /// first use under the folder's lock and kept in the keychain. Two
    /// processes starting at once agree on it, and two data folders on one
    /// keychain never replace each other's (a process joining a running
    /// Demo must hold the token it runs with). The one entry older versions
    /// kept for every folder is taken over when present, so a Demo an older
    /// version serves can still be joined.
    pub fn demo_admin_token(&self) -> Result<Secret> {
        let held = crate::store::MakeOnceLock::take(self.data_dir())?;
        let account = format!("demo:admin-token:{}", self.catalog().vault_id()?);
        crate::store::get_or_make(
            self.store.as_ref(),
            &held,
            &account,
            Some("demo:admin-token"),
            || Secret::new(format!("lkdemo_{}", uuid::Uuid::new_v4().simple())),
        )
    }

    pub fn providers(&self) -> Result<Vec<ProviderView>> {
        Ok(self
            .catalog()
            .providers()?
            .iter()
            .map(provider_view)
            .collect())
    }

    /// Tests a provider's connection with an authenticated call.
    pub async fn test_provider(&self, provider_id: &str) -> Result<()> {
        let record = self.provider_record(provider_id)?;
        self.connect(&record)?.test().await
    }

    /// The connection `provider_id` names, unless it is the built-in Demo
    /// service, which is never removed.
    fn removable_provider(&self, provider_id: &str) -> Result<ProviderRecord> {
        let record = self.provider_record(provider_id)?;
        if record.is_demo {
            return Err(Error::invalid(
                "provider",
                "The built-in Demo service cannot be removed",
            ));
        }
        Ok(record)
    }

    /// Removes a connection that holds no keys (one added by mistake, or
    /// whose service is gone), with its credential in the keychain. A
    /// connection with keys stays: they, revoked ones included, are its
    /// history. Audited.
    pub fn remove_provider(&self, provider_id: &str) -> Result<()> {
        let record = self.removable_provider(provider_id)?;
        let in_use = |(keys, _creates): (u64, u64)| {
            Error::invalid(
                "provider",
                if keys == 0 {
                    creating_on(&record.name)
                } else {
                    format!(
                        "\"{}\" has {keys} key{} in Latchkey (revoked ones count: they are its history); remove it with its keys to forget them too (`latchkey providers remove NAME --forget-keys {keys}`)",
                        record.name,
                        if keys == 1 { "" } else { "s" }
                    )
                },
            )
        };
        // The delete itself checks for keys and creates in flight (another
        // Latchkey window or terminal may be adding one right now).
        if !self.catalog().delete_unused_provider(&record.id)? {
            return Err(in_use(self.catalog().provider_use(&record.id)?));
        }
        self.forget_connections();
        self.audit(
            "provider_remove",
            None,
            Some(&record.id),
            &super::activity::removed_provider_detail(&record.name),
        )?;
        // Last: a keychain that fails here leaves only an entry nothing
        // reads (the id is never reused); the connection is gone either way.
        let _ = self.store.delete(&provider_account(&record.id));
        Ok(())
    }

    /// Removes a connection together with its keys, which Latchkey then
    /// forgets: each key's secret leaves this computer's keychain, and its
    /// history here (generations, rotations, deploy targets, usage) the
    /// catalog. The audit log keeps every line, and names each forgotten key
    /// in a `key_forget` line. Nothing changes on the service: a key still
    /// active there keeps working until it is revoked.
    ///
    /// `expected` is the number of keys the person was shown: a key added
    /// meanwhile (another window, a terminal, a sync) makes it refuse rather
    /// than forget a key nobody saw. Refused too while a key is being created
    /// or rotated on the connection. Returns how many keys were forgotten.
    pub fn remove_provider_and_keys(&self, provider_id: &str, expected: usize) -> Result<usize> {
        let record = self.removable_provider(provider_id)?;
        let now = self.now();
        let removal = self.catalog().batch(|c| {
            let removal = c.delete_provider_with_keys(&record.id)?;
            if let ProviderRemoval::Removed(keys) = &removal {
                if keys.len() != expected {
                    return Err(Error::invalid(
                        "provider",
                        format!(
                            "\"{}\" now has {} key{}, not {expected}: look again before removing it",
                            record.name,
                            keys.len(),
                            if keys.len() == 1 { "" } else { "s" }
                        ),
                    ));
                }
                for k in keys {
                    c.append_audit(
                        &now,
                        "key_forget",
                        Some(&k.id),
                        Some(&record.id),
                        &super::activity::forgotten_key_detail(&k.name),
                    )?;
                }
                c.append_audit(
                    &now,
                    "provider_remove",
                    None,
                    Some(&record.id),
                    &super::activity::removed_provider_detail(&record.name),
                )?;
            }
            Ok(removal)
        })?;
        let keys = match removal {
            ProviderRemoval::Removed(keys) => keys,
            ProviderRemoval::Busy { creating } => {
                return Err(Error::invalid(
                    "provider",
                    if creating {
                        creating_on(&record.name)
                    } else {
                        format!(
                            "A key of \"{}\" is being rotated; finish or roll back its rotation first",
                            record.name
                        )
                    },
                ))
            }
        };
        self.forget_connections();
        // Last, as for `remove_provider`: a keychain that fails here leaves
        // entries nothing reads (ids are never reused).
        for k in keys.iter().filter(|k| k.has_secret) {
            let _ = self.store.delete(&key_account(&k.id));
        }
        let _ = self.store.delete(&provider_account(&record.id));
        Ok(keys.len())
    }

    /// Replaces a connection's management credential: an admin token the
    /// service rotated or expired, a new access key pair, one missing from
    /// this computer's keychain. The new one must pass the connection's
    /// test first; one the service refuses (or that cannot be checked now)
    /// is not kept, and the old one stays. Audited; the credential itself
    /// goes only to the keychain.
    pub async fn set_provider_credential(
        &self,
        provider_id: &str,
        credential: Secret,
    ) -> Result<ProviderView> {
        let record = self.provider_record(provider_id)?;
        if record.is_demo {
            return Err(Error::invalid(
                "provider",
                "The Demo service's token is Latchkey's own and cannot be changed",
            ));
        }
        if !crate::providers::registry::needs_token(record.kind) {
            return Err(Error::invalid(
                "provider",
                format!(
                    "\"{}\" is a dashboard-only service: Latchkey holds no credential for it",
                    record.name
                ),
            ));
        }
        let credential = credential.trimmed();
        if credential.is_empty() {
            return Err(Error::invalid("admin_token", "Enter the new token"));
        }
        crate::providers::registry::open(&record, credential.clone(), self.http.clone())?
            .test()
            .await?;
        self.store.put(&provider_account(&record.id), &credential)?;
        self.forget_connections();
        self.audit(
            // As when a rotation switches the connection to its new key.
            "provider_token",
            None,
            Some(&record.id),
            &format!(
                "\"{}\" signs in with a new credential, given by hand",
                record.name
            ),
        )?;
        Ok(provider_view(&record))
    }

    // ---- keys ----
}

pub(super) fn provider_view(r: &ProviderRecord) -> ProviderView {
    ProviderView {
        id: r.id.clone(),
        name: r.name.clone(),
        kind: r.kind,
        base_url: r.base_url.clone(),
        project: r.project.clone(),
        is_demo: r.is_demo,
        dashboard_url: r.dashboard_url.clone(),
    }
}

/// The connection kind a catalogue service with a CI deploy target gets.
fn ci_kind(service: &str) -> Option<ProviderKind> {
    match service {
        "github" => Some(ProviderKind::Github),
        "gitlab" => Some(ProviderKind::Gitlab),
        "vercel" => Some(ProviderKind::Vercel),
        "netlify" => Some(ProviderKind::Netlify),
        _ => None,
    }
}
