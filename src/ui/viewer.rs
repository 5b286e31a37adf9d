//! The signed-in person a page is drawn for.

use crate::domain::Actor;
use crate::sessions::WebSession;

/// The signed-in person: their session and the actor it stands for.
pub struct Viewer {
    pub session: WebSession,
    pub actor: Actor,
    /// The controller's time zone: pages show dates and deadlines on the controller's
    /// calendar, the days in which legal periods are counted.
    pub zone: chrono_tz::Tz,
}

impl Viewer {
    /// The session's CSRF token, which every form carries.
    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }

    pub fn actor(&self) -> Actor {
        self.actor.clone()
    }
}
