//! Failed-login bookkeeping, keyed by the canonical email (so that an unknown
//! email is treated exactly like a known one) and the client guessing, so a
//! client locks only itself out. The policy (how many attempts, how long a
//! lock) is the login use case's; this only stores it.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure,
};

use super::items::{LoginGuardRecord, from_item, key_item};
use super::keys;
use super::writes::n;
use super::{Store, StoreError};
use crate::domain::{ClientAddress, Email, User, UserId};

/// Whether a login attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginClaim {
    /// Yes: this is attempt number `attempt` of the current window.
    Granted {
        /// 1 for the first attempt of the window.
        attempt: u32,
    },
    /// No: locked until then (Unix ms), or out of attempts while another
    /// attempt is deciding the lock (`None`; an attempt the email's budget
    /// refused gives its claim back, so none is left undecided).
    Refused {
        /// The lock's end, if one is set.
        locked_until: Option<i64>,
    },
}

impl Store {
    /// The failed-login record of `email` from `client`, read strongly consistently.
    pub(crate) async fn login_guard(
        &self,
        email: &Email,
        client: &ClientAddress,
    ) -> Result<Option<LoginGuardRecord>, StoreError> {
        self.get(&keys::login_guard(&email.canonical(), client), true)
            .await?
            .map(from_item)
            .transpose()
    }

    /// Claims one login attempt for `email` from `client`, atomically, before its password
    /// is checked: granted (with the attempt's number in the window) only
    /// while the email is not locked and has attempts left (`allowed`, at
    /// first `threshold`), so concurrent guesses cannot all slip past a check
    /// that read the same count. Refused returns the lock's end, if any.
    pub(crate) async fn claim_login_attempt(
        &self,
        email: &Email,
        client: &ClientAddress,
        now_ms: i64,
        expires_at: i64,
        threshold: u32,
    ) -> Result<LoginClaim, StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::login_guard(
                &email.canonical(),
                client,
            ))))
            .update_expression(
                "SET expires_at = :expires, allowed = if_not_exists(allowed, :threshold) \
                 ADD failures :one",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR \
                 ((attribute_not_exists(locked_until) OR locked_until <= :now) \
                 AND (attribute_not_exists(allowed) OR failures < allowed))",
            )
            .expression_attribute_values(":expires", n(expires_at))
            .expression_attribute_values(":threshold", n(threshold))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now_ms))
            .return_values(ReturnValue::UpdatedNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        match self.call("UpdateItem", request).await? {
            Ok(output) => {
                let record: LoginGuardRecord = from_item(output.attributes.unwrap_or_default())?;
                Ok(LoginClaim::Granted {
                    attempt: record.failures,
                })
            }
            Err(SdkError::ServiceError(e)) => match e.err() {
                UpdateItemError::ConditionalCheckFailedException(failed) => {
                    let record: LoginGuardRecord =
                        from_item(failed.item().cloned().unwrap_or_default())?;
                    Ok(LoginClaim::Refused {
                        locked_until: record.locked_until,
                    })
                }
                _ => Err(StoreError::request("UpdateItem", SdkError::ServiceError(e))),
            },
            Err(e) => Err(StoreError::request("UpdateItem", e)),
        }
    }

    /// Gives back an attempt [`Store::claim_login_attempt`] granted and no
    /// password check used (the email's budget refused it first).
    pub(crate) async fn release_login_attempt(
        &self,
        email: &Email,
        client: &ClientAddress,
    ) -> Result<(), StoreError> {
        self.take_one_back(&keys::login_guard(&email.canonical(), client), "failures")
            .await
    }

    /// Whether `client` has logged in to `email` (and the record has not
    /// expired: DynamoDB's TTL deletes late), read strongly consistently.
    pub(crate) async fn is_known_client(
        &self,
        email: &Email,
        client: &ClientAddress,
        now_s: i64,
    ) -> Result<bool, StoreError> {
        let item = self
            .get(&keys::login_known(&email.canonical(), client), true)
            .await?;
        Ok(match item {
            Some(item) => {
                let record: LoginGuardRecord = from_item(item)?;
                record.expires_at > now_s
            }
            None => false,
        })
    }

    /// Remembers that `client` logged in to `email`, until `expires_at`.
    pub(crate) async fn remember_client(
        &self,
        email: &Email,
        client: &ClientAddress,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.update_one(
            &keys::login_known(&email.canonical(), client),
            "SET expires_at = :expires",
            &[(":expires", n(expires_at))],
        )
        .await
    }

    /// Locks `email` for `client` until `until` (ms), granting `allowed`
    /// attempts in all (one more once the lock runs out), and keeps the
    /// record to `expires_at`.
    pub(crate) async fn lock_login(
        &self,
        email: &Email,
        client: &ClientAddress,
        until: i64,
        allowed: u32,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.update_one(
            &keys::login_guard(&email.canonical(), client),
            "SET locked_until = :until, allowed = :allowed, expires_at = :expires",
            &[
                (":until", n(until)),
                (":allowed", n(allowed)),
                (":expires", n(expires_at)),
            ],
        )
        .await
    }

    /// Forgets the failed logins of `email` from `client` (after a
    /// successful one, or once their window has ended).
    pub(crate) async fn clear_login_guard(
        &self,
        email: &Email,
        client: &ClientAddress,
    ) -> Result<(), StoreError> {
        self.delete_one(&keys::login_guard(&email.canonical(), client))
            .await
    }

    /// The user `id`, or, when there is none, a read of an item that does not
    /// exist: both paths of a login cost the same request.
    pub(crate) async fn user_for_login(
        &self,
        id: Option<&UserId>,
    ) -> Result<Option<User>, StoreError> {
        match id {
            Some(id) => self.user(id, true).await,
            None => {
                self.get(&keys::login_decoy(), true).await?;
                Ok(None)
            }
        }
    }
}
