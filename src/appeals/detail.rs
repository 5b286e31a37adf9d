//! An appeal as its readers see it: what every step of the workflow answers with.

use serde::{Deserialize, Serialize};

use super::AppealError;
use super::model::{AppealRow, AppealView, OutcomeView, ReviewView};
use super::repo;
use crate::db::DbConnection;
use crate::domain::Role;
use crate::notices::{self, Notice};

/// An appeal with its notices and, once reviewed, the outcome.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AppealDetail {
    #[serde(flatten)]
    pub appeal: AppealView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OutcomeView>,
    /// The review waiting for a second person's approval, shown to staff so that the approver
    /// sees what they approve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_review: Option<ReviewView>,
    pub notices: Vec<Notice>,
}

impl AppealDetail {
    /// Reads what `viewer` may see of the appeal in `row`: a subject sees neither staff
    /// identities nor a review that is still waiting for approval.
    pub fn load(conn: &mut DbConnection, row: &AppealRow, viewer: Role) -> Result<Self, AppealError> {
        let outcome = repo::reviews::effective_for_appeal(conn, &row.id)?.map(OutcomeView::from);
        let pending_review = match viewer {
            Role::Subject => None,
            _ => repo::reviews::pending_for_appeal(conn, &row.id)?.map(ReviewView::from),
        };
        Ok(Self {
            appeal: AppealView::from_row(row, viewer)?,
            outcome,
            pending_review,
            notices: notices::for_appeal(conn, &row.id)?,
        })
    }
}
