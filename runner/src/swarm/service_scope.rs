//! Which services a reading of the swarm holds: every one, or only those of some stacks.
//! A plan that touches a few stacks of a busy swarm needs only their services, and the
//! daemon takes about as long to list a service as shoal takes to compare one.

use std::collections::BTreeSet;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ServiceScope {
    /// Every service of the swarm.
    #[default]
    Every,
    /// Only the services of these stacks (by their `com.docker.stack.namespace` label).
    Stacks(BTreeSet<String>),
}

impl ServiceScope {
    /// Whether a reading in this scope holds every service of stack `namespace` (`None`:
    /// services outside any stack).
    pub fn holds(&self, namespace: Option<&str>) -> bool {
        match self {
            ServiceScope::Every => true,
            ServiceScope::Stacks(stacks) => namespace.is_some_and(|name| stacks.contains(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_scope_holds_only_its_stacks() {
        let scope = ServiceScope::Stacks(BTreeSet::from(["web".to_owned()]));
        assert!(scope.holds(Some("web")));
        assert!(!scope.holds(Some("db")));
        assert!(!scope.holds(None));
        assert!(ServiceScope::Every.holds(None));
        assert!(ServiceScope::Every.holds(Some("db")));
    }
}
