//! The registry: which connector serves a connection. The only `match` on
//! service kinds; a new service is a connector module and one arm here.

use std::sync::Arc;

use super::aws::AwsConnector;
use super::cloudflare::CloudflareConnector;
use super::dakora::DakoraProvider;
use super::github::GithubProvider;
use super::gitlab::GitlabProvider;
use super::keyservice::KeyserviceProvider;
use super::manual::ManualProvider;
use super::netlify::NetlifyProvider;
use super::open_animate::OpenAnimateProvider;
use super::openai::OpenAiConnector;
use super::openrouter::OpenRouterConnector;
use super::sendgrid::SendgridConnector;
use super::twilio::TwilioConnector;
use super::vercel::VercelProvider;
use super::Connector;
use crate::catalog::{ProviderKind, ProviderRecord};
use crate::error::Result;
use crate::http::HttpPolicy;
use crate::secret::Secret;
use crate::services;

/// Whether a connection of this kind keeps a management token in the
/// keychain (a dashboard-only service has none).
pub fn needs_token(kind: ProviderKind) -> bool {
    match kind {
        ProviderKind::Keyservice
        | ProviderKind::Aws
        | ProviderKind::Dakora
        | ProviderKind::OpenAnimate => true,
        ProviderKind::Manual => false,
        ProviderKind::Github => true,
        ProviderKind::Gitlab | ProviderKind::Vercel | ProviderKind::Netlify => true,
        ProviderKind::Cloudflare => true,
        ProviderKind::OpenRouter => true,
        ProviderKind::OpenAi => true,
        ProviderKind::Sendgrid => true,
        ProviderKind::Twilio => true,
    }
}

/// Opens the connector for a recorded connection with its token.
pub fn open(
    record: &ProviderRecord,
    token: Secret,
    policy: HttpPolicy,
) -> Result<Arc<dyn Connector>> {
    Ok(match record.kind {
        ProviderKind::Keyservice => Arc::new(KeyserviceProvider::new(
            &record.base_url,
            &record.project,
            token,
            policy,
        )?),
        ProviderKind::Aws => Arc::new(AwsConnector::new(
            &record.base_url,
            &record.project,
            &token,
            policy,
        )?),
        ProviderKind::Github => Arc::new(GithubProvider::new(&record.base_url, token, policy)?),
        ProviderKind::Dakora => Arc::new(DakoraProvider::new(
            &record.base_url,
            &record.project,
            token,
            policy,
        )?),
        ProviderKind::OpenAnimate => {
            Arc::new(OpenAnimateProvider::new(&record.base_url, token, policy)?)
        }
        // A manual connection to a catalogue service (its id in `project`)
        // checks keys the catalogue's way; a custom one with a bearer call.
        ProviderKind::Manual => {
            match services::by_id(&record.project).and_then(|s| s.verify.clone()) {
                Some(check) => Arc::new(ManualProvider::with_check(
                    &record.base_url,
                    &record.dashboard_url,
                    check,
                    policy,
                )?),
                None => Arc::new(ManualProvider::new(
                    &record.base_url,
                    &record.dashboard_url,
                    policy,
                )?),
            }
        }
        // A project (its id or path) in the record: that project's access
        // tokens; none: the user's personal access tokens.
        ProviderKind::Gitlab => Arc::new(
            GitlabProvider::new(&record.base_url, token, policy)?.for_project(&record.project)?,
        ),
        ProviderKind::Vercel => Arc::new(VercelProvider::new(&record.base_url, token, policy)?),
        ProviderKind::Netlify => Arc::new(NetlifyProvider::new(&record.base_url, token, policy)?),
        ProviderKind::Cloudflare => {
            Arc::new(CloudflareConnector::new(&record.base_url, token, policy)?)
        }
        ProviderKind::OpenRouter => {
            Arc::new(OpenRouterConnector::new(&record.base_url, token, policy)?)
        }
        ProviderKind::OpenAi => Arc::new(OpenAiConnector::new(
            &record.base_url,
            &record.project,
            token,
            policy,
        )?),
        ProviderKind::Sendgrid => {
            Arc::new(SendgridConnector::new(&record.base_url, token, policy)?)
        }
        ProviderKind::Twilio => Arc::new(TwilioConnector::new(&record.base_url, &token, policy)?),
    })
}

/// Catalogue services whose connections are API connections through a
/// connector of their own (beyond Dakora and Open Animate, which the
/// vault names itself), by catalogue id.
const API_SERVICES: &[(&str, ProviderKind)] = &[
    ("cloudflare", ProviderKind::Cloudflare),
    ("openrouter", ProviderKind::OpenRouter),
    ("openai", ProviderKind::OpenAi),
    ("sendgrid", ProviderKind::Sendgrid),
    ("twilio", ProviderKind::Twilio),
];

/// Whether `service_id` names a catalogue service in [`API_SERVICES`].
pub fn is_api_service(service_id: &str) -> bool {
    API_SERVICES.iter().any(|(id, _)| *id == service_id)
}

/// The kind, default base URL and checked project of a new connection to
/// one of [`API_SERVICES`]; `None` for any other service.
pub fn api_service(
    service_id: &str,
    project: Option<&str>,
) -> Result<Option<(ProviderKind, &'static str, String)>> {
    let Some(&(_, kind)) = API_SERVICES.iter().find(|(id, _)| *id == service_id) else {
        return Ok(None);
    };
    Ok(Some(match kind {
        ProviderKind::Cloudflare => (kind, super::cloudflare::DEFAULT_BASE_URL, String::new()),
        ProviderKind::OpenRouter => (kind, super::openrouter::DEFAULT_BASE_URL, String::new()),
        ProviderKind::OpenAi => (
            kind,
            super::openai::DEFAULT_BASE_URL,
            super::openai::check_project(project.unwrap_or(""))?,
        ),
        ProviderKind::Sendgrid => (kind, super::sendgrid::DEFAULT_BASE_URL, String::new()),
        ProviderKind::Twilio => (kind, super::twilio::DEFAULT_BASE_URL, String::new()),
        _ => return Ok(None),
    }))
}
