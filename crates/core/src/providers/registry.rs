//! The registry: which connector serves a connection. The only `match` on
//! service kinds; a new service is a connector module and one arm here.

use std::sync::Arc;

use super::keyservice::KeyserviceProvider;
use super::manual::ManualProvider;
use super::Connector;
use crate::catalog::{ProviderKind, ProviderRecord};
use crate::error::Result;
use crate::http::HttpPolicy;
use crate::secret::Secret;

/// Whether a connection of this kind keeps a management token in the
/// keychain (a dashboard-only service has none).
pub fn needs_token(kind: ProviderKind) -> bool {
    match kind {
        ProviderKind::Keyservice => true,
        ProviderKind::Manual => false,
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
        ProviderKind::Manual => Arc::new(ManualProvider::new(
            &record.base_url,
            &record.dashboard_url,
            policy,
        )?),
    })
}
