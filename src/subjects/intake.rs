//! The checks every rights request passes before it touches the database.

use crate::appeals::AppealError;
use crate::domain::fields::Prose;
use crate::domain::subject::check_identity_method;
use crate::domain::validation::Checker;
use crate::domain::{Actor, Role};

/// A request made for a subject: by the subject themself (asking for anyone else is answered
/// 404, so others' existence is not revealed), by a privacy officer, or by an agent who says how
/// they verified the caller's identity. `fields` checks the request's own fields, so the client
/// hears of every problem at once.
pub(crate) fn check_request(
    actor: &Actor,
    subject_id: &str,
    identity_method: Option<&str>,
    fields: impl FnOnce(&mut Checker),
) -> Result<(), AppealError> {
    if actor.is(Role::Subject) && actor.id != subject_id {
        return Err(AppealError::NotFound);
    }
    let mut c = Checker::default();
    fields(&mut c);
    check_identity_method(&mut c, actor, identity_method);
    c.finish(()).map_err(AppealError::Invalid)
}

/// Checks the free text at `pointer` of a rights request: the shape its schema names.
pub(crate) fn prose(c: &mut Checker, pointer: &str, value: &str) {
    c.check::<Prose<2000>>(pointer, value);
}

/// A request whose only field is the free text at `pointer`.
pub(crate) fn check_prose(pointer: &str, value: &str) -> Result<(), AppealError> {
    let mut c = Checker::default();
    prose(&mut c, pointer, value);
    c.finish(()).map_err(AppealError::Invalid)
}
