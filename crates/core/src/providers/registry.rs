//! The registry: which connector serves a connection. The only `match` on
//! service kinds; a new service is a connector module and one arm here.

use std::sync::Arc;

use super::aws::AwsConnector;
use super::dakora::DakoraProvider;
use super::github::GithubProvider;
use super::gitlab::GitlabProvider;
use super::keyservice::KeyserviceProvider;
use super::manual::ManualProvider;
use super::netlify::NetlifyProvider;
use super::open_animate::OpenAnimateProvider;
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
        ProviderKind::Gitlab => Arc::new(GitlabProvider::new(&record.base_url, token, policy)?),
        ProviderKind::Vercel => Arc::new(VercelProvider::new(&record.base_url, token, policy)?),
        ProviderKind::Netlify => Arc::new(NetlifyProvider::new(&record.base_url, token, policy)?),
    })
}
