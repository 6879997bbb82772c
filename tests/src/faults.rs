//! A TCP proxy in front of DynamoDB Local that injects network faults: the
//! failures a Lambda function meets in AWS (a stalled, refusing or resetting
//! endpoint, or an answer lost after the write was applied), on loopback.
//!
//! Written here rather than taken from a crate: the proxies on crates.io are
//! whole programs, and the one fault that matters most (lose the response of a
//! request DynamoDB has already applied) needs only a few lines over tokio.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does to traffic, from now on, on new and open connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    Pass,
    /// Forward, each request after this delay.
    Delay(Duration),
    /// Accept and read, answer nothing: a stalled peer.
    Stall,
    /// Stop listening: new connections are refused; open ones are closed.
    Refuse,
    /// Reset every connection (RST) as soon as it carries data.
    Reset,
    /// Forward everything but lose the answers to transactions (the connection
    /// closes before any byte of the answer): DynamoDB applied the write, the
    /// client cannot know.
    LoseTransactionAnswers,
}

/// A running proxy; it stops when dropped.
pub struct FaultProxy {
    address: SocketAddr,
    fault: watch::Sender<Fault>,
    lose_next: Arc<Losses>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (fault, watcher) = watch::channel(Fault::Pass);
        let lose_next = Arc::new(Losses::default());
        let task = tokio::spawn(accept(
            listener,
            address,
            upstream,
            watcher,
            lose_next.clone(),
        ));
        Ok(Self {
            address,
            fault,
            lose_next,
            task,
        })
    }

    /// The proxy's URL, for `endpoint_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Switches the fault.
    pub fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
    }

    /// Loses the answers to the next `n` transactions (then forwards them again).
    pub fn lose_next_transaction_answers(&self, n: u32) {
        self.lose_next_answers("TransactWriteItems", n);
    }

    /// Loses the answers to the next `n` requests of `operation` (`PutItem`…):
    /// DynamoDB applies them, the client sees its connection close.
    pub fn lose_next_answers(&self, operation: &str, n: u32) {
        *self.lose_next.operation.lock().unwrap() = operation.as_bytes().to_vec();
        self.lose_next.left.store(n, Ordering::SeqCst);
    }

    /// How many of the answers asked for by [`Self::lose_next_answers`] are
    /// still to be lost.
    pub fn answers_still_to_lose(&self) -> u32 {
        self.lose_next.left.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(
    listener: TcpListener,
    address: SocketAddr,
    upstream: SocketAddr,
    mut watcher: watch::Receiver<Fault>,
    lose_next: Arc<Losses>,
) {
    let mut listener = Some(listener);
    loop {
        let fault = *watcher.borrow_and_update();
        match (&listener, fault) {
            (Some(_), Fault::Refuse) => listener = None,
            (None, fault) if fault != Fault::Refuse => match TcpListener::bind(address).await {
                Ok(bound) => listener = Some(bound),
                Err(error) => {
                    eprintln!("fault proxy: cannot listen again on {address}: {error}");
                    return;
                }
            },
            _ => {}
        }
        let Some(bound) = &listener else {
            if watcher.changed().await.is_err() {
                return;
            }
            continue;
        };
        tokio::select! {
            accepted = bound.accept() => {
                let Ok((client, _)) = accepted else { continue };
                tokio::spawn(connection(client, upstream, watcher.clone(), lose_next.clone()));
            }
            changed = watcher.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// The operation (`PutItem`…) named by the `X-Amz-Target` header in this
/// read of a request, if the header is in it.
fn operation(request: &[u8]) -> Option<Vec<u8>> {
    const PREFIX: &[u8] = b"DynamoDB_20120810.";
    let start = request.windows(PREFIX.len()).position(|w| w == PREFIX)? + PREFIX.len();
    let rest = &request[start..];
    let end = rest.iter().position(|b| *b == b'\r')?;
    Some(rest[..end].to_vec())
}

/// Answers to lose: how many more, to requests of which operation.
#[derive(Default)]
struct Losses {
    left: AtomicU32,
    operation: std::sync::Mutex<Vec<u8>>,
}

impl Losses {
    fn targets(&self, operation: &[u8]) -> bool {
        *self.operation.lock().unwrap() == operation
    }

    /// Whether to lose this answer (one fewer to lose if so).
    fn take_one(&self) -> bool {
        self.left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok()
    }
}

/// Closes `stream` with a reset rather than an orderly shutdown.
// Deprecated because a non-zero linger blocks on drop; a zero one does not.
#[allow(deprecated)]
fn reset(stream: TcpStream) {
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

async fn connection(
    mut client: TcpStream,
    upstream: SocketAddr,
    watcher: watch::Receiver<Fault>,
    lose_next: Arc<Losses>,
) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        reset(client);
        return;
    };
    {
        let (mut client_read, mut client_write) = client.split();
        let (mut server_read, mut server_write) = server.split();
        let mut requests = watcher.clone();
        // HTTP/1.1 on one connection is request, answer, request...: the next
        // answer belongs to the last request seen.
        let last = std::sync::Mutex::new(None);
        let upward = async {
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let n = match client_read.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let fault = *requests.borrow_and_update();
                match fault {
                    Fault::Pass | Fault::LoseTransactionAnswers => {}
                    Fault::Delay(delay) => tokio::time::sleep(delay).await,
                    // Swallow the request; hold the connection until the fault changes.
                    Fault::Stall => {
                        let _ = requests.changed().await;
                        return;
                    }
                    Fault::Refuse | Fault::Reset => return,
                }
                if let Some(operation) = operation(&buffer[..n]) {
                    *last.lock().unwrap() = Some(operation);
                }
                if server_write.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        };
        let downward = async {
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let n = match server_read.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let lose = last.lock().unwrap().take().is_some_and(|operation| {
                    (lose_next.targets(&operation) && lose_next.take_one())
                        || (operation == b"TransactWriteItems"
                            && *watcher.borrow() == Fault::LoseTransactionAnswers)
                });
                if lose {
                    return;
                }
                if client_write.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        };
        // Whichever direction ends first ends the connection.
        tokio::select! {
            () = upward => {}
            () = downward => {}
        }
    }
    // An orderly close, except under Reset and Refuse: the client sees its
    // connection torn down (RST) mid-request.
    if matches!(*watcher.borrow(), Fault::Reset | Fault::Refuse) {
        reset(client);
    }
    reset(server);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operation_is_read_from_the_target_header_and_only_from_it() {
        let head = b"POST / HTTP/1.1\r\nx-amz-target: DynamoDB_20120810.PutItem\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(operation(head).as_deref(), Some(&b"PutItem"[..]));
        assert_eq!(
            operation(b"{\"TableName\":\"t\"}"),
            None,
            "a body read alone"
        );
        let losses = Losses::default();
        *losses.operation.lock().unwrap() = b"PutItem".to_vec();
        assert!(losses.targets(b"PutItem"));
        assert!(!losses.targets(b"BatchPutItem"));
    }
}
