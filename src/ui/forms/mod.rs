//! Form parsing, apart from the pages that draw the forms and the handlers that receive them.

pub mod appeal;
pub mod data;
pub mod errors;
pub mod lookup;
pub mod review;
pub mod supervision;
