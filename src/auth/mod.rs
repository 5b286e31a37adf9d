//! Bearer-token authentication and role checks.

mod extract;
pub mod jwt;

pub use jwt::{Claims, JwtKeys, TokenMinter, TokenVerifier};

use crate::domain::{Actor, Role};
use crate::error::ApiError;

/// Refuses the request with 403 unless the actor holds one of `roles`.
pub fn require_role(actor: &Actor, roles: &[Role]) -> Result<(), ApiError> {
    if actor.is_any(roles) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "role '{}' may not perform this operation",
            actor.role
        )))
    }
}
