//! Deny by default: a handler that needs a signed-in caller takes `Authorized<P>`, and the
//! policy `P` in its signature is the one place that says who may call it. A handler
//! without such an argument is public, and the authorization-matrix test names each one.

use std::marker::PhantomData;
use std::ops::Deref;

use actix_web::{FromRequest, HttpRequest, dev::Payload};

use super::{Caller, CallerKind, Role};
use crate::error::ApiError;

pub trait Policy {
    /// The key of the text naming who may call (`policy-…` in `api/locales`), for the 403.
    const WHO: &'static str;
    fn allows(caller: &Caller) -> bool;
}

pub struct Authorized<P: Policy> {
    pub caller: Caller,
    _policy: PhantomData<P>,
}

impl<P: Policy> Deref for Authorized<P> {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl<P: Policy> FromRequest for Authorized<P> {
    type Error = ApiError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move {
            let caller = caller.await?;
            if P::allows(&caller) {
                Ok(Authorized { caller, _policy: PhantomData })
            } else {
                Err(ApiError::Forbidden(crate::msg!("policy-refused", who = crate::i18n::Msg::key(P::WHO, Vec::new()))))
            }
        })
    }
}

macro_rules! role_policy {
    ($(#[$m:meta])* $name:ident, $desc:literal, [$($role:expr),+], users_only = $users_only:expr) => {
        $(#[$m])*
        pub struct $name;
        impl Policy for $name {
            const WHO: &'static str = $desc;
            fn allows(caller: &Caller) -> bool {
                (!$users_only || caller.kind == CallerKind::User) && caller.has_any(&[$($role),+])
            }
        }
    };
}

/// Any signed-in person or agency system.
pub struct SignedIn;
impl Policy for SignedIn {
    const WHO: &'static str = "policy-signed-in";
    fn allows(_: &Caller) -> bool {
        true
    }
}

/// A person (not an API client) — for things like changing one's password.
pub struct SignedInUser;
impl Policy for SignedInUser {
    const WHO: &'static str = "policy-signed-in-user";
    fn allows(c: &Caller) -> bool {
        c.kind == CallerKind::User
    }
}

role_policy!(
    /// The office's officials, who sign what they decided.
    Official,
    "policy-official",
    [Role::HeadOfDivision, Role::HeadOfAgency, Role::TechnicalLead],
    users_only = true
);
role_policy!(
    /// Directory and configuration changes.
    AdminOnly, "policy-admin", [Role::Admin], users_only = true
);
role_policy!(
    /// Reading the directory and the audit trail: admins and auditors.
    AdminOrAuditor, "policy-admin-or-auditor", [Role::Admin, Role::Auditor], users_only = true
);
role_policy!(
    /// Oversight reports: admins, auditors and the office's heads.
    Oversight,
    "policy-oversight",
    [Role::Admin, Role::Auditor, Role::HeadOfDivision, Role::HeadOfAgency],
    users_only = true
);

/// Webhook endpoints: an admin (any), or an agency's applicant — a person or its system —
/// for its own organization (the service narrows to that).
pub struct WebhookManager;
impl Policy for WebhookManager {
    const WHO: &'static str = "policy-webhook-manager";
    fn allows(c: &Caller) -> bool {
        (c.kind == CallerKind::User && c.has(Role::Admin)) || c.has(Role::Applicant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, Msg};

    #[test]
    fn every_policy_names_who_in_both_languages() {
        for key in [
            SignedIn::WHO,
            SignedInUser::WHO,
            Official::WHO,
            AdminOnly::WHO,
            AdminOrAuditor::WHO,
            Oversight::WHO,
            WebhookManager::WHO,
        ] {
            for lang in Lang::ALL {
                assert_ne!(lang.render(&Msg::key(key, Vec::new())), key);
            }
        }
    }
}
