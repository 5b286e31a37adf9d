//! The call-centre console's own handlers: finding a caller's decisions. The lookup is audited
//! by the service. A decision's screen and filing are in `decision_file`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::appeals::casework;
use crate::db::Db;
use crate::ui::audience::Agents;
use crate::ui::error::UiError;
use crate::ui::extract::{SignedIn, Submission};
use crate::ui::forms::errors::FormErrors;
use crate::ui::forms::lookup::Lookup;
use crate::ui::pages::agent as page;
use crate::ui::respond;

pub async fn show_console(viewer: SignedIn<Agents>) -> Result<HttpResponse, UiError> {
    Ok(respond::ok(page::console(&viewer, "", &FormErrors::default(), None)))
}

#[tracing::instrument(skip_all)]
pub async fn look_up_caller(
    Submission { viewer, form, .. }: Submission<Agents>,
    db: web::Data<Db>,
) -> Result<HttpResponse, UiError> {
    let lookup = Lookup::from_form(&form);
    if let Err(errors) = lookup.check() {
        let errors = FormErrors::new("lookup", errors);
        let console = page::console(&viewer, &lookup.subject, &errors, None);
        return Ok(respond::html(StatusCode::UNPROCESSABLE_ENTITY, console));
    }
    let files = casework::subject_files(&db, viewer.actor(), lookup.subject.clone()).await?;
    let console = page::console(&viewer, &lookup.subject, &FormErrors::default(), Some(&files));
    Ok(respond::ok(console))
}
