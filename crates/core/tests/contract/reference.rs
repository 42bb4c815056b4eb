//! The reference key service's side (project `demo`), for the keyservice
//! connector and for a manual connection checking keys against it: read
//! through the service's own admin routes, never through the connector.

use async_trait::async_trait;
use latchkey_core::Secret;

use super::{Side, Started};
use crate::common::{key_service, DemoProject, Service, ADMIN};

struct Reference(Service);

#[async_trait]
impl Side for Reference {
    async fn live(&self) -> usize {
        self.0
            .remote_keys()
            .await
            .iter()
            .filter(|k| k["revoked_at"].is_null())
            .count()
    }

    async fn accepts(&self, secret: &Secret) -> bool {
        match self.0.verify_status(secret.expose_secret()).await {
            200 => true,
            401 => false,
            other => panic!("verify answered {other}"),
        }
    }

    fn scopes(&self) -> Vec<String> {
        vec!["read".into()]
    }

    async fn make_by_hand(&self, name: &str) -> (String, Secret) {
        let made = self.0.create_directly(name).await;
        (
            made["id"].as_str().expect("id").to_owned(),
            Secret::new(made["key"].as_str().expect("key")),
        )
    }
}

pub async fn keyservice() -> Started {
    let service = key_service(false).await;
    Started::new(&service.base.clone(), ADMIN, Reference(service)).project("demo")
}

/// A manual connection: keys are made and revoked in the dashboard; the
/// connector only checks them, here against the reference service.
pub async fn manual() -> Started {
    let service = key_service(false).await;
    let verify = format!("{}/v1/verify", service.base);
    Started {
        dashboard_url: "https://dashboard.example/keys".into(),
        ..Started::new(&verify, "", Reference(service))
    }
}
