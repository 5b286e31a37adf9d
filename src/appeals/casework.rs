//! Casework: what a reviewer reads to work an appeal, and the blind-first rule. The reviewer's
//! overview (the queues they may work, the cases they hold), the case behind a lease (the
//! appeal, the decision with its explanation, earlier appeals and reviews of it), and decision
//! files for the subject portal and the agent console. In a blind-first queue the model's
//! outcome and score are withheld until the reviewer records an initial view, and a review
//! without one is refused in the review's own transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::AppealError;
use super::detail::AppealDetail;
use super::model::{AppealRow, AppealView, InitialView, InitialViewRow, Lease, ReviewView};
use super::repo;
use super::review;
use crate::audit;
use crate::calendar::CalendarHandle;
use crate::db::{self, Db, DbConnection};
use crate::decisions::model::{Decision, DecisionRow};
use crate::decisions::repo as decision_repo;
use crate::domain::appeal::AppealStatus;
use crate::domain::review::ValidReview;
use crate::domain::validation::Checker;
use crate::domain::{Actor, FieldError, Role};

/// Everything a reviewer needs to decide: the appeal, the decision with its explanation, and
/// earlier appeals and reviews of the same decision.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Case {
    #[serde(flatten)]
    pub appeal: AppealView,
    pub decision: Decision,
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub appeal_id: String,
    pub status: AppealStatus,
    pub received_at: DateTime<Utc>,
    pub statement: String,
    pub reviews: Vec<ReviewView>,
}

impl Case {
    /// Reads the case behind the appeal in `row`, whole: hiding anything is the caller's rule.
    pub fn load(conn: &mut DbConnection, row: &AppealRow) -> Result<Self, AppealError> {
        let decision = decision_repo::find(conn, &row.decision_id)?.ok_or(AppealError::NotFound)?;
        let reviews = repo::reviews::for_decision(conn, &row.decision_id)?;
        let history = repo::appeals::for_decision(conn, &row.decision_id)?
            .into_iter()
            .map(|a| {
                Ok(HistoryEntry {
                    status: a.status()?,
                    reviews: reviews
                        .iter()
                        .filter(|r| r.appeal_id == a.id)
                        .cloned()
                        .map(ReviewView::from)
                        .collect(),
                    appeal_id: a.id,
                    received_at: a.received_at.and_utc(),
                    statement: a.statement,
                })
            })
            .collect::<Result<Vec<_>, AppealError>>()?;
        Ok(Case {
            appeal: AppealView::from_row(row, Role::Reviewer)?,
            decision: Decision::try_from(decision)?,
            history,
        })
    }
}

/// One queue as a reviewer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct QueueLine {
    pub name: String,
    pub description: String,
    pub blind_first: bool,
    /// All queued appeals.
    pub depth: i64,
    /// Queued appeals this reviewer may claim.
    pub eligible: i64,
    /// The nearest deadline among the appeals this reviewer may claim.
    pub nearest_due_at: Option<DateTime<Utc>>,
}

/// A case the reviewer holds a live lease on.
#[derive(Debug, Clone, Serialize)]
pub struct MyCase {
    pub appeal_id: String,
    pub decision_type: String,
    pub queue: String,
    pub due_at: DateTime<Utc>,
    pub lease_expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewerOverview {
    /// Whether an admin has configured this reviewer (authorities and capacity).
    pub configured: bool,
    pub authorities: Vec<String>,
    pub capacity: i32,
    pub queues: Vec<QueueLine>,
    pub cases: Vec<MyCase>,
}

/// The queues a reviewer may work, with what waits there for them, and the cases they hold.
#[tracing::instrument(skip_all, fields(reviewer = %actor.id))]
pub async fn reviewer_overview(db: &Db, actor: Actor) -> Result<ReviewerOverview, AppealError> {
    db.run(move |conn| {
        let queues = repo::routing::queue_views(conn)?;
        let reviewer = repo::routing::reviewer(conn, &actor.id)?;
        let authorities = reviewer.as_ref().map(|r| r.decision_types()).unwrap_or_default();
        let eligible: HashMap<String, (i64, Option<chrono::NaiveDateTime>)> =
            repo::casework::eligible_depths(conn, &actor.id, &authorities)?
                .into_iter()
                .map(|(q, n, due)| (q, (n, due)))
                .collect();
        let queues = queues
            .into_iter()
            .map(|q| {
                let (n, due) = eligible.get(&q.name).copied().unwrap_or((0, None));
                QueueLine {
                    name: q.name,
                    description: q.description,
                    blind_first: q.blind_first,
                    depth: q.depth,
                    eligible: n,
                    nearest_due_at: due.map(|d| d.and_utc()),
                }
            })
            .collect();
        let cases = repo::casework::live_leases_of(conn, &actor.id, db::now())?
            .into_iter()
            .map(|a| MyCase {
                appeal_id: a.id,
                decision_type: a.decision_type,
                queue: a.queue,
                due_at: a.due_at.and_utc(),
                lease_expires_at: a.lease_expires_at.map(|t| t.and_utc()),
            })
            .collect();
        Ok(ReviewerOverview {
            configured: reviewer.is_some(),
            capacity: reviewer.map(|r| r.capacity).unwrap_or(0),
            authorities,
            queues,
            cases,
        })
    })
    .await
}

/// A reviewer's first impression of a case, before seeing what the model decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Leaning {
    /// The facts support what the subject asks for.
    Favourable,
    /// The facts support the original outcome.
    Unfavourable,
    Unsure,
}

impl Leaning {
    pub const ALL: [Leaning; 3] = [Leaning::Favourable, Leaning::Unfavourable, Leaning::Unsure];

    pub fn as_str(self) -> &'static str {
        match self {
            Leaning::Favourable => "favourable",
            Leaning::Unfavourable => "unfavourable",
            Leaning::Unsure => "unsure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// The case behind the reviewer's live lease. In a blind-first queue, until the reviewer has
/// recorded an initial view, everything that shows what the model decided is withheld here, in
/// the service, so no screen can show it by mistake.
#[derive(Debug, Serialize)]
pub struct LeasedCase {
    pub case: Case,
    pub lease: Lease,
    pub blind_first: bool,
    pub initial_view: Option<InitialView>,
}

impl LeasedCase {
    /// Whether the model's outcome and score may be shown.
    pub fn revealed(&self) -> bool {
        !self.blind_first || self.initial_view.is_some()
    }
}

/// Removes the model's outcome, score and reasoning from a case (blind-first).
fn blind(case: &mut Case) {
    let d = &mut case.decision;
    d.outcome.clear();
    d.effective_outcome.clear();
    d.score = None;
    d.threshold = None;
    d.explanation.contributions.clear();
    d.explanation.reason_codes.clear();
    d.explanation.counterfactual = None;
    for entry in &mut case.history {
        entry.reviews.clear();
    }
}

/// Loads the appeal and checks that `actor` holds its live lease.
fn leased_row(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<AppealRow, AppealError> {
    let row = repo::appeals::find(conn, id)?.ok_or(AppealError::NotFound)?;
    let live = row.status()? == AppealStatus::InReview
        && row.reviewer_id.as_deref() == Some(actor.id.as_str())
        && row.lease_expires_at.is_some_and(|t| t > db::now());
    if live { Ok(row) } else { Err(AppealError::StaleLease) }
}

fn is_blind_first(conn: &mut DbConnection, queue: &str) -> Result<bool, AppealError> {
    Ok(repo::routing::queue(conn, queue)?.is_some_and(|q| q.blind_first))
}

#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn leased_case(db: &Db, actor: Actor, id: String) -> Result<LeasedCase, AppealError> {
    db.write(move |conn| {
        let row = leased_row(conn, &actor, &id)?;
        let blind_first = is_blind_first(conn, &row.queue)?;
        let initial_view = repo::casework::initial_view(conn, &id, &actor.id)?.map(InitialView::from);
        let mut case = Case::load(conn, &row)?;
        let revealed = !blind_first || initial_view.is_some();
        if !revealed {
            blind(&mut case);
        }
        audit::record(
            conn,
            &actor,
            "appeal.case_viewed",
            "appeal",
            &id,
            json!({"model_revealed": revealed}),
        )?;
        Ok(LeasedCase {
            lease: Lease {
                token: row.lease_token.clone().unwrap_or_default(),
                expires_at: row.lease_expires_at.map(|t| t.and_utc()).unwrap_or_else(Utc::now),
            },
            case,
            blind_first,
            initial_view,
        })
    })
    .await
}

/// Records the reviewer's initial view of a blind-first case. Needs the current lease token,
/// like every other step on a leased case. Recording it twice keeps the first.
#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn record_initial_view(
    db: &Db,
    actor: Actor,
    id: String,
    lease_token: String,
    leaning: Option<Leaning>,
    note: Option<String>,
) -> Result<(), AppealError> {
    let mut c = Checker::default();
    if leaning.is_none() {
        c.fail(
            "/leaning",
            "choose what the facts seem to support before the model's view is shown",
        );
    }
    if let Some(note) = &note {
        c.check::<crate::domain::fields::Prose<2000>>("/note", note);
    }
    let leaning = c
        .finish(leaning)
        .map_err(AppealError::Invalid)?
        .unwrap_or(Leaning::Unsure);
    db.write(move |conn| {
        let row = leased_row(conn, &actor, &id)?;
        if row.lease_token.as_deref() != Some(lease_token.as_str()) {
            return Err(AppealError::StaleLease);
        }
        if repo::casework::initial_view(conn, &id, &actor.id)?.is_some() {
            return Ok(());
        }
        repo::casework::insert_initial_view(
            conn,
            &InitialViewRow {
                appeal_id: id.clone(),
                reviewer_id: actor.id.clone(),
                leaning: leaning.as_str().to_owned(),
                note: note.clone(),
                recorded_at: db::now(),
            },
        )?;
        audit::record(
            conn,
            &actor,
            "appeal.initial_view_recorded",
            "appeal",
            &id,
            json!({"leaning": leaning.as_str()}),
        )?;
        Ok(())
    })
    .await
}

/// The blind-first rule at the moment of review: in a blind-first queue the reviewer must have
/// recorded an initial view of the case first.
fn require_initial_view(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<(), AppealError> {
    let row = repo::appeals::find(conn, id)?.ok_or(AppealError::NotFound)?;
    if is_blind_first(conn, &row.queue)? && repo::casework::initial_view(conn, id, &actor.id)?.is_none() {
        return Err(AppealError::Invalid(vec![FieldError::new(
            "/initial_view",
            "this queue is blind-first: record your initial view before reviewing",
        )]));
    }
    Ok(())
}

/// Submits a review from the reviewer's workbench: the blind-first rule, then the review, in one
/// transaction, so an initial view cannot be missing by the time the review is stored.
#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn submit_review(
    db: &Db,
    calendar: &CalendarHandle,
    actor: Actor,
    id: String,
    review: ValidReview,
) -> Result<AppealDetail, AppealError> {
    let calendar = calendar.current();
    db.write(move |conn| {
        require_initial_view(conn, &actor, &id)?;
        review::submit_in_tx(conn, &calendar, &actor, &id, &review)
    })
    .await
}

/// A decision with its appeals (each with notices and outcome), as the viewer may see them.
#[derive(Debug, Serialize)]
pub struct DecisionFile {
    pub decision: Decision,
    pub appeals: Vec<AppealDetail>,
}

impl DecisionFile {
    /// The appeal still open on this decision, if any.
    pub fn open_appeal(&self) -> Option<&AppealDetail> {
        self.appeals.iter().find(|a| a.appeal.status.is_open())
    }

    fn load(conn: &mut DbConnection, row: DecisionRow, viewer: Role) -> Result<Self, AppealError> {
        let appeals = repo::appeals::for_decision(conn, &row.id)?
            .iter()
            .map(|a| AppealDetail::load(conn, a, viewer))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(DecisionFile {
            decision: Decision::try_from(row)?,
            appeals,
        })
    }
}

/// Most decisions listed for one subject on one screen.
pub const MAX_FILES: i64 = 200;

/// A subject's decisions with their appeals, newest first. A subject asking for anyone else's
/// gets `NotFound`; a staff lookup is audited.
#[tracing::instrument(skip_all)]
pub async fn subject_files(db: &Db, actor: Actor, subject_id: String) -> Result<Vec<DecisionFile>, AppealError> {
    if !actor.may_read_subject(&subject_id) {
        return Err(if actor.is(Role::Subject) {
            AppealError::NotFound
        } else {
            AppealError::Forbidden(format!("role '{}' may not read subjects' decisions", actor.role))
        });
    }
    audit::access::read(db, actor.role, move |conn| {
        let rows = decision_repo::page_for_subject(conn, &subject_id, None, None, MAX_FILES)?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        audit::access::record_reads(conn, &actor, "decision", &ids, "subject_lookup")?;
        let mut files = rows
            .into_iter()
            .map(|row| DecisionFile::load(conn, row, actor.role))
            .collect::<Result<Vec<_>, _>>()?;
        files.reverse();
        Ok(files)
    })
    .await
}

/// One decision with its appeals. `NotFound` unless the viewer may read it.
#[tracing::instrument(skip_all, fields(decision_id = %decision_id))]
pub async fn decision_file(db: &Db, actor: Actor, decision_id: String) -> Result<DecisionFile, AppealError> {
    audit::access::read(db, actor.role, move |conn| {
        let row = decision_repo::find(conn, &decision_id)?
            .filter(|row| actor.may_read_subject(&row.subject_id))
            .ok_or(AppealError::NotFound)?;
        audit::access::record_reads(conn, &actor, "decision", std::slice::from_ref(&row.id), "decision_file")?;
        DecisionFile::load(conn, row, actor.role)
    })
    .await
}

/// Whether a decision was ever appealed (demo seeding stays idempotent with it).
pub async fn ever_appealed(db: &Db, decision_id: String) -> Result<bool, AppealError> {
    db.run(move |conn| Ok(repo::casework::any_appeal(conn, &decision_id)?))
        .await
}
