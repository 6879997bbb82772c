//! Users, their uniqueness claims, and follows.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure,
};

use super::items::{
    ClaimRecord, FollowRecord, Item, LoginGuardRecord, follow_item, from_item, key_item, to_item,
    user_item,
};
use super::keys;
use super::keys::Key;
use super::{Store, StoreError};

use super::transact::{TxOutcome, undecided, unreceipted};
use super::writes::{n, s};
use crate::domain::User;
use crate::domain::{Email, Taken, UserChanges, UserId, Username};
use crate::store::receipts::Receipt;

/// Why a user write did not apply.
#[derive(Debug, thiserror::Error)]
pub enum UserWriteError {
    /// A username or email belongs to another user.
    #[error("username or email already taken")]
    Taken(Taken),
    /// The user changed concurrently; re-read and try again.
    #[error("user changed concurrently")]
    Conflict,
    /// The write's idempotency key already holds a receipt; nothing was written.
    #[error("idempotency key already used")]
    KeyTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

const ABSENT: &str = "attribute_not_exists(pk)";
const OWNED: &str = "user_id = :me";

impl Store {
    /// Creates a user and claims its username and email, atomically, with
    /// the request's idempotency receipt if it has one.
    pub async fn create_user(
        &self,
        user: &User,
        receipt: Option<&Receipt>,
    ) -> Result<(), UserWriteError> {
        let claim = ClaimRecord {
            user_id: user.user_id.clone(),
        };
        let writes = vec![
            self.put(user_item(user), Some(ABSENT)),
            self.put(
                to_item(
                    &keys::username_claim(&user.username.canonical()),
                    &[],
                    &claim,
                ),
                Some(ABSENT),
            ),
            self.put(
                to_item(&keys::email_claim(&user.email.canonical()), &[], &claim),
                Some(ABSENT),
            ),
        ];
        let username = keys::username_claim(&user.username.canonical());
        let email = keys::email_claim(&user.email.canonical());
        // Lost to a concurrent transaction: if a claim is now held by someone
        // else, the race is decided, and this registration gets its 409 at
        // once. (Held by this user: an earlier send did commit.)
        let settled = || async {
            let (username, email) = tokio::try_join!(self.claim(&username), self.claim(&email))?;
            let mine = Some(&user.user_id);
            if username.as_ref() == mine || email.as_ref() == mine {
                return Ok(Some(TxOutcome::Committed));
            }
            Ok((username.is_some() || email.is_some()).then(|| {
                TxOutcome::ConditionFailed(vec![false, username.is_some(), email.is_some()])
            }))
        };
        match self.transact(writes, receipt, settled).await? {
            TxOutcome::KeyTaken => Err(UserWriteError::KeyTaken),
            TxOutcome::Committed => Ok(()),
            TxOutcome::ConditionFailed(failed) if failed[0] => Err(UserWriteError::Conflict),
            TxOutcome::ConditionFailed(failed) => Err(UserWriteError::Taken(Taken {
                username: failed[1],
                email: failed[2],
            })),
        }
    }

    /// Applies `changes` to `current`, moving username and email claims in the
    /// same transaction, so uniqueness can never be broken by a race.
    pub async fn update_user(
        &self,
        current: &User,
        changes: &UserChanges,
    ) -> Result<User, UserWriteError> {
        let mut next = changes.apply(current);
        // Guarded by the version, so an update that read an older user (a
        // concurrent password or bio change) re-reads instead of writing back
        // what it read.
        next.version = current.version + 1;
        let me = [(":me", s(current.user_id.as_str()))];
        let claim = ClaimRecord {
            user_id: current.user_id.clone(),
        };
        let mut writes = Vec::new();
        let old_name = current.username.canonical();
        let new_name = next.username.canonical();
        let mut username_claim_at = None;
        if old_name != new_name {
            writes.push(self.delete(&keys::username_claim(&old_name), Some(OWNED), &me));
            username_claim_at = Some(writes.len());
            writes.push(self.put(
                to_item(&keys::username_claim(&new_name), &[], &claim),
                Some(ABSENT),
            ));
        }
        let old_email = current.email.canonical();
        let new_email = next.email.canonical();
        let mut email_claim_at = None;
        if old_email != new_email {
            writes.push(self.delete(&keys::email_claim(&old_email), Some(OWNED), &me));
            email_claim_at = Some(writes.len());
            writes.push(self.put(
                to_item(&keys::email_claim(&new_email), &[], &claim),
                Some(ABSENT),
            ));
        }
        let mut set = vec![
            "username = :username",
            "email = :email",
            "password_hash = :hash",
            "version = :next_version",
        ];
        let mut remove = Vec::new();
        let mut vals = vec![
            (":username", s(next.username.as_str())),
            (":email", s(next.email.as_str())),
            (":hash", s(next.password_hash.as_str())),
            (":old_username", s(current.username.as_str())),
            (":old_email", s(current.email.as_str())),
            (":version", n(current.version)),
            (":next_version", n(next.version)),
        ];
        match &next.bio {
            Some(bio) => {
                set.push("bio = :bio");
                vals.push((":bio", s(bio.as_str())));
            }
            None => remove.push("bio"),
        }
        match &next.image {
            Some(image) => {
                set.push("image = :image");
                vals.push((":image", s(image.as_str())));
            }
            None => remove.push("image"),
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        writes.push(self.update(
            &keys::user(&current.user_id),
            &expression,
            Some(
                "attribute_exists(pk) AND username = :old_username AND email = :old_email \
                 AND version = :version",
            ),
            &vals,
        ));
        match self.transact(writes, None, undecided).await? {
            TxOutcome::Committed => Ok(next),
            TxOutcome::KeyTaken => Err(unreceipted().into()),
            TxOutcome::ConditionFailed(failed) => {
                let taken = Taken {
                    username: username_claim_at.is_some_and(|i| failed[i]),
                    email: email_claim_at.is_some_and(|i| failed[i]),
                };
                if taken.username || taken.email {
                    Err(UserWriteError::Taken(taken))
                } else {
                    Err(UserWriteError::Conflict)
                }
            }
        }
    }

    /// A user by id.
    pub async fn user(&self, id: &UserId, consistent: bool) -> Result<Option<User>, StoreError> {
        self.get(&keys::user(id), consistent)
            .await?
            .map(from_item)
            .transpose()
    }

    /// The owner of a username, compared case-insensitively.
    pub async fn user_id_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<UserId>, StoreError> {
        self.claim(&keys::username_claim(&username.canonical()))
            .await
    }

    /// The owner of an email, compared case-insensitively.
    pub async fn user_id_by_email(&self, email: &Email) -> Result<Option<UserId>, StoreError> {
        self.claim(&keys::email_claim(&email.canonical())).await
    }

    async fn claim(&self, key: &Key) -> Result<Option<UserId>, StoreError> {
        // Strongly consistent: a user who just registered can log in at once.
        Ok(self
            .get(key, true)
            .await?
            .map(from_item::<ClaimRecord>)
            .transpose()?
            .map(|claim| claim.user_id))
    }

    /// Makes `follower` follow (or stop following) `followee`, with `receipt`
    /// in the same transaction when given. Idempotent. `false` if the
    /// writer's claim on its idempotency key is gone (nothing written).
    pub(crate) async fn set_following(
        &self,
        follower: &UserId,
        followee: &UserId,
        following: bool,
        receipt: Option<&Receipt>,
    ) -> Result<bool, StoreError> {
        let edge = if following {
            self.put(follow_item(follower, followee), None)
        } else {
            self.delete(&keys::follow(follower, followee), None, &[])
        };
        Ok(self.transact(vec![edge], receipt, undecided).await? != TxOutcome::KeyTaken)
    }

    /// Everyone `follower` follows (one query; its size grows with that number only).
    pub async fn followed_by(&self, follower: &UserId) -> Result<Vec<UserId>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(keys::user(follower).pk()))
            .expression_attribute_values(":prefix", s(keys::FOLLOWS_PREFIX))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        self.collect_query(request, None)
            .await?
            .into_iter()
            .map(|item| from_item::<FollowRecord>(item).map(|f| f.followee))
            .collect()
    }

    /// Users by id, with whether `viewer` follows each, in one batch read.
    pub async fn profiles(
        &self,
        viewer: Option<&UserId>,
        users: impl IntoIterator<Item = UserId>,
    ) -> Result<HashMap<UserId, (User, bool)>, StoreError> {
        let users: Vec<UserId> = users.into_iter().collect();
        let request = ProfileRequest::new(viewer, &users);
        let found = self.batch_get(request.keys(), false).await?;
        request.resolve(&found)
    }
}

/// The keys needed to show some users to a viewer, and how to read them back;
/// lets callers fold profile reads into a larger batch read.
pub(crate) struct ProfileRequest<'a> {
    viewer: Option<&'a UserId>,
    users: Vec<UserId>,
}

impl<'a> ProfileRequest<'a> {
    pub(crate) fn new(viewer: Option<&'a UserId>, users: &[UserId]) -> Self {
        let mut users = users.to_vec();
        users.sort();
        users.dedup();
        Self { viewer, users }
    }

    pub(crate) fn keys(&self) -> Vec<Key> {
        let mut keys: Vec<Key> = self.users.iter().map(keys::user).collect();
        if let Some(viewer) = self.viewer {
            keys.extend(self.users.iter().map(|u| keys::follow(viewer, u)));
        }
        keys
    }

    pub(crate) fn resolve(
        &self,
        found: &HashMap<Key, Item>,
    ) -> Result<HashMap<UserId, (User, bool)>, StoreError> {
        let mut profiles = HashMap::new();
        for user in &self.users {
            let Some(item) = found.get(&keys::user(user)) else {
                continue;
            };
            let record: User = from_item(item.clone())?;
            let following = self
                .viewer
                .is_some_and(|viewer| found.contains_key(&keys::follow(viewer, user)));
            profiles.insert(user.clone(), (record, following));
        }
        Ok(profiles)
    }
}

/// Whether a login attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginClaim {
    /// Yes: this is attempt number `attempt` of the current window.
    Granted {
        /// 1 for the first attempt of the window.
        attempt: u32,
    },
    /// No: locked until then (Unix ms), or out of attempts while another
    /// attempt is deciding the lock (`None`).
    Refused {
        /// The lock's end, if one is set.
        locked_until: Option<i64>,
    },
}

/// Failed-login bookkeeping. The policy (how many, how long) is the login use /// case's; this only stores it, keyed by the canonical email so an unknown
/// email is treated exactly like a known one.
impl Store {
    /// The failed-login record of `email`, read strongly consistently.
    pub async fn login_guard(&self, email: &Email) -> Result<Option<LoginGuardRecord>, StoreError> {
        self.get(&keys::login_guard(&email.canonical()), true)
            .await?
            .map(from_item)
            .transpose()
    }

    /// Claims one login attempt for `email`, atomically, before its password
    /// is checked: granted (with the attempt's number in the window) only
    /// while the email is not locked and has attempts left (`allowed`, at
    /// first `threshold`), so concurrent guesses cannot all slip past a check
    /// that read the same count. Refused returns the lock's end, if any.
    pub async fn claim_login_attempt(
        &self,
        email: &Email,
        now_ms: i64,
        expires_at: i64,
        threshold: u32,
    ) -> Result<LoginClaim, StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::login_guard(&email.canonical()))))
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

    /// Locks `email` until `until` (ms), granting `allowed` attempts in all
    /// (one more once the lock runs out), and keeps the record to `expires_at`.
    pub async fn lock_login(
        &self,
        email: &Email,
        until: i64,
        allowed: u32,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.update_one(
            &keys::login_guard(&email.canonical()),
            "SET locked_until = :until, allowed = :allowed, expires_at = :expires",
            &[
                (":until", n(until)),
                (":allowed", n(allowed)),
                (":expires", n(expires_at)),
            ],
        )
        .await
    }

    /// Forgets the failed logins of `email` (after a successful one).
    pub async fn clear_login_guard(&self, email: &Email) -> Result<(), StoreError> {
        self.delete_one(&keys::login_guard(&email.canonical()))
            .await
    }

    /// The user `id`, or, when there is none, a read of an item that does not
    /// exist: both paths of a login cost the same request.
    pub async fn user_for_login(&self, id: Option<&UserId>) -> Result<Option<User>, StoreError> {
        match id {
            Some(id) => self.user(id, true).await,
            None => {
                self.get(&keys::login_decoy(), true).await?;
                Ok(None)
            }
        }
    }
}
