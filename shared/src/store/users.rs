//! Users and their uniqueness claims (username, email). Follows and
//! profiles are in `follows`, failed-login bookkeeping in `login_guard`.

use super::items::{ClaimRecord, from_item, to_item, user_item};
use super::keys::{self, Key};
use super::transact::{TxOutcome, undecided, unreceipted};
use super::writes::{ABSENT, n, s};
use super::{Store, StoreError};
use crate::domain::{Email, Taken, User, UserChanges, UserId, Username};
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
            "session_epoch = :session_epoch",
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
            (":session_epoch", n(next.session_epoch.get())),
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
        match &next.kept_session {
            Some(kept) => {
                set.push("kept_session = :kept_session");
                vals.push((":kept_session", s(kept.as_str())));
            }
            None => remove.push("kept_session"),
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
    pub(crate) async fn user_id_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<UserId>, StoreError> {
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
}
