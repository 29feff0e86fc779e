//! The labels shoal and `docker stack deploy` put on Swarm objects.

/// Set by `docker stack deploy` on every object of a stack; shoal sets it too, so that
/// `docker stack ls/ps/rm` keep working on stacks shoal deployed.
pub const STACK_NAMESPACE: &str = "com.docker.stack.namespace";
/// Set by `docker stack deploy` on a service's container spec: the image as written.
pub const STACK_IMAGE: &str = "com.docker.stack.image";

/// The commit an object was last applied from.
pub const APPLIED_COMMIT: &str = "dev.shoal.commit";
/// The workflow and environment that applied it.
pub const APPLIED_WORKFLOW: &str = "dev.shoal.workflow";
pub const APPLIED_ENVIRONMENT: &str = "dev.shoal.environment";
/// A hash of the desired spec as shoal computed it, to detect drift without re-deriving.
pub const SPEC_HASH: &str = "dev.shoal.spec-hash";
/// On configs and secrets: the hash of their content.
pub const CONTENT_HASH: &str = "dev.shoal.content-hash";
/// On configs and secrets: the name in the compose file, before the hash suffix.
pub const OBJECT_NAME: &str = "dev.shoal.name";
