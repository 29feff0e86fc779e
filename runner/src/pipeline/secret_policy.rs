//! Whether a run may read the real values of the environment's secrets.

use crate::plan::Concealment;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretPolicy {
    /// The real values are read and rendered into what is written: `plan` and `apply` by
    /// an operator, pushes to the watched branches, drift checks.
    Trusted,
    /// No real value is ever read: a pull request's plan, whose files anyone who can open
    /// a pull request wrote. Fields that depend on a secret are compared when applied.
    Untrusted,
}

impl SecretPolicy {
    /// How a plan shows a field whose desired value depends on a secret.
    pub fn concealment(self) -> Concealment {
        match self {
            SecretPolicy::Trusted => Concealment::Sensitive,
            SecretPolicy::Untrusted => Concealment::ComparedWhenApplied,
        }
    }
}
