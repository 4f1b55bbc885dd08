//! HTTP plumbing shared by every domain router: errors, extractors, middleware.

pub mod error;
pub mod extract;
pub mod middleware;

pub use error::{ApiError, ApiResult, ErrorBody};
pub use extract::{ApiJson, ApiQuery, ClientIp, Path};
