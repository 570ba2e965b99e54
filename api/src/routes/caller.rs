//! The `Caller` extractor: every handler that needs a caller gets one through here (and
//! `Authorized<Policy>`, which builds on it). The rules are `auth::caller`'s.

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::auth::caller::{self, Caller};
use crate::auth::principals::Presented;
use crate::error::ApiError;
use crate::state::AppState;

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = verify(req);
        Box::pin(async move {
            let (state, presented) = verified?;
            caller::authorize(&state.principals, &state.db, presented).await
        })
    }
}

/// The signature and claims, checked without waiting on anything.
fn verify(req: &HttpRequest) -> Result<(web::Data<AppState>, Presented), ApiError> {
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::internal("application state missing"))?;
    let token = caller::bearer(req).ok_or_else(|| ApiError::Unauthorized(crate::msg!("token-required")))?;
    let presented = caller::presented(&state.keys, token)?;
    Ok((state.clone(), presented))
}
