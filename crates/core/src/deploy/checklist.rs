//! The checklist: places a person pastes the new key into by hand and
//! confirms one by one. Latchkey neither writes nor reads them; it only
//! keeps the confirmations (in the journal's target state).

use crate::catalog::{TargetSpec, TargetState, TargetStatus};
use crate::deploy::{Backup, DeployTarget, Written};
use crate::error::{Error, Result};
use crate::secret::{Fingerprint, Secret};

/// A checklist and which of its items the person has confirmed.
#[derive(Debug, Clone)]
pub struct ChecklistTarget {
    items: Vec<String>,
    confirmed: Vec<bool>,
}

impl ChecklistTarget {
    pub fn new(items: Vec<String>, confirmed: Vec<bool>) -> Self {
        Self { items, confirmed }
    }
}

#[async_trait::async_trait]
impl DeployTarget for ChecklistTarget {
    fn describe(&self) -> String {
        format!("checklist ({} items)", self.items.len())
    }

    fn by_hand(&self) -> bool {
        true
    }

    async fn prepare(&self) -> Result<TargetState> {
        let items: Vec<String> = self
            .items
            .iter()
            .map(|i| crate::vault::check_name("item", i))
            .collect::<Result<_>>()?;
        if items.is_empty() {
            return Err(Error::invalid(
                "items",
                "Name at least one place the key goes",
            ));
        }
        Ok(TargetState {
            confirmed: vec![false; items.len()],
            spec: TargetSpec::Manual { items },
            status: TargetStatus::Pending,
            digest: None,
            message: None,
            gitignore_warning: None,
            deployed_digest: None,
        })
    }

    /// Done once every item is confirmed; until then, waiting for them.
    async fn write(&self, _: &Secret, _: &Backup<'_>, _: Option<&str>) -> Result<Written> {
        let all = self.confirmed.len() == self.items.len() && self.confirmed.iter().all(|c| *c);
        Ok(if all {
            Written::Done {
                digest: None,
                message: "every item confirmed".into(),
            }
        } else {
            Written::AwaitingConfirmation {
                message: "Copy the new key, paste it in each place, then confirm".into(),
            }
        })
    }

    /// Latchkey cannot look: the person's confirmations stand for it.
    async fn holds(&self, _: &Fingerprint) -> Result<bool> {
        Ok(true)
    }

    /// The person puts the old key back; nothing is written here.
    async fn restore(
        &self,
        _: &Backup<'_>,
        _: Option<&str>,
        _: Option<&Secret>,
        _: &(dyn Fn() -> Result<Secret> + Sync),
    ) -> Result<String> {
        Ok("put the old key back in each place on the checklist".into())
    }
}
