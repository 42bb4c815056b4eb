//! AWS's side: IAM access keys of the user `app` on `moto_server` with
//! credential checking on, read with the admin pair through IAM and STS
//! directly (the emulator, not the connector). A key is accepted when STS
//! answers for it and IAM lists it `Active`: moto's STS does not look at a
//! key's status, which real AWS does.

use async_trait::async_trait;
use latchkey_core::aws::{AwsClient, Credentials};
use latchkey_core::http::HttpPolicy;
use latchkey_core::Secret;

use super::{Side, Started};
use crate::common::moto::{set_up, Moto, SET_UP_CALLS};

struct Aws {
    client: AwsClient,
    admin: Credentials,
    _moto: Moto,
}

impl Aws {
    /// The user's keys as IAM lists them: id and status.
    async fn keys(&self) -> Vec<(String, String)> {
        let answer = self
            .client
            .iam(&self.admin, "ListAccessKeys", &[("UserName", "app")], true)
            .await
            .expect("ListAccessKeys");
        answer
            .at(&["ListAccessKeysResult", "AccessKeyMetadata"])
            .expect("AccessKeyMetadata")
            .all("member")
            .map(|m| {
                let field = |name| m.text_at(&[name]).expect(name).to_owned();
                (field("AccessKeyId"), field("Status"))
            })
            .collect()
    }
}

#[async_trait]
impl Side for Aws {
    async fn live(&self) -> usize {
        self.keys()
            .await
            .iter()
            .filter(|(_, status)| status == "Active")
            .count()
    }

    async fn accepts(&self, secret: &Secret) -> bool {
        let pair = Credentials::parse(secret).expect("a key pair");
        let active = self
            .keys()
            .await
            .iter()
            .any(|(id, status)| *id == pair.access_key_id && status == "Active");
        let answered = self
            .client
            .caller_identity(&pair)
            .await
            .expect("GetCallerIdentity ran")
            .is_some();
        active && answered
    }

    fn made_up(&self) -> Secret {
        Secret::new("AKIAZZZZZZZZZZZZZZZZ:madeUpSecretAccessKeyMadeUpSecretAcce00")
    }
}

/// The admin pair (allowed everything) manages the keys of the user `app`.
pub async fn aws() -> Started {
    // Starting the emulator waits for its port: off the async workers.
    let moto = tokio::task::spawn_blocking(|| Moto::start(SET_UP_CALLS))
        .await
        .expect("moto started");
    let admin = set_up(&moto).await;
    let client =
        AwsClient::new(Some(&moto.base), "us-east-1", HttpPolicy::default()).expect("client");
    let base = moto.base.clone();
    let credential = admin.to_secret();
    let side = Aws {
        client,
        admin,
        _moto: moto,
    };
    Started::new(&base, credential.expose_secret(), side).project("region=us-east-1 user=app")
}
