//! The supervisor's three forms on an appeal: reassign, extend the deadline, approve or return a
//! pending review. A form that cannot be read is refused with the error the service would give.

use super::data::FormData;
use crate::appeals::AppealError;
use crate::appeals::approval::{ApprovalChoice, ApprovalInput};
use crate::appeals::filing::{AssignmentInput, ExtensionInput};
use crate::domain::legal_clock::ExtensionError;

pub fn assignment(f: &FormData) -> AssignmentInput {
    AssignmentInput {
        reviewer: f.text("reviewer"),
        reason: f.text("reason"),
    }
}

/// The number of months must be a whole number; the legal clock judges the rest.
pub fn extension(f: &FormData) -> Result<ExtensionInput, AppealError> {
    let months = f
        .text("months")
        .parse::<u32>()
        .map_err(|_| AppealError::Extension(ExtensionError::InvalidLength))?;
    Ok(ExtensionInput {
        months,
        reason: f.text("reason"),
    })
}

pub fn approval(f: &FormData) -> Result<ApprovalInput, AppealError> {
    let decision = match f.text("decision").as_str() {
        "approve" => ApprovalChoice::Approve,
        "return" => ApprovalChoice::Return,
        _ => return Err(AppealError::invalid("", "choose approve or return")),
    };
    Ok(ApprovalInput {
        decision,
        note: f.opt("note"),
    })
}
