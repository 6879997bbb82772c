//! Least privilege, checked against the calls the tests make. DynamoDB Local
//! ignores IAM, so every handler the tests invoke ([`crate::dispatch`]) runs
//! attributed to its function: an SDK interceptor ([`record`]) reads each
//! request the function's client sends (action, table or index, partition
//! keys), and the invocation fails its test if `template.yaml` gives that
//! function no grant allowing it ([`policy`]).
//!
//! The grants that allowed something are appended to files under
//! [`used_dir`], one per test process; `iam::every_grant_is_used` (ignored,
//! run by `scripts/test.sh` after the other tests) checks each grant was used
//! or is listed with a reason.

pub mod policy;
mod record;

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};

use aws_sdk_dynamodb::config::SharedInterceptor;

pub use policy::{Grant, Granted, Policies};

/// What a request touches, as IAM names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// The table.
    Table,
    /// One of its indexes.
    Index(String),
}

/// One authorisation IAM makes for a request: an action on a resource for
/// some partition keys (`dynamodb:LeadingKeys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// `GetItem`, `Query`, `ConditionCheckItem`, … (without `dynamodb:`).
    pub action: &'static str,
    /// The table or an index.
    pub resource: Resource,
    /// The partition keys it reads or writes (an index's, for an index query).
    pub leading_keys: Vec<String>,
}

type Accesses = Arc<Mutex<Vec<Access>>>;

tokio::task_local! {
    static CALLER: Accesses;
}

fn current() -> Option<Accesses> {
    CALLER.try_with(Arc::clone).ok()
}

/// The interceptor that records what a client sends; on the clients of what
/// is under test (not on the harness's own setup client).
pub fn interceptor() -> SharedInterceptor {
    SharedInterceptor::new(record::RecordAccess::new(index_keys().clone()))
}

fn index_keys() -> &'static HashMap<String, String> {
    static KEYS: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
        crate::TableSpec::from_template()
            .expect("template.yaml declares the table")
            .index_partition_keys()
    });
    &KEYS
}

/// The template's policies, read once per test process.
pub fn policies() -> &'static Policies {
    static POLICIES: LazyLock<Policies> = LazyLock::new(|| {
        Policies::from_template(&crate::template().expect("template.yaml"))
            .expect("template.yaml's function policies")
    });
    &POLICIES
}

/// Runs `future` as an invocation of `function`; panics (failing the test)
/// naming every DynamoDB request it made that `function`'s policy does not
/// allow, and records the grants that allowed the rest.
pub async fn attributed<F: Future>(function: &str, future: F) -> F::Output {
    let accesses = Accesses::default();
    let output = CALLER.scope(accesses.clone(), future).await;
    let accesses = std::mem::take(&mut *accesses.lock().expect("never poisoned"));
    let mut refused = Vec::new();
    let mut used = BTreeSet::new();
    for access in accesses {
        let grants = policies().allowing(function, &access);
        if grants.is_empty() {
            refused.push(access);
        }
        used.extend(grants);
    }
    record_used(used);
    assert!(
        refused.is_empty(),
        "template.yaml does not allow {function} these DynamoDB requests it made \
         (IAM would refuse them; DynamoDB Local does not): {refused:#?}"
    );
    output
}

/// Where the grants used are recorded: `target/iam-grants-used/` (or under
/// `CARGO_TARGET_DIR`).
pub fn used_dir() -> PathBuf {
    // A relative CARGO_TARGET_DIR is cargo's, from the workspace root (where
    // scripts/test.sh runs it); this process runs in tests/.
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    crate::workspace_root().join(target).join("iam-grants-used")
}

/// Appends the grants not yet recorded by this process to its file.
fn record_used(used: BTreeSet<Grant>) {
    static SEEN: LazyLock<Mutex<BTreeSet<Grant>>> = LazyLock::new(Mutex::default);
    let mut seen = SEEN.lock().expect("never poisoned");
    let new: Vec<String> = used
        .into_iter()
        .filter(|g| seen.insert(g.clone()))
        .map(|g| g.to_string())
        .collect();
    if new.is_empty() {
        return;
    }
    let dir = used_dir();
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {dir:?}: {e}"));
    let path = dir.join(format!("{}.txt", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("opening {path:?}: {e}"));
    writeln!(file, "{}", new.join("\n")).unwrap_or_else(|e| panic!("writing {path:?}: {e}"));
}

/// Every grant recorded as used by the test processes so far.
pub fn recorded_used() -> std::io::Result<BTreeSet<String>> {
    let mut used = BTreeSet::new();
    for entry in std::fs::read_dir(used_dir())? {
        let text = std::fs::read_to_string(entry?.path())?;
        used.extend(text.lines().map(str::to_owned));
    }
    Ok(used)
}
