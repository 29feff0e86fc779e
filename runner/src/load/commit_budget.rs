//! What loading and rendering one commit may spend in all: every file read, every YAML
//! document parsed and every render of one [`super::RepoFiles`] value draws on its budget,
//! so that many files within their own limits (a workflow of thousands of steps that each
//! render the same compose file) cannot add up without bound.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::limits::{MAX_COMMIT_BYTES, MAX_COMMIT_FUEL, MAX_COMMIT_YAML_NODES, describe_bytes};

/// The budget of one [`super::RepoFiles`] value. Once spent, every later spending fails
/// too, so the work on the commit ends quickly.
#[derive(Debug, Default)]
pub struct CommitBudget {
    bytes: AtomicU64,
    yaml_nodes: AtomicU64,
    fuel: AtomicU64,
}

/// Which part of a commit's budget ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BudgetExceeded {
    #[error(
        "the files this commit reads and renders come to more than {}, the limit of one commit",
        describe_bytes(MAX_COMMIT_BYTES)
    )]
    Bytes,
    #[error(
        "the YAML documents of this commit hold more than {MAX_COMMIT_YAML_NODES} nodes, the limit of one commit"
    )]
    YamlNodes,
    #[error(
        "the renders of this commit ran more than {MAX_COMMIT_FUEL} instructions, the limit of one commit"
    )]
    Fuel,
}

impl CommitBudget {
    /// Bytes read from the repo or written by a render.
    pub fn spend_bytes(&self, bytes: u64) -> Result<(), BudgetExceeded> {
        spend(&self.bytes, bytes, MAX_COMMIT_BYTES, BudgetExceeded::Bytes)
    }

    /// Nodes of a parsed YAML document, aliases expanded.
    pub fn spend_yaml_nodes(&self, nodes: u64) -> Result<(), BudgetExceeded> {
        spend(
            &self.yaml_nodes,
            nodes,
            MAX_COMMIT_YAML_NODES,
            BudgetExceeded::YamlNodes,
        )
    }

    /// Template fuel a render consumed.
    pub fn spend_fuel(&self, fuel: u64) -> Result<(), BudgetExceeded> {
        spend(&self.fuel, fuel, MAX_COMMIT_FUEL, BudgetExceeded::Fuel)
    }
}

/// A fresh budget: a copy of the files is another reading of the commit.
impl Clone for CommitBudget {
    fn clone(&self) -> CommitBudget {
        CommitBudget::default()
    }
}

fn spend(
    counter: &AtomicU64,
    amount: u64,
    limit: u64,
    exceeded: BudgetExceeded,
) -> Result<(), BudgetExceeded> {
    let before = counter.fetch_add(amount, Ordering::Relaxed);
    if before.saturating_add(amount) > limit {
        return Err(exceeded);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_once_spent_stays_spent() {
        let budget = CommitBudget::default();
        assert_eq!(budget.spend_fuel(MAX_COMMIT_FUEL), Ok(()));
        assert_eq!(budget.spend_fuel(1), Err(BudgetExceeded::Fuel));
        assert_eq!(budget.spend_fuel(0), Err(BudgetExceeded::Fuel));
        assert_eq!(budget.spend_bytes(1), Ok(()));
        assert_eq!(
            BudgetExceeded::Bytes.to_string(),
            "the files this commit reads and renders come to more than 64 MiB, the limit of one commit"
        );
    }
}
