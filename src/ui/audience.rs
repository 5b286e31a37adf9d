//! Who each set of screens is for. A handler names its audience in its extractor
//! (`SignedIn<Reviewers>`, `Submission<Agents>`), which admits exactly the roles of the API
//! operations the screen stands for, with the API's own check (`auth::require_role`).

use crate::auth::require_role;
use crate::domain::{Actor, Role};
use crate::ui::error::UiError;

/// The people a set of screens is for.
pub trait Audience {
    /// Refuses with 403 unless `actor` belongs to this audience.
    fn admit(actor: &Actor) -> Result<(), UiError>;
}

fn only(actor: &Actor, roles: &[Role]) -> Result<(), UiError> {
    require_role(actor, roles).map_err(UiError::from)
}

/// Anyone signed in, whatever their role: signing out.
pub struct Anyone;

impl Audience for Anyone {
    fn admit(_: &Actor) -> Result<(), UiError> {
        Ok(())
    }
}

/// The reviewer's queue and case screens.
pub struct Reviewers;

impl Audience for Reviewers {
    fn admit(actor: &Actor) -> Result<(), UiError> {
        only(actor, &[Role::Reviewer])
    }
}

/// The call-centre console.
pub struct Agents;

impl Audience for Agents {
    fn admit(actor: &Actor) -> Result<(), UiError> {
        only(actor, &[Role::Agent])
    }
}

/// The subject portal.
pub struct Subjects;

impl Audience for Subjects {
    fn admit(actor: &Actor) -> Result<(), UiError> {
        only(actor, &[Role::Subject])
    }
}

/// The supervisor's dashboard and appeal screens.
pub struct Supervisors;

impl Audience for Supervisors {
    fn admit(actor: &Actor) -> Result<(), UiError> {
        only(actor, &[Role::Supervisor])
    }
}

/// Who files an appeal from a decision's screen. The agent console and the subject portal share
/// that screen and its filing flow; this is what differs between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filer {
    /// A call-centre agent, for a caller: records the channel and the identity check.
    Agent,
    /// The subject, for themselves, on the web.
    Subject,
}

impl Filer {
    /// The screen of decision `id` for this filer.
    pub fn decision_path(self, id: &str) -> String {
        match self {
            Filer::Agent => format!("/ui/agent/decisions/{id}"),
            Filer::Subject => format!("/ui/portal/decisions/{id}"),
        }
    }
}

/// An audience that reads decisions and files appeals against them.
pub trait Filing: Audience {
    const FILER: Filer;
}

impl Filing for Agents {
    const FILER: Filer = Filer::Agent;
}

impl Filing for Subjects {
    const FILER: Filer = Filer::Subject;
}

/// Where each role starts.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Reviewer => "/ui/reviewer",
        Role::Agent => "/ui/agent",
        Role::Subject => "/ui/portal",
        Role::Supervisor => "/ui/supervisor",
        Role::Engine | Role::Dpo | Role::Admin | Role::System => "/ui/welcome",
    }
}
