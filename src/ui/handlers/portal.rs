//! The subject portal's own handler: a person's own decisions. Only their own: the services
//! answer "not found" for anyone else's decision. A decision's screen and filing are in
//! `decision_file`.

use actix_web::{HttpResponse, web};

use crate::appeals::casework;
use crate::db::Db;
use crate::ui::audience::Subjects;
use crate::ui::error::UiError;
use crate::ui::extract::SignedIn;
use crate::ui::pages::portal as page;
use crate::ui::respond;

pub async fn show_decisions(viewer: SignedIn<Subjects>, db: web::Data<Db>) -> Result<HttpResponse, UiError> {
    let files = casework::subject_files(&db, viewer.actor(), viewer.actor.id.clone()).await?;
    Ok(respond::ok(page::decisions(&viewer, &files)))
}
