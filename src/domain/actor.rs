//! Who is acting, as established from a verified token.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Engine,
    Agent,
    Reviewer,
    Supervisor,
    Dpo,
    Admin,
    Subject,
    /// Recourse itself (sweeper, CLI, demo seeding). Never accepted from a token.
    System,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Engine,
        Role::Agent,
        Role::Reviewer,
        Role::Supervisor,
        Role::Dpo,
        Role::Admin,
        Role::Subject,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Engine => "engine",
            Role::Agent => "agent",
            Role::Reviewer => "reviewer",
            Role::Supervisor => "supervisor",
            Role::Dpo => "dpo",
            Role::Admin => "admin",
            Role::Subject => "subject",
            Role::System => "system",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            format!("unknown role {s:?}; expected one of engine, agent, reviewer, supervisor, dpo, admin, subject")
        })
    }
}

/// An authenticated principal and the request it acts in. Services take this so that every
/// audit entry names who did what, under which request id.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The token's `sub`: an engine id, a staff member's id, or a subject id.
    pub id: String,
    pub role: Role,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn is(&self, role: Role) -> bool {
        self.role == role
    }

    pub fn is_any(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }

    /// Whether this actor may read a subject's decisions and appeals: the subject themself, and
    /// the staff who handle appeals. Callers answer 404 when not, so that the existence of other
    /// people's records is not revealed.
    pub fn may_read_subject(&self, subject_id: &str) -> bool {
        match self.role {
            Role::Subject => self.id == subject_id,
            Role::Agent | Role::Reviewer | Role::Supervisor | Role::Dpo => true,
            Role::Engine | Role::Admin | Role::System => false,
        }
    }

    /// The actor for work the system does on its own (CLI, demo seeding, background workers).
    pub fn system(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            role: Role::System,
            request_id: None,
        }
    }
}
